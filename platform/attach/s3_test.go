package attach

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The signature of AWS's own example for Signature Version 4 in S3 ("GET Object", in the S3 API
// reference's "Examples: Signature Calculations in AWS Signature Version 4").
func TestS3SignatureMatchesAWSExample(t *testing.T) {
	s := &S3{Region: "us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	req.Header.Set("Range", "bytes=0-9")
	s.sign(req, emptySHA, time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization:\n got %s\nwant %s", got, want)
	}
	if !strings.HasPrefix(req.Header.Get("X-Amz-Date"), "20130524T") {
		t.Errorf("X-Amz-Date = %q", req.Header.Get("X-Amz-Date"))
	}
}

// fakeS3 is a small S3-compatible server: it keeps what is PUT by path, refuses unsigned requests and
// a payload whose hash is not the one signed, answers 404 for a missing object, and serves ranges as S3
// does (206 with Content-Range, 416 past the end). puts counts the objects stored.
func fakeS3(t *testing.T) (srv *httptest.Server, objects map[string][]byte, puts *int) {
	objects, puts = map[string][]byte{}, new(int)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=key/") ||
			(r.Header.Get("Range") != "" && !strings.Contains(r.Header.Get("Authorization"), "range;")) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		switch r.Method {
		case http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != r.Header.Get("X-Amz-Content-Sha256") {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			*puts++
			objects[r.URL.Path] = b
		case http.MethodGet, http.MethodHead:
			b, ok := objects[r.URL.Path]
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, objects, puts
}

// A bucket on a small S3-compatible server (fakeS3).
func TestS3RoundTrip(t *testing.T) {
	srv, objects, puts := fakeS3(t)
	ctx := context.Background()
	s := &S3{Endpoint: srv.URL, Bucket: "crm", Region: "cn-north-1", AccessKeyID: "key", SecretAccessKey: "secret"}
	content := "%PDF-1.4 a scanned contract"
	for range 2 {
		sha, n, err := s.Put(ctx, strings.NewReader(content))
		if err != nil || n != int64(len(content)) {
			t.Fatalf("Put = %s, %d, %v", sha, n, err)
		}
		if _, ok := objects["/crm/files/"+sha[:2]+"/"+sha[2:4]+"/"+sha]; !ok {
			t.Fatalf("not stored under its hash: %v", objects)
		}
		rc, err := s.Open(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != content {
			t.Errorf("Open read %q", b)
		}
	}
	if *puts != 1 {
		t.Errorf("the same content was uploaded %d times; want once", puts)
	}
	if _, err := s.Open(ctx, strings.Repeat("0", 64)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing object = %v; want not exist", err)
	}
	testPeek(t, s)
}
