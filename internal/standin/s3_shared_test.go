package standin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3vend/s3vend/client"
)

// Issue 16, item 2: another user's protected/ object, HTML declared as
// text/html, is served through client.SharedObjectInput's presigned URL
// as a download (attachment, application/octet-stream), whatever its
// uploader declared; an anonymous request cannot use the overrides.
func TestS3SharedObjectIsServedAsADownload(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	owner := f.client(f.srv, f.user(idD))
	bucket := f.model.BucketName()
	key := "protected/" + f.model.Region() + idD + "/evil page.html"
	if _, err := owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("<script>alert(document.domain)</script>"), ContentType: aws.String("text/html")}); err != nil {
		t.Fatal(err)
	}
	reader := f.client(f.srv, f.user(idB))
	for name, in := range map[string]*s3.GetObjectInput{
		"shared":          client.SharedObjectInput(bucket, key),
		"plain (control)": {Bucket: aws.String(bucket), Key: aws.String(key)},
	} {
		req, err := s3.NewPresignClient(reader).PresignGetObject(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.srv.Client().Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition")
		switch {
		case resp.StatusCode != http.StatusOK:
			t.Errorf("%s: %d", name, resp.StatusCode)
		case name == "shared" && (ct != client.Download || cd != `attachment; filename="evil page.html"`):
			t.Errorf("SECURITY: shared object served as %q, %q", ct, cd)
		case name != "shared" && ct != "text/html":
			t.Errorf("control: %q", ct)
		}
	}
	anon, err := http.NewRequest(http.MethodGet, f.srv.URL+"/"+bucket+"/public/x.txt?response-content-type=text/html", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.s3.PutObject("public/x.txt", []byte("x"), "text/plain")
	resp, err := f.srv.Client().Do(anon)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>InvalidRequest</Code>") {
		t.Errorf("anonymous override: %d %s", resp.StatusCode, body)
	}
}
