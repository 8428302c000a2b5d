package metamodel

import (
	"fmt"
	"testing"
)

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"512B": 512, "5MB": 5 << 20, "64KB": 64 << 10, "1GB": 1 << 30, "2 MB": 2 << 20} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "5", "5mb", "1.5MB", "5 megabytes", "-1MB"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) succeeded; want an error", s)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{930: "930 B", 12800: "12.5 KB", 5 << 20: "5 MB", 1 << 30: "1 GB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q; want %q", n, got, want)
		}
	}
}

func TestAccepts(t *testing.T) {
	image := &Field{Type: TypeImage, Accept: DefaultImageAccept}
	pdf := &Field{Type: TypeFile, Accept: []string{"pdf", "docx"}}
	anyImage := &Field{Type: TypeFile, Accept: []string{"image/*"}}
	anything := &Field{Type: TypeFile}
	for _, c := range []struct {
		f        *Field
		name, ct string
		want     bool
	}{
		{image, "a.png", "image/png", true},
		{image, "a.jpg", "image/jpeg", true},
		{image, "a.svg", "text/xml; charset=utf-8", false},
		{image, "a.png", "text/html; charset=utf-8", false},
		{pdf, "report.pdf", "application/pdf", true},
		{pdf, "report.PDF", "application/pdf", true},
		{pdf, "report.pdf", "image/png", false}, // a PNG named .pdf
		{pdf, "letter.docx", "application/zip", true},
		{pdf, "notes.txt", "text/plain; charset=utf-8", false},
		{anyImage, "x.gif", "image/gif", true},
		{anyImage, "x.txt", "text/plain", false},
		{anything, "x.bin", "application/octet-stream", true},
	} {
		if got := c.f.Accepts(c.name, c.ct); got != c.want {
			t.Errorf("%v.Accepts(%q, %q) = %v; want %v", c.f.Accept, c.name, c.ct, got, c.want)
		}
	}
}

// TestAttachmentDefaults: Build gives a file field 10MB, an image field 10MB and the raster image types,
// and keeps what the model says.
func TestAttachmentDefaults(t *testing.T) {
	dir := writeModel(t, map[string]string{"m.yaml": `
app: {name: t}
entities:
  Claim:
    fields:
      scan: file
      photo: image
      letter: {type: file, maxSize: 2MB, accept: [PDF, .docx, image/*]}
`})
	m, err := Load(dir)
	if err == nil {
		m, err = Build(m)
	}
	if err != nil {
		t.Fatal(err)
	}
	e := m.Entity("Claim")
	if f := e.Field("scan"); f.MaxSize != DefaultMaxSize || len(f.Accept) != 0 {
		t.Errorf("scan: maxSize %d, accept %v; want %d and any", f.MaxSize, f.Accept, DefaultMaxSize)
	}
	if f := e.Field("photo"); f.MaxSize != DefaultMaxSize || fmt.Sprint(f.Accept) != fmt.Sprint(DefaultImageAccept) {
		t.Errorf("photo: maxSize %d, accept %v", f.MaxSize, f.Accept)
	}
	if f := e.Field("letter"); f.MaxSize != 2<<20 || fmt.Sprint(f.Accept) != "[pdf docx image/*]" {
		t.Errorf("letter: maxSize %d, accept %v", f.MaxSize, f.Accept)
	}
}
