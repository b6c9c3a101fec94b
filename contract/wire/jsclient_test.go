package wire_test

import (
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract/wire"
)

// TestJSClientErrorTable keeps @s3vend/client's copy of the error table
// (js/client/src/codes.js: VENDOR_ERROR_CODES, code -> status, and
// RETRYABLE_STATUSES) equal to this package's: every code of Errors and
// UploadFieldCodes with its status, and the statuses Retryable accepts.
func TestJSClientErrorTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "js", "client", "src", "codes.js"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	table := regexp.MustCompile(`(?s)VENDOR_ERROR_CODES = Object\.freeze\(\{(.*?)\}\);`).FindStringSubmatch(src)
	retry := regexp.MustCompile(`RETRYABLE_STATUSES = Object\.freeze\(\[([\d, ]*)\]\);`).FindStringSubmatch(src)
	if table == nil || retry == nil {
		t.Fatal("codes.js: no VENDOR_ERROR_CODES = Object.freeze({...}); or RETRYABLE_STATUSES = Object.freeze([...]);")
	}
	js := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([a-z_]+): (\d{3}),$`).FindAllStringSubmatch(table[1], -1) {
		js[m[1]], _ = strconv.Atoi(m[2])
	}
	want := map[string]int{}
	for _, e := range wire.Errors {
		want[e.Code] = e.Status
	}
	for _, code := range wire.UploadFieldCodes {
		want[code] = http.StatusBadRequest
	}
	if !maps.Equal(js, want) {
		var diff []string
		for _, c := range slices.Sorted(maps.Keys(want)) {
			if js[c] != want[c] {
				diff = append(diff, c+": wire "+strconv.Itoa(want[c])+", codes.js "+strconv.Itoa(js[c]))
			}
		}
		for _, c := range slices.Sorted(maps.Keys(js)) {
			if _, ok := want[c]; !ok {
				diff = append(diff, c+": only in codes.js")
			}
		}
		t.Fatalf("js/client/src/codes.js is out of step with contract/wire:\n%s", strings.Join(diff, "\n"))
	}
	var jsRetry, wantRetry []int
	for _, s := range strings.Split(retry[1], ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("RETRYABLE_STATUSES: %q", retry[1])
		}
		jsRetry = append(jsRetry, n)
	}
	for s := 100; s < 600; s++ {
		if wire.Retryable(s) {
			wantRetry = append(wantRetry, s)
		}
	}
	if !slices.Equal(jsRetry, wantRetry) {
		t.Fatalf("codes.js RETRYABLE_STATUSES %v, wire.Retryable %v", jsRetry, wantRetry)
	}
}

// TestJSClientWireFields: the routes @s3vend/client posts to and every
// field it reads from a vendor answer (r.<field> in js/client/src/provider.js)
// are this package's routes and JSON names, so a rename on either side fails.
func TestJSClientWireFields(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "js", "client", "src", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	vendor, provider := read("vendor.js"), read("provider.js")
	for js, route := range map[string]string{"token": wire.RouteToken, "credentials": wire.RouteCredentials, "guest": wire.RouteGuest} {
		if !strings.Contains(vendor, js+`: "`+route+`",`) {
			t.Errorf("vendor.js ROUTES lacks %s: %q", js, route)
		}
	}
	tags := map[string]bool{}
	for _, v := range []any{wire.TokenResponse{}, wire.CredentialsResponse{}, wire.GuestResponse{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			tags[strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]] = true
		}
	}
	fields := regexp.MustCompile(`\br\.([a-zA-Z]+)\b`).FindAllStringSubmatch(provider, -1)
	if len(fields) < 8 {
		t.Fatalf("found %d r.<field> reads in provider.js: the pattern no longer matches how it reads answers", len(fields))
	}
	for _, m := range fields {
		if !tags[m[1]] {
			t.Errorf("provider.js reads r.%s, which no vendor answer has (contract/wire TokenResponse, CredentialsResponse, GuestResponse)", m[1])
		}
	}
	login := reflect.TypeOf(wire.LoginRequest{})
	for i := range login.NumField() {
		if tag := login.Field(i).Tag.Get("json"); !strings.Contains(provider, tag+": l."+tag) {
			t.Errorf("provider.js does not post the login field %q", tag)
		}
	}
}
