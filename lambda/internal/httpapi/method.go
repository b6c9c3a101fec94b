package httpapi

import "net/http"

// knownMethod is what the access log records as the method: a standard HTTP
// method, or "other". The raw method is caller data of any length (a
// 20,000-character method made a 20 KB log line in local mode).
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}
