// @s3vend/client: temporary AWS credentials from an s3vend token vendor for
// AWS SDK for JavaScript v3, in browsers and Node. See README.md.
//
// The multipart upload helper is a separate entry point,
// "@s3vend/client/upload", so that apps without it do not bundle
// @aws-sdk/lib-storage. The access-rule helpers are also
// "@s3vend/client/rules", with no AWS SDK import at all.

export { fromS3Vend, DEFAULT_REFRESH_WINDOW_MS } from "./provider.js";
export { VendorError } from "./vendor.js";
export { VENDOR_ERROR_CODES } from "./codes.js";
export { privateKey, protectedKey, publicKey, privatePrefix, protectedPrefix } from "./keys.js";
export { parseAccessRules, key, keyPrefix, AccessRuleError, DEFAULT_ACCESS_RULES } from "./rules.js";
