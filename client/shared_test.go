package client_test

import (
	"mime"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/client"
)

// A user-chosen file name can neither end the header value nor add a
// parameter, and round-trips through a standard parser.
func TestAttachmentDisposition(t *testing.T) {
	for _, name := range []string{"cat.png", "evil\r\nX-Injected: 1.html", `a"; filename="b.html`, "照片 (1).jpg", "100%;x=y"} {
		v := client.AttachmentDisposition(name)
		disp, params, err := mime.ParseMediaType(v)
		if err != nil || disp != "attachment" || len(params) != 1 || params["filename"] != name || strings.ContainsAny(v, "\r\n") {
			t.Errorf("%q: %q parsed as %q %v %v", name, v, disp, params, err)
		}
	}
}
