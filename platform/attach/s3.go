package attach

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// S3 is a Store in a bucket of an S3-compatible service (AWS S3, MinIO, Ceph, Alibaba OSS, …), addressed
// path-style (<Endpoint>/<Bucket>/<key>), with requests signed by AWS Signature Version 4. The content
// with hash ab12cd… is the object files/ab/12/ab12cd…; its hash is also the payload hash the signature
// covers, so the service checks the bytes it stored.
type S3 struct {
	Endpoint        string // such as https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000
	Bucket, Region  string
	AccessKeyID     string
	SecretAccessKey string
	Client          *http.Client // nil: http.DefaultClient
	now             func() time.Time
}

// emptySHA is the SHA-256 of no bytes, the payload hash of a GET.
const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Put hashes r into a temporary file, then uploads it under its hash. Content the bucket already has is
// uploaded again, which renews its time for the sweep (Sweep).
func (s *S3) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	tmp, err := os.CreateTemp("", "crm-upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	resp, err := s.do(ctx, http.MethodPut, sha, tmp, n, sha)
	if err != nil {
		return "", 0, fmt.Errorf("store file in bucket %s: %w", s.Bucket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", 0, fmt.Errorf("store file in bucket %s: %s: %s", s.Bucket, resp.Status, b)
	}
	return sha, n, nil
}

// Open downloads the object of hash sha.
func (s *S3) Open(ctx context.Context, sha string) (io.ReadCloser, error) {
	if !shaRE.MatchString(sha) {
		return nil, fmt.Errorf("open file %q: %w", sha, fs.ErrNotExist)
	}
	resp, err := s.do(ctx, http.MethodGet, sha, nil, 0, emptySHA)
	if err != nil {
		return nil, fmt.Errorf("open file %s: %w", sha, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Body, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("open file %s: %w", sha, fs.ErrNotExist)
	}
	resp.Body.Close()
	return nil, fmt.Errorf("open file %s in bucket %s: %s", sha, s.Bucket, resp.Status)
}

// Peek downloads the first n bytes of the object of hash sha with a ranged GET, and learns its size from
// the answer's Content-Range (206, or 416 for an empty object) or, from a service that ignores ranges,
// its Content-Length (200).
func (s *S3) Peek(ctx context.Context, sha string, n int) ([]byte, int64, error) {
	if !shaRE.MatchString(sha) {
		return nil, 0, fmt.Errorf("open file %q: %w", sha, fs.ErrNotExist)
	}
	resp, err := s.do(ctx, http.MethodGet, sha, nil, 0, emptySHA, "Range", fmt.Sprintf("bytes=0-%d", n-1))
	if err != nil {
		return nil, 0, fmt.Errorf("open file %s: %w", sha, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
		// Content-Range: bytes 0-511/12345, or bytes */0 for a range past the end of an empty object.
		_, total, ok := strings.Cut(resp.Header.Get("Content-Range"), "/")
		size, err := strconv.ParseInt(total, 10, 64)
		if !ok || err != nil {
			return nil, 0, fmt.Errorf("open file %s in bucket %s: no size in Content-Range %q", sha, s.Bucket, resp.Header.Get("Content-Range"))
		}
		if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			return nil, size, nil
		}
		head, err := io.ReadAll(io.LimitReader(resp.Body, int64(n)))
		if err != nil {
			return nil, 0, fmt.Errorf("read file %s: %w", sha, err)
		}
		return head, size, nil
	case http.StatusOK:
		head, err := io.ReadAll(io.LimitReader(resp.Body, int64(n)))
		if err != nil {
			return nil, 0, fmt.Errorf("read file %s: %w", sha, err)
		}
		size := resp.ContentLength
		if size < 0 { // no length given: count the rest
			rest, err := io.Copy(io.Discard, resp.Body)
			if err != nil {
				return nil, 0, fmt.Errorf("read file %s: %w", sha, err)
			}
			size = int64(len(head)) + rest
		}
		return head, size, nil
	case http.StatusNotFound:
		return nil, 0, fmt.Errorf("open file %s: %w", sha, fs.ErrNotExist)
	}
	return nil, 0, fmt.Errorf("open file %s in bucket %s: %s", sha, s.Bucket, resp.Status)
}

// keyPrefix is where in the bucket the contents are: files/ab/12/ab12cd….
const keyPrefix = "files/"

// do sends a signed request for the object of hash sha, with the headers given as name, value pairs.
func (s *S3) do(ctx context.Context, method, sha string, body io.Reader, size int64, payloadSHA string, header ...string) (*http.Response, error) {
	return s.request(ctx, method, keyPrefix+sha[:2]+"/"+sha[2:4]+"/"+sha, nil, body, size, payloadSHA, header...)
}

// request sends a signed request for key in the bucket ("" is the bucket itself) with query parameters.
func (s *S3) request(ctx context.Context, method, key string, query url.Values, body io.Reader, size int64, payloadSHA string, header ...string) (*http.Response, error) {
	u := strings.TrimSuffix(s.Endpoint, "/") + "/" + url.PathEscape(s.Bucket)
	if key != "" {
		u += "/" + key
	}
	if len(query) > 0 {
		u += "?" + canonicalQuery(query)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	s.sign(req, payloadSHA, now().UTC())
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	return c.Do(req)
}

// canonicalQuery is q as Signature Version 4 signs it, and so as it is sent: sorted by name, each part
// percent-encoded (a space is %20, not +).
func canonicalQuery(q url.Values) string { return strings.ReplaceAll(q.Encode(), "+", "%20") }

// sign adds AWS Signature Version 4 headers to req, whose payload has hash payloadSHA.
func (s *S3) sign(req *http.Request, payloadSHA string, t time.Time) {
	amzDate := t.Format("20060102T150405Z")
	day := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadSHA)
	host := req.URL.Host
	headers := map[string]string{"host": host}
	for k, v := range req.Header {
		headers[strings.ToLower(k)] = strings.TrimSpace(strings.Join(v, ","))
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, k := range names {
		canonHeaders.WriteString(k + ":" + headers[k] + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{req.Method, path, req.URL.RawQuery, canonHeaders.String(), signed, payloadSHA}, "\n")
	scope := day + "/" + s.Region + "/s3/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA([]byte("AWS4"+s.SecretAccessKey), day)
	for _, part := range []string{s.Region, "s3", "aws4_request"} {
		key = hmacSHA(key, part)
	}
	sig := hex.EncodeToString(hmacSHA(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.AccessKeyID+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

func hmacSHA(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

var _ Sweepable = (*S3)(nil)

// listResult is the part of a ListObjectsV2 answer Walk reads.
type listResult struct {
	Contents []struct {
		Key          string
		LastModified time.Time
	}
	IsTruncated           bool
	NextContinuationToken string
}

// Walk lists the bucket's contents (ListObjectsV2 under files/, a page of up to 1000 at a time); their
// time is the object's LastModified, which Put renews.
func (s *S3) Walk(ctx context.Context, fn func(sha string, stored time.Time) error) error {
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "prefix": {keyPrefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		resp, err := s.request(ctx, http.MethodGet, "", q, nil, 0, emptySHA)
		if err != nil {
			return fmt.Errorf("list files in bucket %s: %w", s.Bucket, err)
		}
		var page listResult
		if resp.StatusCode == http.StatusOK {
			err = xml.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&page)
		} else {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			err = fmt.Errorf("%s: %s", resp.Status, b)
		}
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("list files in bucket %s: %w", s.Bucket, err)
		}
		for _, c := range page.Contents {
			sha := path.Base(c.Key)
			if !shaRE.MatchString(sha) || c.Key != keyPrefix+sha[:2]+"/"+sha[2:4]+"/"+sha {
				continue
			}
			if err := fn(sha, c.LastModified); err != nil {
				return err
			}
		}
		if !page.IsTruncated || page.NextContinuationToken == "" {
			return nil
		}
		token = page.NextContinuationToken
	}
}

// Remove deletes the object of hash sha (S3 answers 204 whether or not it was there).
func (s *S3) Remove(ctx context.Context, sha string) error {
	if !shaRE.MatchString(sha) {
		return fmt.Errorf("remove file %q: not a content hash", sha)
	}
	resp, err := s.do(ctx, http.MethodDelete, sha, nil, 0, emptySHA)
	if err != nil {
		return fmt.Errorf("remove file %s: %w", sha, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("remove file %s from bucket %s: %s: %s", sha, s.Bucket, resp.Status, b)
	}
	return nil
}
