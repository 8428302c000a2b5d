package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
)

// Attachments (issue 13) in the hospital CRM: Patient.photo is an image of at most 2MB, which the call
// center may not see; Complaint.evidence a PDF or picture of at most 5MB. Files are uploaded through the
// record forms and downloaded at /files/<entity>/<id>/<field>, which answers only those who may read the
// record and the field, and 404 to everyone else.
func TestAdminAttachments(t *testing.T) {
	a := adminApp(t, "hospital")
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", apptest.SQLitePath}, {"postgres", pgtest.DSN}} {
		t.Run(db.name, func(t *testing.T) {
			args := []string{noTimers}
			if db.name == "postgres" { // SQLite's default is files/ next to its database, in the test's temp dir
				args = append(args, "--files="+t.TempDir())
			}
			s := a.Start(t, db.dsn(t), args...)
			admin := s.As(t, "admin", "admin123")
			chenjing := s.As(t, "chenjing", "doctor123") // a physician: her own patients
			photo := pngBytes(t, 64)

			// Upload with the new patient's form; the creator is the physician, so it is her patient.
			status, body, loc := postForm(t, chenjing, "/e/Patient/new", "en",
				map[string]string{"name": "附件测试", "gender": "male"}, "photo", "face.png", photo)
			id := strings.TrimPrefix(loc, "/e/Patient/")
			if status != http.StatusSeeOther || id == "" || strings.Contains(id, "/") {
				t.Fatalf("create with a photo: %d %q\n%s", status, loc, body)
			}
			var got struct {
				Node struct {
					Photo *struct {
						Name, ContentType, URL, SHA256 string
						Size                           int
					}
				}
			}
			chenjing.GraphQL(t, `query($id: ID!) { node(id: $id) { ... on Patient { photo { name size contentType url sha256 } } } }`,
				map[string]any{"id": id}).Decode(t, &got)
			want := "/files/Patient/" + id + "/photo"
			if p := got.Node.Photo; p == nil || p.Name != "face.png" || p.Size != len(photo) || p.ContentType != "image/png" || p.URL != want {
				t.Fatalf("photo through the API = %+v; want face.png, %d bytes, image/png at %s", got.Node.Photo, len(photo), want)
			}

			// The uploader downloads the same bytes, shown inline as an image the browser must not sniff.
			resp, data := download(t, chenjing, want)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(data, photo) {
				t.Fatalf("download as the uploader: %d, %d bytes; want 200 and the %d bytes uploaded", resp.StatusCode, len(data), len(photo))
			}
			if h := resp.Header; h.Get("Content-Type") != "image/png" || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") ||
				h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("image headers: %v", h)
			}
			// A superuser may read every row and field.
			if resp, _ := download(t, admin, want); resp.StatusCode != http.StatusOK {
				t.Errorf("download as admin: %d", resp.StatusCode)
			}
			// Another physician may not read her patient: 404, as for a record that does not exist.
			if resp, _ := download(t, s.As(t, "liuyang", "doctor123"), want); resp.StatusCode != http.StatusNotFound {
				t.Errorf("download by a physician of another row scope: %d; want 404", resp.StatusCode)
			}
			// The call center reads every patient, but not the photo: 404 too, though the record is theirs to read.
			callCenter := s.As(t, "linxiao", "service123")
			if n := query(t, callCenter, `query($id: ID!) { node(id: $id) { ... on Patient { name photo { url } } } }`, map[string]any{"id": id}); str(t, n, "node.name") != "附件测试" || at(t, n, "node.photo") != nil {
				t.Errorf("the call center reads %v; want the patient without the photo", n)
			}
			if resp, _ := download(t, callCenter, want); resp.StatusCode != http.StatusNotFound {
				t.Errorf("download by a role the field is hidden from: %d; want 404", resp.StatusCode)
			}
			if resp, _ := download(t, chenjing, "/files/Patient/"+id+"/name"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("download of a field that is no attachment: %d; want 404", resp.StatusCode)
			}

			// Too large and of the wrong type: refused at the field, in the user's language, and nothing is written.
			big := pngBytes(t, 1100) // incompressible noise: over 2MB
			if len(big) <= 2<<20 {
				t.Fatalf("test image is %d bytes, want more than 2MB", len(big))
			}
			for _, c := range []struct {
				lang, name string
				content    []byte
				want       string
			}{
				{"zh", "big.png", big, "文件 big.png 超过允许的大小 2 MB"},
				{"en", "big.png", big, "The file big.png is larger than the limit of 2 MB"},
				{"zh", "scan.pdf", pdfBytes(), "不接受文件 scan.pdf 的类型"},
				{"en", "scan.pdf", pdfBytes(), "The type of the file scan.pdf is not accepted"},
				// An SVG is a document that can run script: not an image here, whatever its name.
				{"en", "face.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "The type of the file face.png is not accepted"},
			} {
				status, body, _ := postForm(t, chenjing, "/e/Patient/new", c.lang, map[string]string{"name": "拒绝" + c.name, "gender": "male"}, "photo", c.name, c.content)
				if status != http.StatusOK || !strings.Contains(body, c.want) || !regexp.MustCompile(`data-field="photo"[^>]*>[\s\S]*?field-error`).MatchString(body) {
					t.Errorf("%s upload of %s (%d bytes): %d; want the form again with %q at the photo field\n%s", c.lang, c.name, len(c.content), status, c.want, errorLines(body))
				}
			}
			if n := count(t, admin, "patients", `{nameHasPrefix: "拒绝"}`); n != 0 {
				t.Errorf("refused uploads created %d patients", n)
			}
			// The API checks a reference as the form does: an SVG cannot be named an image either.
			r := chenjing.GraphQL(t, `mutation($id: ID!, $ref: String!) { updatePatient(id: $id, input: {photo: $ref}) { id } }`,
				map[string]any{"id": id, "ref": fmt.Sprintf(`{"sha256":"%s","name":"x.svg","size":10,"contentType":"image/svg+xml"}`, got.Node.Photo.SHA256)})
			if len(r.Errors) == 0 || !strings.Contains(fmt.Sprint(r.Errors), "accept") {
				t.Errorf("API write of an SVG reference: %+v; want a refusal by the accept rule", r.Errors)
			}

			// A complaint's evidence is a file: downloaded as an attachment, never rendered by the browser.
			heping := s.As(t, "heping", "service123")
			pdf := pdfBytes()
			status, body, loc = postForm(t, heping, "/e/Complaint/new", "en",
				map[string]string{"subject": "收费有误", "severity": "low", "receivedAt": "2026-01-05T09:30"}, "evidence", "收据.pdf", pdf)
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/e/Complaint/") {
				t.Fatalf("complaint with evidence: %d %q\n%s", status, loc, errorLines(body))
			}
			resp, data = download(t, heping, "/files/Complaint/"+strings.TrimPrefix(loc, "/e/Complaint/")+"/evidence")
			if resp.StatusCode != http.StatusOK || !bytes.Equal(data, pdf) {
				t.Fatalf("evidence download: %d, %d bytes", resp.StatusCode, len(data))
			}
			if h := resp.Header; !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("Content-Type") != "application/octet-stream" ||
				!strings.Contains(h.Get("Content-Disposition"), "filename*=utf-8''%E6%94%B6%E6%8D%AE.pdf") {
				t.Errorf("file headers: %v", h)
			}

			if db.name == "sqlite" {
				browserEdits(t, s, id, photo)
			}
		})
	}
}

// browserEdits edits the patient in Chromium: the form shows the photo and keeps it when no file is
// chosen, a new file replaces it (the detail screen shows it as a thumbnail), and the remove box clears it.
func browserEdits(t *testing.T, s *apptest.Server, id string, photo []byte) {
	p := openBrowser(t, s)
	p.signIn("chenjing", "doctor123")
	p.open("/e/Patient/" + id + "/edit")
	p.waitFor(`document.querySelector('[data-field="photo"] img.thumb')`)
	p.fill("#f-wechat", "wx-attach")
	p.submit("#save")
	p.waitFor(`location.pathname === '/e/Patient/` + id + `'`)
	if n := eval[int](p, `document.querySelectorAll('img.thumb[src="/files/Patient/`+id+`/photo"]').length`); n != 1 {
		t.Errorf("detail shows %d thumbnails of the photo after an edit without a file; want 1", n)
	}
	status, body := p.fetchText("/files/Patient/" + id + "/photo")
	if status != http.StatusOK || len(body) == 0 {
		t.Errorf("photo after an edit without a file: %d", status)
	}

	other := pngBytes(t, 32)
	path := filepath.Join(t.TempDir(), "new-face.png")
	if err := os.WriteFile(path, other, 0o600); err != nil {
		t.Fatal(err)
	}
	p.open("/e/Patient/" + id + "/edit")
	p.do(chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name=photo]`), []string{path}))
	p.submit("#save")
	p.waitFor(`location.pathname === '/e/Patient/` + id + `'`)
	p.waitFor(`document.querySelector('img.thumb[alt="new-face.png"]')`)
	p.screenshots("attachments-detail")

	p.open("/e/Patient/" + id + "/edit")
	p.do(chromedp.Click(chromedp.CSS(`input[name="remove.photo"]`)))
	p.submit("#save")
	p.waitFor(`location.pathname === '/e/Patient/` + id + `'`)
	if n := p.count(`img.thumb`); n != 0 {
		t.Errorf("%d thumbnails after removing the photo", n)
	}
	p.noErrors()
}

// postForm posts a record form as multipart/form-data with one file, as the user of s (Bearer), in
// lang, and returns the status, body and redirect target.
func postForm(t *testing.T, s *apptest.Server, path, lang string, values map[string]string, field, name string, content []byte) (int, string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range values {
		w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Accept-Language", lang)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// download gets path as the user of s.
func download(t *testing.T, s *apptest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pngBytes is a side×side PNG of random pixels (so it does not compress).
func pngBytes(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	rng := rand.New(rand.NewPCG(uint64(side), 13))
	for y := range side {
		for x := range side {
			img.Set(x, y, color.NRGBA{uint8(rng.UintN(256)), uint8(rng.UintN(256)), uint8(rng.UintN(256)), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pdfBytes() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

// errorLines are the error messages of an admin page, for failure messages.
func errorLines(body string) string {
	var out []string
	for _, m := range regexp.MustCompile(`class="(?:field-)?error"[^>]*>([^<]*)<`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 && len(body) > 600 {
		return body[:600]
	}
	return strings.Join(out, "\n")
}
