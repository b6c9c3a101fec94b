// The globals of a mini-program's JS realm that the SDK uses besides
// ECMAScript: wx (https://developers.weixin.qq.com/miniprogram/dev/api/)
// and timers. Typed loosely: the SDK checks what it reads.
declare const wx: any
declare function setTimeout (callback: () => void, ms: number): number
