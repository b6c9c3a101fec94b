package contract

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key prefixes of the content bucket (the Amplify storage convention): the
// stack's IAM policies grant them and the vendor's upload route signs keys
// under them, so both sides take them from here.
const (
	PublicPrefix    = "public/"
	ProtectedPrefix = "protected/"
	PrivatePrefix   = "private/"
)

// Limits of POST /v1/upload. S3 accepts at most 5 GiB in one PUT or POST
// ("Uploading objects": "With a single PUT operation, you can upload a
// single object up to 5 GB in size"; larger objects need multipart upload,
// which a POST form cannot do).
const (
	DefaultUploadMaxBytes int64 = 10 << 20
	MaxUploadBytes        int64 = 5 << 30
	DefaultUploadExpiry         = 5 * time.Minute
	MinUploadExpiry             = time.Minute
	MaxUploadExpiry             = time.Hour
	// MaxUploadContentTypes bounds the list: it travels in an environment
	// variable, and Lambda allows 4 KB of environment in total.
	MaxUploadContentTypes = 20
)

// DefaultUploadContentTypes returns the media types allowed when none are
// configured (a new slice each time).
func DefaultUploadContentTypes() []string {
	return []string{"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "application/pdf", "text/plain"}
}

// mediaTypeRE is an RFC 6838 type/subtype (restricted-name, 1-127 characters
// each), already lower-cased. No parameters and no wildcards.
var mediaTypeRE = newLazyRegexp(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)

// UploadLimits configure POST /v1/upload: the largest object, the media
// types a form may declare, and how long a signed form stays valid. cdk.json
// ("upload") and the service (S3VEND_UPLOAD_*) both go through Normalize.
type UploadLimits struct {
	MaxBytes     int64         // 1..MaxUploadBytes; 0: DefaultUploadMaxBytes
	ContentTypes []string      // media types (case-insensitive); nil: DefaultUploadContentTypes
	Expiry       time.Duration // MinUploadExpiry..MaxUploadExpiry, whole seconds; 0: DefaultUploadExpiry
}

// Normalize validates u and returns a copy with defaults applied and the
// media types lower-cased. The error is a FieldErrors naming the field at
// fault: maxBytes, contentTypes[i] or expiry.
func (u UploadLimits) Normalize() (UploadLimits, error) {
	return u.normalize(func(field string) string { return field })
}

func (u UploadLimits) normalize(name func(field string) string) (UploadLimits, error) {
	var errs FieldErrors
	bad := func(field, format string, args ...any) { errs.Add(name(field), format, args...) }
	switch {
	case u.MaxBytes == 0:
		u.MaxBytes = DefaultUploadMaxBytes
	case u.MaxBytes < 1 || u.MaxBytes > MaxUploadBytes:
		bad("maxBytes", "%d must be from 1 to %d bytes (5 GiB, S3's limit for one POST)", u.MaxBytes, MaxUploadBytes)
	}
	switch {
	case u.ContentTypes == nil:
		u.ContentTypes = DefaultUploadContentTypes()
	case len(u.ContentTypes) == 0 || len(u.ContentTypes) > MaxUploadContentTypes:
		bad("contentTypes", "list 1 to %d media types, like \"image/jpeg\" (leave it out for the defaults)", MaxUploadContentTypes)
	default:
		types := make([]string, len(u.ContentTypes))
		for i, t := range u.ContentTypes {
			types[i] = strings.ToLower(t)
			field := fmt.Sprintf("contentTypes[%d]", i)
			switch {
			case !mediaTypeRE.MatchString(types[i]):
				bad(field, "%q is not a media type like \"image/jpeg\" (type/subtype, no parameters or wildcards)", t)
			case slices.Contains(types[:i], types[i]):
				bad(field, "%q is listed twice", t)
			}
		}
		u.ContentTypes = types
	}
	switch {
	case u.Expiry == 0:
		u.Expiry = DefaultUploadExpiry
	case u.Expiry < MinUploadExpiry || u.Expiry > MaxUploadExpiry || u.Expiry%time.Second != 0:
		bad("expiry", "%s must be whole seconds from %s to %s", u.Expiry, MinUploadExpiry, MaxUploadExpiry)
	}
	if len(errs) > 0 {
		return UploadLimits{}, errs
	}
	return u, nil
}

// Env returns the environment variables that carry u (normalized) to the
// service; ParseUploadEnv reads them back.
func (u UploadLimits) Env() map[string]string {
	return map[string]string{
		EnvUploadMaxBytes:     strconv.FormatInt(u.MaxBytes, 10),
		EnvUploadContentTypes: strings.Join(u.ContentTypes, ","),
		EnvUploadExpiry:       strconv.Itoa(int(u.Expiry / time.Second)),
	}
}

var uploadEnvNames = map[string]string{
	"maxBytes": EnvUploadMaxBytes, "contentTypes": EnvUploadContentTypes, "expiry": EnvUploadExpiry,
}

// ParseUploadEnv reads S3VEND_UPLOAD_MAX_BYTES (decimal bytes),
// S3VEND_UPLOAD_CONTENT_TYPES (comma-separated media types) and
// S3VEND_UPLOAD_EXPIRY_SECONDS; an unset variable takes the default. Errors
// name the variable.
func ParseUploadEnv(getenv func(string) string) (UploadLimits, error) {
	var u UploadLimits
	var errs FieldErrors
	u.MaxBytes = envCount(getenv, EnvUploadMaxBytes, &errs, "must be an integer number of bytes from 1 to %d", MaxUploadBytes)
	if v := getenv(EnvUploadContentTypes); v != "" {
		u.ContentTypes = strings.Split(v, ",")
	}
	u.Expiry = time.Duration(envCount(getenv, EnvUploadExpiry, &errs, "must be an integer number of seconds from %d to %d",
		int(MinUploadExpiry/time.Second), int(MaxUploadExpiry/time.Second))) * time.Second
	if len(errs) > 0 {
		return UploadLimits{}, errs
	}
	return u.normalize(func(field string) string {
		base, index, _ := strings.Cut(field, "[")
		if index != "" {
			return uploadEnvNames[base] + " entry " + strings.TrimSuffix(index, "]")
		}
		return uploadEnvNames[base]
	})
}

// bucketNameRE: general purpose bucket names are 3-63 characters of lower-case
// letters, digits, '.' and '-', beginning and ending with a letter or digit
// (S3 User Guide, "General purpose bucket naming rules").
var bucketNameRE = newLazyRegexp(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ValidBucketName reports whether name is a valid general purpose bucket name.
func ValidBucketName(name string) bool {
	return bucketNameRE.MatchString(name) && !strings.Contains(name, "..")
}
