// S3 key helpers for the bucket's per-identity layout: the roles allow an
// identity private/<its id>/* (read, write) and protected/<its id>/* (write;
// every signed-in user reads protected/*), and everyone reads public/*.

// A Cognito identity id: "<region>:<uuid>" (GetId, "IdentityId ... Pattern:
// [\w-]+:[0-9a-f-]+", Amazon Cognito Identity API Reference).
export const IDENTITY_ID = /^[\w-]+:[0-9a-f-]+$/;

/**
 * @param {string} fn
 * @param {unknown} id
 */
function checkId(fn, id) {
  if (typeof id !== "string" || !IDENTITY_ID.test(id)) {
    throw new TypeError(`${fn}: identityId must be a Cognito identity id "<region>:<uuid>"`);
  }
}

/**
 * @param {string} fn
 * @param {unknown} name
 */
function relative(fn, name) {
  if (typeof name !== "string") throw new TypeError(`${fn}: name must be a string`);
  const n = name.replace(/^\/+/, "");
  if (n === "") throw new TypeError(`${fn}: name must not be empty`);
  return n;
}

/**
 * "private/<identityId>/<name>": only this identity reads and writes it.
 * @param {string} identityId
 * @param {string} name
 */
export function privateKey(identityId, name) {
  checkId("privateKey", identityId);
  return `private/${identityId}/${relative("privateKey", name)}`;
}

/**
 * "protected/<identityId>/<name>": this identity writes it, every signed-in user reads it.
 * @param {string} identityId
 * @param {string} name
 */
export function protectedKey(identityId, name) {
  checkId("protectedKey", identityId);
  return `protected/${identityId}/${relative("protectedKey", name)}`;
}

/**
 * "public/<name>": anyone reads it; only the bucket owner writes it.
 * @param {string} name
 */
export function publicKey(name) {
  return `public/${relative("publicKey", name)}`;
}

/**
 * The prefix of an identity's own objects, "private/<identityId>/" (for
 * ListObjectsV2 Prefix).
 * @param {string} identityId
 */
export function privatePrefix(identityId) {
  checkId("privatePrefix", identityId);
  return `private/${identityId}/`;
}

/**
 * "protected/<identityId>/".
 * @param {string} identityId
 */
export function protectedPrefix(identityId) {
  checkId("protectedPrefix", identityId);
  return `protected/${identityId}/`;
}
