package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/s3vend/s3vend/client"
)

// Issue 16, item 4: a vendor answer of 301/302/303/307/308 is never
// followed: a 307/308 would re-POST the login to wherever Location points
// (another host, plain http), and the others would turn it into a GET.
func TestVendorCallsDoNotFollowRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		var elsewhere atomic.Int64
		thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if len(body) > 0 || r.Method == http.MethodPost {
				elsewhere.Add(1)
			}
			elsewhere.Add(1)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"identityId":"x","token":"t","loginKey":"k","region":"r","accessKeyId":"A","secretAccessKey":"S","expiration":"2099-01-01T00:00:00Z"}`))
		}))
		vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, thief.URL+r.URL.Path, status)
		}))
		for _, hc := range []*http.Client{nil, {}} { // the default client, and a caller's own
			creds, err := client.New(vendor.URL+"/v1/token", login, func(o *client.Options) {
				o.HTTPClient, o.Flow, o.MaxAttempts = hc, client.FlowBasic, 1
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = creds.Cache().Retrieve(context.Background())
			var ve *client.VendorError
			if !errors.As(err, &ve) || ve.Status != status {
				t.Errorf("%d (own client %v): err = %v, want a *VendorError with status %d", status, hc != nil, err, status)
			}
		}
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("SECURITY: a %d redirect was followed (%d requests reached the redirect target)", status, n)
		}
		vendor.Close()
		thief.Close()
	}
}

// Issue 16, item 4: plain http only for a loopback vendor (local stand-ins);
// anything else must be https, so a login never crosses a network in clear.
func TestPlainHTTPOnlyForLoopback(t *testing.T) {
	for endpoint, ok := range map[string]bool{
		"http://127.0.0.1:8080/v1/token":      true,
		"http://127.8.9.10/v1/token":          true,
		"http://localhost:9000/v1/token":      true,
		"http://[::1]:9000/v1/token":          true,
		"https://api.example.com/v1/token":    true,
		"http://api.example.com/v1/token":     false,
		"http://10.0.0.1/v1/token":            false,
		"http://127.0.0.1.nip.io/v1/token":    false,
		"http://localhost.example.com/v1/tok": false,
		"http://[::ffff:8.8.8.8]/v1/token":    false,
	} {
		_, err := client.NewVendor(endpoint)
		switch {
		case ok && err != nil:
			t.Errorf("%s: %v", endpoint, err)
		case !ok && (err == nil || !strings.Contains(err.Error(), "https")):
			t.Errorf("SECURITY: %s accepted (err %v), want a refusal asking for https", endpoint, err)
		}
	}
}
