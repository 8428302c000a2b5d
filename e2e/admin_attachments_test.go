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
	"github.com/crmgen/crmgen/metamodel"
)

// Attachments (issue 13) in the hospital CRM: Patient.photo is an image of at most 2MB, which the call
// center may not see; Complaint.evidence a PDF or picture of at most 5MB. Files are uploaded through the
// record forms and downloaded at /files/<entity>/<id>/<field>, which answers only those who may read the
// record and the field, and 404 to everyone else.
func TestAdminAttachments(t *testing.T) {
	onEachDSN(t, adminApp(t, "hospital"), func(t *testing.T, admin *apptest.Server, dsn string) {
		s := admin                                   // the other users sign in on it
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
		// References written through the API are checked against the store: TestAdminAttachmentsAPIReferences.

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

		if !strings.HasPrefix(dsn, "postgres") { // once: the browser's part does not depend on the database
			browserEdits(t, s, id, photo)
		}
	})
}

// A reference written through the API is believed only as far as the store bears it out (hospital,
// Patient.photo: an image of at most 2MB; Complaint.evidence: a PDF or picture of at most 5MB). Content
// that was never uploaded, a PDF or a picture too large for the photo (uploaded as a complaint's
// evidence, whose hash anyone who saw it can write) are refused at the field, named by its label in
// Chinese and English, and nothing is written; a real image with a lying size and type is stored with
// the store's size and the sniffed type.
func TestAdminAttachmentsAPIReferences(t *testing.T) {
	onEachDB(t, adminApp(t, "hospital"), func(t *testing.T, s *apptest.Server) {
		chenjing := s.As(t, "chenjing", "doctor123") // a physician, who may write her patients' photos
		heping := s.As(t, "heping", "service123")    // the call center, who takes complaints
		photo := pngBytes(t, 48)
		status, body, loc := postForm(t, chenjing, "/e/Patient/new", "en",
			map[string]string{"name": "引用测试", "gender": "female"}, "photo", "face.png", photo)
		id := strings.TrimPrefix(loc, "/e/Patient/")
		if status != http.StatusSeeOther || id == "" || strings.Contains(id, "/") {
			t.Fatalf("create with a photo: %d %q\n%s", status, loc, errorLines(body))
		}
		const readPhoto = `query($id: ID!) { node(id: $id) { ... on Patient { photo { sha256 name size contentType } } } }`
		stored := func() map[string]any {
			t.Helper()
			p, _ := at(t, query(t, chenjing, readPhoto, map[string]any{"id": id}), "node.photo").(map[string]any)
			return p
		}
		before := stored()
		if before == nil || before["size"] != float64(len(photo)) {
			t.Fatalf("photo after the upload: %v", before)
		}
		// evidence uploads a complaint's evidence through its form and returns the content's hash.
		evidence := func(name string, content []byte) string {
			t.Helper()
			status, body, loc := postForm(t, heping, "/e/Complaint/new", "en",
				map[string]string{"subject": "引用 " + name, "severity": "low", "receivedAt": "2026-01-05T09:30"}, "evidence", name, content)
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/e/Complaint/") {
				t.Fatalf("complaint with evidence %s: %d %q\n%s", name, status, loc, errorLines(body))
			}
			n := query(t, heping, `query($id: ID!) { node(id: $id) { ... on Complaint { evidence { sha256 } } } }`,
				map[string]any{"id": strings.TrimPrefix(loc, "/e/Complaint/")})
			return str(t, n, "node.evidence.sha256")
		}
		pdfSHA := evidence("收据.pdf", pdfBytes())
		big := pngBytes(t, 1100) // over the photo's 2MB, within the evidence's 5MB
		bigSHA := evidence("big.png", big)

		ref := func(sha, name string, size int, contentType string) string {
			return fmt.Sprintf(`{"sha256":%q,"name":%q,"size":%d,"contentType":%q}`, sha, name, size, contentType)
		}
		const update = `mutation($id: ID!, $ref: String!) { updatePatient(id: $id, input: {photo: $ref}) { id } }`
		for _, c := range []struct {
			what, ref, rule, zh, en string
		}{
			{"a made-up hash", ref(strings.Repeat("ab", 32), "face.png", 100, "image/png"), "file",
				"照片：引用的文件不存在，请先上传文件", "Photo: the file referred to was never uploaded; upload the file first"},
			{"a PDF named as an image", ref(pdfSHA, "face.png", 100, "image/png"), "accept",
				"照片：文件 face.png 不是图片", "Photo: the file face.png is not an image"},
			{"a picture too large for the photo", ref(bigSHA, "small.png", 1000, "image/png"), "maxSize",
				"照片：文件 small.png 的大小 " + metamodel.FormatSize(int64(len(big))) + " 超过允许的 2 MB", "Photo: the file small.png is " + metamodel.FormatSize(int64(len(big))) + ", larger than the limit of 2 MB"},
		} {
			r := chenjing.GraphQL(t, update, map[string]any{"id": id, "ref": c.ref})
			if len(r.Errors) != 1 {
				t.Errorf("%s: errors %+v; want one refusal", c.what, r.Errors)
				continue
			}
			ext := r.Errors[0].Extensions
			fields, _ := ext["fields"].([]any)
			var f map[string]any
			if len(fields) == 1 {
				f, _ = fields[0].(map[string]any)
			}
			msgs, _ := f["messages"].(map[string]any)
			if ext["code"] != "VALIDATION" || ext["field"] != "photo" || ext["rule"] != c.rule || f == nil ||
				msgs["zh"] != c.zh || msgs["en"] != c.en {
				t.Errorf("%s: %+v; want VALIDATION of photo by %s, in Chinese %q and in English %q", c.what, r.Errors[0], c.rule, c.zh, c.en)
			}
			for _, word := range []string{"sha256", "open file", "no such file", "fs.", "ent:", "sql"} {
				if strings.Contains(fmt.Sprint(r.Errors[0]), word) {
					t.Errorf("%s: the refusal says %q: %+v", c.what, word, r.Errors[0])
				}
			}
			if after := stored(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("%s: the photo changed to %v; want it still %v", c.what, after, before)
			}
		}
		// A create with a reference to nothing writes no record.
		r := chenjing.GraphQL(t, `mutation($ref: String!) { createPatient(input: {name: "引用拒绝", gender: male, photo: $ref}) { id } }`,
			map[string]any{"ref": ref(strings.Repeat("cd", 32), "face.png", 100, "image/png")})
		if len(r.Errors) == 0 || r.Errors[0].Extensions["rule"] != "file" {
			t.Errorf("create with a made-up hash: %+v; want a refusal by the file rule", r.Errors)
		}
		if n := count(t, chenjing, "patients", `{name: "引用拒绝"}`); n != 0 {
			t.Errorf("a refused create wrote %d patients", n)
		}

		// A real image with a lying size and type, and a name with control characters: stored as it is.
		other := pngBytes(t, 40)
		otherSHA := evidence("other.png", other)
		r = chenjing.GraphQL(t, update, map[string]any{"id": id, "ref": ref(otherSHA, "new\tface.png", 1, "text/html")})
		if len(r.Errors) > 0 {
			t.Fatalf("write of a real image with a lying size and type: %+v", r.Errors)
		}
		want := map[string]any{"sha256": otherSHA, "name": "newface.png", "size": float64(len(other)), "contentType": "image/png"}
		if got := stored(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("stored %v; want %v (the store's size and the sniffed type)", got, want)
		}
		resp, data := download(t, chenjing, "/files/Patient/"+id+"/photo")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(data, other) || resp.Header.Get("Content-Length") != fmt.Sprint(len(other)) {
			t.Errorf("download after the write: %d, %d bytes, Content-Length %s; want the %d bytes of the image",
				resp.StatusCode, len(data), resp.Header.Get("Content-Length"), len(other))
		}
	})
}

// browserEdits edits the patient in Chromium: the form shows the photo and keeps it when no file is
// chosen, a new file replaces it (the detail screen shows it as a thumbnail), and the remove box clears it.
//
// First, a new patient whose form is refused for another field (a phone number that is none): the photo
// chosen with it is kept, said so at the field, and saved with the form once it is corrected, without
// choosing the file again.
func browserEdits(t *testing.T, s *apptest.Server, id string, photo []byte) {
	p := openBrowser(t, s)
	p.signIn("chenjing", "doctor123")
	p.open("/lang?l=zh&next=/e/Patient/new")
	first := filepath.Join(t.TempDir(), "first-face.png")
	if err := os.WriteFile(first, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	p.fill("#f-name", "保留照片")
	p.fill("#f-phone", "不是号码")
	p.do(chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name=photo]`), []string{first}))
	p.submit("#save")
	p.waitFor(`document.querySelector('[data-field="phone"] .field-error')`)
	if got := p.text("#f-photo-kept"); !strings.Contains(got, "已上传 first-face.png") {
		t.Fatalf("after an error at the phone number the photo chosen is not kept: %q", got)
	}
	p.screenshots("attachments-kept")
	p.fill("#f-phone", "13900000077")
	p.submit("#save")
	p.waitFor(`location.pathname.startsWith('/e/Patient/') && !location.pathname.endsWith('/new')`)
	kept := strings.TrimPrefix(eval[string](p, `location.pathname`), "/e/Patient/")
	if n := p.count(`img.thumb[alt="first-face.png"][src="/files/Patient/` + kept + `/photo"]`); n != 1 {
		t.Errorf("the patient saved after the corrected error shows %d thumbnails of the photo kept, want 1", n)
	}
	if n := eval[int](p, `fetch('/files/Patient/`+kept+`/photo', {credentials: 'same-origin'}).then(r => r.ok ? r.arrayBuffer() : new ArrayBuffer(0)).then(b => b.byteLength)`); n != len(photo) {
		t.Errorf("the kept photo downloads as %d bytes; want the %d bytes chosen", n, len(photo))
	}
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
