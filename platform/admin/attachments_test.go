package admin

import (
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
		if got := sniff([]byte(c.head), c.name); got != c.want {
			t.Errorf("sniff(%.20q, %q) = %q; want %q", c.head, c.name, got, c.want)
		}
	}
	image := &metamodel.Field{Type: metamodel.TypeImage, Accept: metamodel.DefaultImageAccept}
	if image.Accepts("face.png", sniff([]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "face.png")) {
		t.Error("an image field accepts an SVG named face.png")
	}
}

func TestAttachmentCell(t *testing.T) {
	img := attachmentCell(map[string]any{"name": "face.png", "size": float64(2048), "contentType": "image/png", "url": "/files/Patient/1/photo"})
	if img.Image != "/files/Patient/1/photo" || img.File != "" || img.Text != "face.png" || img.Size != "2 KB" {
		t.Errorf("image cell = %+v", img)
	}
	svg := attachmentCell(map[string]any{"name": "x.svg", "size": float64(10), "contentType": "image/svg+xml", "url": "/files/A/1/f"})
	if svg.Image != "" || svg.File != "/files/A/1/f" {
		t.Errorf("an SVG is shown as %+v; want a download link", svg)
	}
	if !attachmentCell(nil).Empty {
		t.Error("no file is not empty")
	}
}
