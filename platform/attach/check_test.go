package attach

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// An upload's type is what its bytes are, not what its name or the browser claims: an SVG named .png
// is an SVG, which no image field accepts by default and which is never shown inline.
func TestSniff(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, c := range []struct {
		head       string
		name, want string
	}{
		{string(png), "face.png", "image/png"},
		{string(png), "report.pdf", "image/png"},
		{"%PDF-1.4\n", "scan.pdf", "application/pdf"},
		{`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`, "face.png", "image/svg+xml"},
		{`<svg onload="alert(1)">`, "x.svg", "image/svg+xml"},
		{"a,b\n1,2\n", "list.csv", "text/csv"},
		{"<html><script>alert(1)</script>", "notes.txt", "text/html"},
		{"PK\x03\x04rest", "letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	} {
		if got := Sniff([]byte(c.head), c.name); got != c.want {
			t.Errorf("Sniff(%.20q, %q) = %q; want %q", c.head, c.name, got, c.want)
		}
	}
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("长", 100) + ".pdf" // 304 bytes
	for in, want := range map[string]string{
		"face.png":               "face.png",
		`C:\Users\me\scan.pdf`:   "scan.pdf",
		"../../etc/passwd":       "passwd",
		"a\x00b\r\n.png":         "ab.png",
		"":                       "file",
		"..":                     "file",
		"/":                      "file",
		" \t ":                   "file",
		"bad\xffutf8.txt":        "badutf8.txt",
		long:                     strings.Repeat("长", 83) + ".pdf",
		strings.Repeat("a", 300): strings.Repeat("a", 255),
	} {
		got := CleanName(in)
		if got != want {
			t.Errorf("CleanName(%.30q) = %.30q (%d bytes); want %.30q", in, got, len(got), want)
		}
		if _, err := Parse((&File{SHA256: strings.Repeat("ab", 32), Name: got}).Encode()); err != nil {
			t.Errorf("CleanName(%.30q) = %.30q, which a reference may not hold: %v", in, got, err)
		}
	}
}

// Check is the one test of a file against its field, for uploads and API writes alike.
func TestCheck(t *testing.T) {
	photo := &metamodel.Field{Name: "photo", Type: metamodel.TypeImage, MaxSize: 2 << 20, Accept: metamodel.DefaultImageAccept}
	anyImage := &metamodel.Field{Name: "pic", Type: metamodel.TypeImage, MaxSize: 2 << 20, Accept: []string{"png", "pdf"}}
	evidence := &metamodel.Field{Name: "evidence", Type: metamodel.TypeFile, MaxSize: 5 << 20, Accept: []string{"pdf", "image/*"}}
	anything := &metamodel.Field{Name: "doc", Type: metamodel.TypeFile, MaxSize: 10 << 20}
	for _, c := range []struct {
		f        *metamodel.Field
		name, ct string
		size     int64
		rule     string
	}{
		{photo, "face.png", "image/png", 2 << 20, ""},
		{photo, "face.png", "image/png", 2<<20 + 1, RuleMaxSize},
		{photo, "scan.pdf", "application/pdf", 100, RuleAccept},
		{photo, "face.png", "image/svg+xml", 100, RuleAccept},
		{photo, "face.png", "text/html", 100, RuleAccept},
		{anyImage, "a.pdf", "application/pdf", 100, RuleAccept}, // an image field takes images only, whatever its accept
		{anyImage, "a.png", "image/png", 100, ""},
		{evidence, "收据.pdf", "application/pdf", 100, ""},
		{evidence, "receipt.jpg", "image/jpeg", 100, ""},
		{evidence, "notes.pdf", "text/html", 100, RuleAccept},
		{evidence, "big.pdf", "application/pdf", 6 << 20, RuleMaxSize},
		{anything, "page.html", "text/html", 100, ""},
	} {
		r := Check(c.f, c.name, c.ct, c.size)
		switch {
		case c.rule == "" && r != nil:
			t.Errorf("%s takes %s (%s, %d bytes): refused by %s: %v", c.f.Name, c.name, c.ct, c.size, r.Rule, r)
		case c.rule != "" && (r == nil || r.Rule != c.rule):
			t.Errorf("%s takes %s (%s, %d bytes): %+v; want a refusal by %s", c.f.Name, c.name, c.ct, c.size, r, c.rule)
		}
	}
}

func TestRefusalWords(t *testing.T) {
	photo := &metamodel.Field{Name: "photo", Type: metamodel.TypeImage, MaxSize: 2 << 20, Accept: metamodel.DefaultImageAccept}
	evidence := &metamodel.Field{Name: "evidence", Type: metamodel.TypeFile, MaxSize: 5 << 20, Accept: []string{"pdf", "image/*"}}
	for _, c := range []struct {
		r           *Refusal
		zh, en, msg string
	}{
		{&Refusal{Rule: RuleFile, Field: photo, Name: "x.png"}, "照片：引用的文件不存在，请先上传文件",
			"Photo: the file referred to was never uploaded; upload the file first", "refers to a file that was never uploaded"},
		{&Refusal{Rule: RuleMaxSize, Field: photo, Name: "big.png", Size: 3 << 20}, "照片：文件 big.png 的大小 3 MB 超过允许的 2 MB",
			"Photo: the file big.png is 3 MB, larger than the limit of 2 MB", "3 MB is larger than the limit of 2 MB"},
		{&Refusal{Rule: RuleAccept, Field: photo, Name: "scan.pdf", ContentType: "application/pdf"}, "照片：文件 scan.pdf 不是图片",
			"Photo: the file scan.pdf is not an image", `"scan.pdf" (application/pdf) is not an image`},
		{&Refusal{Rule: RuleAccept, Field: evidence, Name: "a.html", ContentType: "text/html"}, "证据：不接受文件 a.html 的类型（可接受：pdf、image/*）",
			"Evidence: the type of the file a.html is not accepted (accepted: pdf, image/*)", `"a.html" (text/html) is not one of the accepted types pdf, image/*`},
	} {
		label := map[string]map[string]string{"photo": {"zh": "照片", "en": "Photo"}, "evidence": {"zh": "证据", "en": "Evidence"}}[c.r.Field.Name]
		if got := c.r.Text("zh", label["zh"]); got != c.zh {
			t.Errorf("zh: %q; want %q", got, c.zh)
		}
		if got := c.r.Text("en", label["en"]); got != c.en {
			t.Errorf("en: %q; want %q", got, c.en)
		}
		if got := c.r.Error(); !strings.HasPrefix(got, c.msg) {
			t.Errorf("Error: %q; want it to begin %q", got, c.msg)
		}
	}
}

// Verify believes the store, not the reference: against a directory and an S3 bucket, a reference to
// content that was never stored is refused, a PDF cannot be an image field's, content larger than the
// field allows is refused whatever size the reference claims, and an accepted reference gets the true
// size and type and a clean name.
func TestVerify(t *testing.T) {
	srv, _, _ := fakeS3(t)
	stores := map[string]Store{
		"dir": Dir(filepath.Join(t.TempDir(), "files")),
		"s3":  &S3{Endpoint: srv.URL, Bucket: "crm", Region: "cn-north-1", AccessKeyID: "key", SecretAccessKey: "secret"},
	}
	ctx := context.Background()
	photo := &metamodel.Field{Name: "photo", Type: metamodel.TypeImage, MaxSize: 2 << 10, Accept: metamodel.DefaultImageAccept}
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	for name, s := range stores {
		put := func(content []byte) string {
			sha, _, err := s.Put(ctx, bytes.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			return sha
		}
		pngSHA, pdfSHA, bigSHA := put(img.Bytes()), put([]byte("%PDF-1.4\n%%EOF\n")), put(bytes.Repeat([]byte("\x89PNG\r\n\x1a\n"), 1<<10))
		for _, c := range []struct {
			ref  File
			rule string
		}{
			{File{SHA256: strings.Repeat("0", 64), Name: "x.png", Size: 10, ContentType: "image/png"}, RuleFile},
			{File{SHA256: pdfSHA, Name: "face.png", Size: 10, ContentType: "image/png"}, RuleAccept},
			{File{SHA256: bigSHA, Name: "face.png", Size: 10, ContentType: "image/png"}, RuleMaxSize},
		} {
			got, r, err := Verify(ctx, s, photo, &c.ref)
			if err != nil || got != nil || r == nil || r.Rule != c.rule {
				t.Errorf("%s: Verify(%+v) = %+v, %+v, %v; want a refusal by %s", name, c.ref, got, r, err, c.rule)
			}
		}
		lying := &File{SHA256: pngSHA, Name: `..\face<1>.png`, Size: 1, ContentType: "text/html"}
		got, r, err := Verify(ctx, s, photo, lying)
		want := File{SHA256: pngSHA, Name: "face<1>.png", Size: img.Len(), ContentType: "image/png"}
		if err != nil || r != nil || got == nil || *got != want {
			t.Errorf("%s: Verify(%+v) = %+v, %v, %v; want %+v", name, lying, got, r, err, want)
		}
	}
	if _, r, err := Verify(ctx, nil, photo, &File{SHA256: strings.Repeat("0", 64), Name: "x.png"}); err != nil || r == nil || r.Rule != RuleFile {
		t.Errorf("Verify with no store = %+v, %v; want a refusal by %s", r, err, RuleFile)
	}
}
