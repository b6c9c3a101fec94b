// UTF-8 without TextEncoder/TextDecoder, which the mini-program JS engines
// do not all provide (the base library polyfills ECMAScript with core-js,
// which has no Encoding API:
// https://developers.weixin.qq.com/miniprogram/dev/framework/runtime/js-support.html).
// The bundler injects these classes for the free TextEncoder/TextDecoder
// identifiers of the bundled libraries (esbuild "inject", build.mjs), so
// the SDK never touches or needs the globals.

export class TextEncoder {
  get encoding () { return 'utf-8' }

  /**
   * @param {string} [input]
   * @returns {Uint8Array}
   */
  encode (input) {
    const s = input === undefined ? '' : String(input)
    const out = []
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i)
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1)
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
          i++
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd // lone surrogate
      if (c < 0x80) {
        out.push(c)
      } else if (c < 0x800) {
        out.push(0xc0 | (c >> 6), 0x80 | (c & 63))
      } else if (c < 0x10000) {
        out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
      } else {
        out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
      }
    }
    return new Uint8Array(out)
  }
}

export class TextDecoder {
  get encoding () { return 'utf-8' }

  /**
   * @param {ArrayBuffer | ArrayBufferView} [input]
   * @returns {string}
   */
  decode (input) {
    if (!input) return ''
    const b = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    let s = ''
    for (let i = 0; i < b.length;) {
      const c = b[i]
      let cp = 0xfffd
      let n = 1
      if (c < 0x80) {
        cp = c
      } else if (c >= 0xc2 && c < 0xe0 && i + 1 < b.length) {
        cp = ((c & 31) << 6) | (b[i + 1] & 63); n = 2
      } else if (c >= 0xe0 && c < 0xf0 && i + 2 < b.length) {
        cp = ((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63); n = 3
      } else if (c >= 0xf0 && c < 0xf5 && i + 3 < b.length) {
        cp = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63); n = 4
      }
      i += n
      if (cp >= 0x10000) {
        cp -= 0x10000
        s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff))
      } else {
        s += String.fromCharCode(cp)
      }
    }
    return s
  }
}
