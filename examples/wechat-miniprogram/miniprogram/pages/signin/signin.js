// Sign in: wx.login → POST /v1/session (the SDK's signIn), then the gallery.
Page({
  data: { busy: false, error: '' },

  onSignIn: function () {
    const page = this
    page.setData({ busy: true, error: '' })
    return getApp().s3.signIn().then(function () {
      page.setData({ busy: false })
      wx.redirectTo({ url: '/pages/gallery/gallery' })
    }, function (err) {
      // err is an S3VendError {status, code, message}
      page.setData({ busy: false, error: err.code + ': ' + err.message })
    })
  }
})
