package attach

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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

// The signature of AWS's example of a request with a query ("GET Bucket (List Objects)" in the same
// examples): the query is signed as canonicalQuery sends it, sorted by name.
func TestS3SignatureOfAQueryMatchesAWSExample(t *testing.T) {
	s := &S3{Region: "us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/?"+canonicalQuery(url.Values{"prefix": {"J"}, "max-keys": {"2"}}), nil)
	s.sign(req, emptySHA, time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization:\n got %s\nwant %s", got, want)
	}
	if got := canonicalQuery(url.Values{"continuation-token": {"a b+c/="}, "list-type": {"2"}}); got != "continuation-token=a%20b%2Bc%2F%3D&list-type=2" {
		t.Errorf("canonicalQuery = %s", got)
	}
}

// fakeS3 is a small S3-compatible server: it keeps what is PUT by path, refuses unsigned requests and
// a payload whose hash is not the one signed, answers 404 for a missing object, and serves ranges as S3
// does (206 with Content-Range, 416 past the end). puts counts the objects stored. It lists a bucket
// (ListObjectsV2, two keys a page, so that a walk follows continuation tokens) and deletes objects.
func fakeS3(t *testing.T) (srv *httptest.Server, objects map[string][]byte, puts *int) {
	objects, puts = map[string][]byte{}, new(int)
	modified := map[string]time.Time{}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=key/") || r.URL.RawQuery != canonicalQuery(r.URL.Query()) {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			bucket, prefix := r.URL.Path+"/", r.URL.Query().Get("prefix")
			var keys []string
			for k := range objects {
				if key := strings.TrimPrefix(k, bucket); key != k && strings.HasPrefix(key, prefix) && key > r.URL.Query().Get("continuation-token") {
					keys = append(keys, key)
				}
			}
			slices.Sort(keys)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
			for i, k := range keys {
				if i == 2 {
					fmt.Fprintf(w, "<IsTruncated>true</IsTruncated><NextContinuationToken>%s</NextContinuationToken>", keys[1])
					break
				}
				fmt.Fprintf(w, "<Contents><Key>%s</Key><LastModified>%s</LastModified><Size>%d</Size></Contents>",
					k, modified[bucket+k].Format(time.RFC3339Nano), len(objects[bucket+k]))
			}
			fmt.Fprint(w, "</ListBucketResult>")
			return
		}
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
			modified[r.URL.Path] = time.Now()
		case http.MethodDelete:
			delete(objects, r.URL.Path)
			w.WriteHeader(http.StatusNoContent)
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
	if *puts != 2 {
		t.Errorf("the same content was uploaded %d times; want twice (each store renews its time for the sweep)", *puts)
	}
	if _, err := s.Open(ctx, strings.Repeat("0", 64)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing object = %v; want not exist", err)
	}
	testPeek(t, s)
}
