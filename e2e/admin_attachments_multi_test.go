package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestAdminAttachmentsMultiple: a visit's test reports (hospital, Visit.reports) are a `multiple: true`
// file field, PDF or picture, at most 10MB each and 20 in all. In the browser a physician adds two files to
// her visit at once, then removes one and adds another in one edit: the record keeps them in order, the
// detail page lists them (pictures as thumbnails) and the history names them. A file of a type the field
// does not take refuses the whole form at the field, and the list stays as it was. Through the API, on
// SQLite and Postgres: a list of uploaded content reads back in order, each file downloaded at
// /files/Visit/<id>/reports/<sha256>; another physician's download is 404, as is a hash not in the list;
// a list naming content never uploaded, or of 21 files, is refused at the field and nothing is written.
func TestAdminAttachmentsMultiple(t *testing.T) {
	onEachDSN(t, adminApp(t, "hospital"), func(t *testing.T, s *apptest.Server, dsn string) {
		chenjing := s.As(t, "chenjing", "doctor123")
		visits := pageAll(t, chenjing, "visits", "", "id", 2)
		if len(visits) < 2 {
			t.Fatalf("chenjing has %d visits in the demo data, want 2", len(visits))
		}
		reportsOf := func(visit string) []map[string]any {
			t.Helper()
			list, _ := at(t, query(t, chenjing, `query($id: ID!) { node(id: $id) { ... on Visit { reports { sha256 name size contentType url } } } }`,
				map[string]any{"id": visit}), "node.reports").([]any)
			out := make([]map[string]any, len(list))
			for i, v := range list {
				out[i], _ = v.(map[string]any)
			}
			return out
		}
		namesOf := func(visit string) string {
			var out []string
			for _, r := range reportsOf(visit) {
				out = append(out, str(t, r, "name"))
			}
			return strings.Join(out, "|")
		}
		if !strings.HasPrefix(dsn, "postgres") { // the browser's part, once
			v := str(t, visits[0], "id")
			multipleInBrowser(t, s, v, func() string { return namesOf(v) })
		}

		// Through the API: content uploaded with a complaint's evidence (the call center's form), then
		// listed as a visit's reports by its physician.
		visit := str(t, visits[1], "id")
		pdf := pdfBytes()
		if status, body, _ := postForm(t, s.As(t, "heping", "service123"), "/e/Complaint/new", "en", map[string]string{"subject": "多文件",
			"severity": "low", "receivedAt": "2026-01-05T09:30"}, "evidence", "a.pdf", pdf); status != http.StatusSeeOther {
			t.Fatalf("upload the evidence: %d %s", status, errorLines(body))
		}
		write := func(list any) *apptest.Response {
			t.Helper()
			b, _ := json.Marshal(list)
			return chenjing.GraphQL(t, `mutation($id: ID!, $r: String) { updateVisit(id: $id, input: {reports: $r}) { id } }`,
				map[string]any{"id": visit, "r": string(b)})
		}
		ref := func(sha, name string) map[string]any {
			return map[string]any{"sha256": sha, "name": name, "size": len(pdf), "contentType": "application/pdf"}
		}
		if r := write([]any{ref(sha256Hex(pdf), "血常规.pdf"), ref(sha256Hex(pdf), "复查.pdf")}); len(r.Errors) > 0 {
			t.Fatalf("write a list of uploaded content: %+v", r.Errors)
		}
		got := reportsOf(visit)
		if len(got) != 2 || str(t, got[0], "name") != "血常规.pdf" || str(t, got[1], "name") != "复查.pdf" {
			t.Fatalf("the reports written through the API read back as %v", got)
		}
		url := str(t, got[0], "url")
		if want := "/files/Visit/" + visit + "/reports/" + sha256Hex(pdf); url != want {
			t.Errorf("a report's url is %s, want %s", url, want)
		}
		if resp, data := download(t, chenjing, url); resp.StatusCode != http.StatusOK || !bytes.Equal(data, pdf) {
			t.Errorf("the physician's download of her visit's report: %d, %d bytes", resp.StatusCode, len(data))
		}
		if resp, _ := download(t, s.As(t, "liuyang", "doctor123"), url); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another physician's download of the report: %d; want 404", resp.StatusCode)
		}
		never := strings.Repeat("0", 64)
		for _, path := range []string{"/files/Visit/" + visit + "/reports/" + never, "/files/Visit/" + visit + "/reports"} {
			if resp, _ := download(t, chenjing, path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("download of %s: %d; want 404", path, resp.StatusCode)
			}
		}
		many := make([]any, 21)
		for i := range many {
			many[i] = ref(sha256Hex(pdf), "r.pdf")
		}
		for name, list := range map[string][]any{"never uploaded": {ref(never, "x.pdf")}, "21 files": many} {
			if r := write(list); len(r.Errors) == 0 || r.Errors[0].Extensions["field"] != "reports" {
				t.Errorf("a list of %s: %+v; want it refused at the field reports", name, r.Errors)
			}
		}
		if got := namesOf(visit); got != "血常规.pdf|复查.pdf" {
			t.Errorf("refused lists changed the reports to %q", got)
		}
	})
}

// multipleInBrowser adds, removes and refuses reports of visit in chenjing's browser (see above).
func multipleInBrowser(t *testing.T, s *apptest.Server, visit string, names func() string) {
	dir := t.TempDir()
	file := func(name string, content []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	blood, xray, ecg := pdfBytes(), pngBytes(t, 40), pngBytes(t, 24)
	p := openBrowser(t, s)
	p.signIn("chenjing", "doctor123")
	p.open("/lang?l=zh&next=/e/Visit/" + visit + "/edit")
	p.do(chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name=reports]`), []string{file("血常规.pdf", blood), file("胸片.png", xray)}))
	p.submit("#save")
	p.waitFor(`location.pathname === '/e/Visit/` + visit + `'`)
	if got := names(); got != "血常规.pdf|胸片.png" {
		t.Fatalf("after adding two files the reports are %q", got)
	}
	if n := p.count(`[data-field="reports"] .file`); n != 2 {
		t.Errorf("the detail page lists %d reports, want 2", n)
	}
	if n := p.count(`[data-field="reports"] img.thumb[alt="胸片.png"]`); n != 1 {
		t.Errorf("the detail page shows %d thumbnails of the X-ray, want 1", n)
	}
	status, body := p.fetchText("/files/Visit/" + visit + "/reports/" + sha256Hex(blood))
	if status != http.StatusOK || !bytes.Equal([]byte(body), blood) {
		t.Errorf("the blood test downloads as %d, %d bytes; want the %d bytes uploaded", status, len(body), len(blood))
	}
	p.screenshots("attachments-multiple-detail")

	// One edit: remove the blood test, add the ECG after the X-ray.
	p.open("/e/Visit/" + visit + "/edit")
	p.do(chromedp.Click(chromedp.CSS(`input[name="remove.reports"][value="` + sha256Hex(blood) + `"]`)))
	p.do(chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name=reports]`), []string{file("心电图.png", ecg)}))
	p.screenshots("attachments-multiple-form")
	p.submit("#save")
	p.waitFor(`location.pathname === '/e/Visit/` + visit + `'`)
	if got := names(); got != "胸片.png|心电图.png" {
		t.Errorf("after removing one and adding one the reports are %q", got)
	}

	// A file the field does not take refuses the form at the field; the list stays.
	p.open("/e/Visit/" + visit + "/edit")
	p.do(chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name=reports]`), []string{file("说明.txt", []byte("plain text\n")), file("b.pdf", blood)}))
	p.submit("#save")
	if got := p.text(`[data-field="reports"] .field-error`); !strings.Contains(got, "不接受文件 说明.txt 的类型") {
		t.Errorf("a text file among the reports: the field says %q", got)
	}
	if got := names(); got != "胸片.png|心电图.png" {
		t.Errorf("a refused form changed the reports to %q", got)
	}

	p.open("/e/Visit/" + visit + "?tab=history")
	if h := p.text("#panel-history"); !strings.Contains(h, "胸片.png, 心电图.png") || !strings.Contains(h, "血常规.pdf, 胸片.png") {
		t.Errorf("the history does not name the reports before and after: %.600s", h)
	}
	p.noErrors()
}

// sha256Hex is the SHA-256 of b in lower-case hex, as the app names stored content.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
