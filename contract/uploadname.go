package contract

import (
	"mime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// InvalidUpload is a refused POST /v1/upload request. Field is the request
// field at fault (name, size, contentType, visibility or rule) and Message fixed
// text that names the rule and the limit; neither ever echoes the input, so
// the vendor can return it as is and a client can check a request before
// sending it with the same rules.
type InvalidUpload struct {
	Field   string
	Message string
}

func (e *InvalidUpload) Error() string { return "invalid upload " + e.Field }

// The rules of an upload's name (CheckUploadName), each with its fixed text.
var (
	errNameUTF8      = &InvalidUpload{"name", "name must be valid UTF-8."}
	errNameControl   = &InvalidUpload{"name", "name must not contain control characters (U+0000-U+001F, U+007F-U+009F)."}
	errNameInvisible = &InvalidUpload{"name", "name must not contain invisible format characters (Unicode category Cf: bidirectional overrides such as U+202E, zero-width characters, U+FEFF), except a zero-width joiner inside an emoji sequence."}
	errNameNonchar   = &InvalidUpload{"name", "name must not contain Unicode noncharacters (U+FDD0-U+FDEF, U+FFFE, U+FFFF and their counterparts in every plane)."}
	errNameNFC       = &InvalidUpload{"name", "name must be in Unicode Normalization Form C (NFC): normalize it before uploading, so that one name is one key."}
	errNameURL       = &InvalidUpload{"name", `name must not contain "%", "?" or "#" (they change a key's meaning in URLs and tools).`}
	errNameLookalike = &InvalidUpload{"name", `name must not contain characters that look like "/" or "\" (such as U+FF0F FULLWIDTH SOLIDUS or U+2215 DIVISION SLASH).`}
	errNamePath      = &InvalidUpload{"name", `name must be a relative path of non-empty segments: no leading or trailing "/", no "//", no "." or ".." segment (in any width), no "\".`}
	errNameTemplate  = &InvalidUpload{"name", `name must not contain "${filename}" (S3 substitutes it in POST uploads).`}
	errContentParams = &InvalidUpload{"contentType", "contentType may carry no parameter but charset, whose value must be one of " + strings.Join(UploadCharsets, ", ") + "."}
)

// UploadCharsets are the charset values a signed Content-Type may carry:
// UTF-8, ASCII and Latin-1, and the legacy encodings of the Chinese,
// Japanese and Korean markets s3vend serves (WHATWG Encoding Standard
// names). UTF-7 and the like, which browsers once sniffed into script, are
// not among them.
var UploadCharsets = []string{"utf-8", "us-ascii", "iso-8859-1", "gb18030", "gbk", "big5", "shift_jis", "euc-jp", "euc-kr"}

// slashLookalikes are characters shown like "/" or "\" whose compatibility
// decomposition (NFKC) is not one; those whose NFKC is "/" or "\" (U+FF0F,
// U+FF3C, U+FE68) are caught by that.
var slashLookalikes = []rune{0x2044, 0x2215, 0x2216, 0x29F5, 0x29F8, 0x29F9}

// CheckUploadName validates the caller-chosen part of an upload's key. A
// name that a signed-in user picks is shown to other users (protected/) and
// to tools that treat keys as paths and URLs, so it must be:
//   - valid UTF-8 without control characters (Cc), invisible format
//     characters (Cf: U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH
//     SPACE, U+FEFF BOM...; a U+200D ZERO WIDTH JOINER is allowed between
//     emoji, where emoji ZWJ sequences use it) or noncharacters;
//   - in NFC (golang.org/x/text/unicode/norm), so that NFD and NFC spellings
//     of one name cannot be two keys that look the same;
//   - free of "%", "?" and "#", and of characters that look like "/" or "\";
//   - a relative path whose segments are neither empty, "." nor "..", also
//     after compatibility mapping (U+FF0E FULLWIDTH FULL STOP twice, U+2025),
//     without backslashes or S3's POST template "${filename}".
//
// It returns nil or the *InvalidUpload naming the rule.
func CheckUploadName(name string) *InvalidUpload {
	if !utf8.ValidString(name) {
		return errNameUTF8
	}
	if name == "" || strings.ContainsRune(name, '\\') {
		return errNamePath
	}
	runes := []rune(name)
	for i, r := range runes {
		switch {
		case unicode.IsControl(r):
			return errNameControl
		case isNoncharacter(r):
			return errNameNonchar
		case unicode.Is(unicode.Cf, r) && !(r == 0x200D && emojiJoiner(runes, i)):
			return errNameInvisible
		case r == '%' || r == '?' || r == '#':
			return errNameURL
		case slices.Contains(slashLookalikes, r):
			return errNameLookalike
		case r > unicode.MaxASCII && strings.ContainsAny(norm.NFKC.String(string(r)), `/\`):
			return errNameLookalike
		}
	}
	if !norm.NFC.IsNormalString(name) {
		return errNameNFC
	}
	for seg := range strings.SplitSeq(name, "/") {
		if k := norm.NFKC.String(seg); seg == "" || k == "." || k == ".." {
			return errNamePath
		}
	}
	if strings.Contains(name, "${filename}") {
		return errNameTemplate
	}
	return nil
}

// isNoncharacter: U+FDD0..U+FDEF and the last two code points of every
// plane (Unicode Standard, section 23.7 "Noncharacters").
func isNoncharacter(r rune) bool {
	return (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// emojiJoiner reports whether the U+200D at runes[i] joins two emoji, as in
// an emoji ZWJ sequence (UTS #51): the previous rune is a symbol (So), an
// emoji modifier (Sk, U+1F3FB-U+1F3FF) or the emoji presentation selector
// U+FE0F, and the next one is a symbol.
func emojiJoiner(runes []rune, i int) bool {
	if i == 0 || i == len(runes)-1 {
		return false
	}
	prev, next := runes[i-1], runes[i+1]
	return (unicode.Is(unicode.So, prev) || unicode.Is(unicode.Sk, prev) || prev == 0xFE0F) && unicode.Is(unicode.So, next)
}

// ParseUploadContentType parses a declared Content-Type into its media type
// (lower case) and the form to sign: the media type with at most a charset
// parameter from UploadCharsets (lower case). A value that does not parse
// returns ok false (the caller names the allowed media types); a parameter
// other than charset, or another charset, returns the *InvalidUpload that
// names the rule ("image/png; name=evil.html", "text/plain; charset=utf-7").
func ParseUploadContentType(v string) (mediaType, signed string, ok bool, refused *InvalidUpload) {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "", "", false, nil
	}
	for k, val := range params {
		if k != "charset" || !slices.Contains(UploadCharsets, strings.ToLower(val)) {
			return mt, "", true, errContentParams
		}
		params[k] = strings.ToLower(val)
	}
	return mt, mime.FormatMediaType(mt, params), true, nil
}
