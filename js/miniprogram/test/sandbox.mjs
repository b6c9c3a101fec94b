// Runs the bundled SDK (dist/s3vend-miniprogram.js) as a mini-program
// would: in a separate JS realm (node:vm) whose globals are ECMAScript's
// own plus wx, console and timers. No fetch, Buffer, TextEncoder, crypto,
// require or process: code that needs anything else fails here. The
// realm's Date is the device clock, which a test can set off by skewMs.
import vm from "node:vm";
import fs from "node:fs";

/**
 * @param {string} file the bundle
 * @param {object} [o]
 * @param {object} [o.wx] the wx shim
 * @param {number} [o.skewMs] device clock minus real time
 * @returns {{exports: any, context: object, setSkew(ms: number): void, realm: {ArrayBuffer: ArrayBufferConstructor}}}
 */
export function loadSDK(file, o = {}) {
  const clock = { skew: o.skewMs ?? 0 };
  const context = vm.createContext({ console, setTimeout, clearTimeout, __clock: clock });
  // The device clock: every Date of the realm, Date.now() and new Date()
  // alike, is off by clock.skew.
  vm.runInContext(`(function () {
    var Real = Date, c = __clock;
    function D() {
      if (!(this instanceof D)) return new Real(Real.now() + c.skew).toString();
      var args = Array.prototype.slice.call(arguments);
      return args.length === 0 ? new Real(Real.now() + c.skew) : new (Function.prototype.bind.apply(Real, [null].concat(args)))();
    }
    D.prototype = Real.prototype;
    D.now = function () { return Real.now() + c.skew; };
    D.parse = Real.parse; D.UTC = Real.UTC;
    Date = D;
    delete globalThis.__clock;
  })()`, context);
  const realm = { ArrayBuffer: vm.runInContext("ArrayBuffer", context) };
  if (o.wx) context.wx = o.wx;
  const exports = runModule(context, file, (name) => { throw new Error(`require(${JSON.stringify(name)}): the bundle must need no module`); });
  return { exports, context, realm, setSkew: (ms) => { clock.skew = ms; }, run: (f, req) => runModule(context, f, req) };
}

/**
 * Runs a CommonJS file in context as a mini-program runs each file: inside
 * a module function (its top-level names are locals, not globals of the
 * realm, which V8 reaches far slower), with require resolved by req.
 * @returns {any} module.exports
 */
function runModule(context, file, req) {
  const module = { exports: {} };
  const fn = vm.compileFunction(fs.readFileSync(file, "utf8"), ["module", "exports", "require"], { parsingContext: context, filename: file });
  fn(module, module.exports, req);
  return module.exports;
}
