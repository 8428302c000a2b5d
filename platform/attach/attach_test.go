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

// TestParseList reads what a multiple field stores: a JSON list of references in order, each checked as
// Parse checks one, at most 20; and References gives each its download URL by hash.
func TestParseList(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	two := `[{"sha256":"` + a + `","name":"一.pdf","size":3,"contentType":"application/pdf"},{"sha256":"` + b + `","name":"two.png","size":5}]`
	list, err := ParseList(two)
	if err != nil || len(list) != 2 || list[0].Name != "一.pdf" || list[1].SHA256 != b || list[1].ContentType != "application/octet-stream" {
		t.Fatalf("ParseList(two) = %+v, %v", list, err)
	}
	if back, err := ParseList(EncodeList(list)); err != nil || len(back) != 2 || *back[0] != *list[0] || *back[1] != *list[1] {
		t.Errorf("EncodeList does not round-trip: %+v, %v", back, err)
	}
	for _, empty := range []string{"", "  ", "[]"} {
		if l, err := ParseList(empty); err != nil || l != nil {
			t.Errorf("ParseList(%q) = %v, %v; want no files", empty, l, err)
		}
	}
	if EncodeList(nil) != "" {
		t.Errorf("EncodeList(nil) = %q, want empty", EncodeList(nil))
	}
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"sha256":"`+a+`","name":"r.pdf","size":1},`, 21), ",") + "]"
	for name, bad := range map[string]string{
		"one reference, not a list": `{"sha256":"` + a + `","name":"x","size":1}`,
		"a bad hash":                `[{"sha256":"xyz","name":"x","size":1}]`,
		"a path as name":            `[{"sha256":"` + a + `","name":"../x","size":1}]`,
		"21 files":                  many,
	} {
		if _, err := ParseList(bad); err == nil {
			t.Errorf("ParseList accepted %s", name)
		}
	}
	stored := two
	refs := References(&stored, "Visit", 7, "reports")
	if len(refs) != 2 || refs[0].URL != "/files/Visit/7/reports/"+a || refs[1].URL != "/files/Visit/7/reports/"+b {
		t.Errorf("References = %+v", refs)
	}
	if refs := References(nil, "Visit", 7, "reports"); refs == nil || len(refs) != 0 {
		t.Errorf("References(nil) = %#v, want an empty list", refs)
	}
}
