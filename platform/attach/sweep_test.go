package attach

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

// Sweep removes old content no one refers to, and keeps content in use or stored since the cutoff, on a
// directory and on a bucket (fakeS3, which pages its listing two keys at a time).
func TestSweep(t *testing.T) {
	srv, _, _ := fakeS3(t)
	for name, s := range map[string]Sweepable{
		"dir":    Dir(t.TempDir()),
		"bucket": &S3{Endpoint: srv.URL, Bucket: "crm", Region: "cn-north-1", AccessKeyID: "key", SecretAccessKey: "secret"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			put := func(content string) string {
				sha, _, err := s.Put(ctx, strings.NewReader(content))
				if err != nil {
					t.Fatal(err)
				}
				return sha
			}
			kept, orphan, other, again := put("a record's file"), put("an upload never written"), put("a file replaced since"), put("stored twice")
			if d, ok := s.(Dir); ok { // the directory's times are the files': age them, but for what is stored again
				old := time.Now().Add(-48 * time.Hour)
				for _, sha := range []string{kept, orphan, other, again} {
					os.Chtimes(d.path(sha), old, old)
				}
			}
			cutoff := time.Now().Add(time.Second)
			if _, ok := s.(Dir); ok {
				cutoff = time.Now().Add(-24 * time.Hour)
				put("stored twice") // renews its time: kept although nothing refers to it
			}
			var asked bool
			n, err := Sweep(ctx, s, cutoff, func(context.Context) (map[string]bool, error) {
				asked = true
				return map[string]bool{kept: true}, nil
			})
			want := 3 // the bucket's times are real: everything is older than its cutoff
			if _, ok := s.(Dir); ok {
				want = 2
			}
			if err != nil || n != want || !asked {
				t.Fatalf("Sweep = %d, %v; want %d removed", n, err, want)
			}
			for sha, there := range map[string]bool{kept: true, orphan: false, other: false, again: want == 2} {
				_, _, err := s.Peek(ctx, sha, 1)
				if gone := errors.Is(err, fs.ErrNotExist); gone == there {
					t.Errorf("%s: there %t after the sweep (%v), want %t", sha[:8], !gone, err, there)
				}
			}
			// Nothing old: nothing asked, nothing removed.
			n, err = Sweep(ctx, s, time.Now().Add(-72*time.Hour), func(context.Context) (map[string]bool, error) {
				t.Error("asked what is in use with nothing to remove")
				return nil, nil
			})
			if err != nil || n != 0 {
				t.Errorf("a sweep of recent content = %d, %v", n, err)
			}
		})
	}
}
