package attach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirStoresByHash(t *testing.T) {
	ctx := context.Background()
	d := Dir(filepath.Join(t.TempDir(), "files"))
	content := "%PDF-1.4 a scanned contract"
	sum := sha256.Sum256([]byte(content))
	want := hex.EncodeToString(sum[:])
	for range 2 { // the same content twice is one file
		sha, n, err := d.Put(ctx, strings.NewReader(content))
		if err != nil || sha != want || n != int64(len(content)) {
			t.Fatalf("Put = %s, %d, %v; want %s, %d", sha, n, err, want, len(content))
		}
	}
	if _, err := os.Stat(filepath.Join(string(d), want[:2], want[2:4], want)); err != nil {
		t.Fatalf("not stored under its hash: %v", err)
	}
	entries, _ := os.ReadDir(string(d))
	if len(entries) != 1 {
		t.Errorf("left %d entries in the directory, want only the hash's: %v", len(entries), entries)
	}
	rc, err := d.Open(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != content {
		t.Errorf("Open read %q", got)
	}
	for _, sha := range []string{strings.Repeat("0", 64), "../../etc/passwd", ""} {
		if _, err := d.Open(ctx, sha); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) = %v; want not exist", sha, err)
		}
	}
	testPeek(t, d)
}

// testPeek checks a store's Peek: the first bytes and the size of a long, a short and an empty content,
// and not-exist for an unknown hash.
func testPeek(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	long := strings.Repeat("0123456789", 100)
	for _, content := range []string{long, "%PDF-1.4", ""} {
		sha, _, err := s.Put(ctx, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		head, size, err := s.Peek(ctx, sha, SniffLen)
		want := content[:min(len(content), SniffLen)]
		if err != nil || string(head) != want || size != int64(len(content)) {
			t.Errorf("Peek of %d bytes = %d bytes %.10q, size %d, %v; want %d bytes, size %d", len(content), len(head), head, size, err, len(want), len(content))
		}
	}
	for _, sha := range []string{strings.Repeat("0", 64), "../../etc/passwd"} {
		if _, _, err := s.Peek(ctx, sha, SniffLen); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Peek(%q) = %v; want not exist", sha, err)
		}
	}
}

func TestParse(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	f, err := Parse(`{"sha256":"` + sha + `","name":"scan.pdf","size":12,"contentType":"application/pdf"}`)
	if err != nil || f.Name != "scan.pdf" || f.Size != 12 {
		t.Fatalf("Parse = %+v, %v", f, err)
	}
	if back, _ := Parse(f.Encode()); *back != *f {
		t.Errorf("Encode/Parse changed %+v into %+v", f, back)
	}
	if f, err := Parse(""); f != nil || err != nil {
		t.Errorf("Parse(\"\") = %v, %v; want no file", f, err)
	}
	for _, bad := range []string{`x`, `{"sha256":"abc","name":"a"}`, `{"sha256":"` + sha + `","name":""}`,
		`{"sha256":"` + sha + `","name":"../a"}`, `{"sha256":"` + sha + `","name":"a","size":-1}`} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%s) succeeded", bad)
		}
	}
	s := `{"sha256":"` + sha + `","name":"p.png","size":3,"contentType":"image/png"}`
	if r := Reference(&s, "Patient", 7, "photo"); r == nil || r.URL != "/files/Patient/7/photo" {
		t.Errorf("Reference = %+v", r)
	}
}

func TestInline(t *testing.T) {
	for ct, want := range map[string]bool{"image/png": true, "image/jpeg": true, "image/svg+xml": false,
		"text/xml; charset=utf-8": false, "text/html": false, "application/pdf": false} {
		if Inline(ct) != want {
			t.Errorf("Inline(%q) = %v", ct, !want)
		}
	}
}
