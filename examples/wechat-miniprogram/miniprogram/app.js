// One SDK client for the whole mini-program. utils/s3vend-miniprogram.js is
// the SDK's bundle (node js/miniprogram/build.mjs --out
// examples/wechat-miniprogram/miniprogram/utils/s3vend-miniprogram.js), or
// use mini-program npm support with @s3vend/miniprogram.
const { createClient } = require('./utils/s3vend-miniprogram.js')
const config = require('./config.js')

App({
  onLaunch: function () {
    this.s3 = createClient(config)
  }
})
