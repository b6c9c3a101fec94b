package contract

import "strconv"

// envCount reads the whole number in the environment variable name, for
// settings in which 0 means unset (Normalize then applies the default):
// unset, it is 0. An explicit 0 is refused with anything that is not a whole
// number, the error (format, a) added to errs under name, since it would read
// as unset and silently take the default.
func envCount(getenv func(string) string, name string, errs *FieldErrors, format string, a ...any) int64 {
	v := getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		errs.Add(name, format, a...)
	}
	return n
}
