// The few S3 XML documents the SDK reads (ListBucketResult,
// InitiateMultipartUploadResult, CompleteMultipartUploadResult, Error).
// Mini-programs have no DOMParser; S3's REST responses are flat, namespaced
// documents without attributes on the elements read here or CDATA, so
// element text by tag name is enough
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
// API_CreateMultipartUpload.html, ErrorResponses.html).

/**
 * The text of every <tag>...</tag> in xml, decoded.
 * @param {string} xml
 * @param {string} tag
 * @returns {string[]}
 */
export function tagTexts (xml, tag) {
  return elements(xml, tag).map(decodeEntities)
}

/**
 * The text of the first <tag>, or ''.
 * @param {string} xml
 * @param {string} tag
 */
export function tagText (xml, tag) {
  const all = tagTexts(xml, tag)
  return all.length ? all[0] : ''
}

/**
 * The raw inner XML of every <tag> element (for repeated groups such as <Contents>).
 * @param {string} xml
 * @param {string} tag
 * @returns {string[]}
 */
export function elements (xml, tag) {
  const re = new RegExp('<' + tag + '(?:\\s[^>]*)?>([\\s\\S]*?)</' + tag + '>', 'g')
  const out = []
  let m
  while ((m = re.exec(xml)) !== null) out.push(m[1])
  return out
}

/**
 * The name of the document's root element ('' when none).
 * @param {string} xml
 */
export function rootName (xml) {
  const m = /<([A-Za-z][\w.-]*)[\s>/]/.exec(String(xml).replace(/<\?[\s\S]*?\?>/g, ''))
  return m ? m[1] : ''
}

const NAMED = /** @type {Record<string, string>} */ ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })

/**
 * Decodes XML's predefined and numeric character references.
 * @param {string} s
 */
export function decodeEntities (s) {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, function (all, ref) {
    if (ref.charAt(0) !== '#') return NAMED[ref]
    const n = ref.charAt(1) === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
    if (!(n >= 0 && n <= 0x10ffff)) return all
    if (n <= 0xffff) return String.fromCharCode(n)
    const c = n - 0x10000
    return String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff))
  })
}

/**
 * Escapes text for an XML element.
 * @param {string} s
 */
export function escapeText (s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
