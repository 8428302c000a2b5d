package admin

import (
	"testing"
)

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
