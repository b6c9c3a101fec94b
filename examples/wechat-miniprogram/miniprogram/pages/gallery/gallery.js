// The user's own photos: upload with a progress bar (multipart above 5 MiB,
// cancellable), a grid of private/<identityId>/photos/ through presigned
// URLs (url()), delete. Every request is signed with the user's own
// credentials; the bucket's IAM policy keeps each user to their prefix.
const PREFIX = 'photos/'
const IMAGE = /\.(jpe?g|png|gif|webp|heic)$/i

Page({
  data: { images: [], loading: false, uploading: false, progress: 0, error: '' },

  onLoad: function () {
    return this.refresh()
  },

  onPullDownRefresh: function () {
    return this.refresh().then(function () { wx.stopPullDownRefresh() })
  },

  // list() the photos, then url() each for <image src> (presigned GETs,
  // valid 15 minutes: refresh the page to renew them).
  refresh: function () {
    const page = this
    const s3 = getApp().s3
    page.setData({ loading: true })
    return s3.list({ prefix: PREFIX }).then(function (res) {
      const photos = res.items.filter(function (i) { return IMAGE.test(i.key) })
      return Promise.all(photos.map(function (i) {
        return s3.url({ key: i.key }).then(function (url) { return { key: i.key, url: url } })
      }))
    }).then(function (images) {
      page.setData({ images: images, loading: false })
    }, function (err) {
      page.setData({ loading: false, error: err.code + ': ' + err.message })
    })
  },

  onUpload: function () {
    const page = this
    return new Promise(function (resolve) {
      wx.chooseMedia({
        count: 1,
        mediaType: ['image'],
        success: function (res) { resolve(res.tempFiles[0]) },
        fail: function () { resolve(null) }
      })
    }).then(function (file) {
      if (!file) return
      const ext = (/\.[A-Za-z0-9]+$/.exec(file.tempFilePath) || ['.jpg'])[0]
      page.setData({ uploading: true, progress: 0, error: '' })
      page.task = getApp().s3.upload({
        filePath: file.tempFilePath,
        name: PREFIX + Date.now() + ext,
        onProgress: function (p) { page.setData({ progress: p.progress }) }
      })
      return page.task.then(function () {
        page.setData({ uploading: false })
        return page.refresh()
      }, function (err) {
        page.setData({ uploading: false, error: err.code === 'cancelled' ? '' : err.code + ': ' + err.message })
      })
    })
  },

  onCancel: function () {
    if (this.task) this.task.cancel()
  },

  onDelete: function (e) {
    const page = this
    const key = e.currentTarget.dataset.key
    return new Promise(function (resolve) {
      wx.showModal({
        title: 'Delete this photo?',
        success: function (res) { resolve(res.confirm) },
        fail: function () { resolve(false) }
      })
    }).then(function (confirmed) {
      if (!confirmed) return
      return getApp().s3.remove({ key: key }).then(function () {
        return page.refresh()
      }, function (err) {
        page.setData({ error: err.code + ': ' + err.message })
      })
    })
  }
})
