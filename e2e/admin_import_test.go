package e2e

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestAdminImport drives the CSV import of the hospital example in headless Chromium. Physicians have
// `import` on Patient and Visit (examples/hospital/roles.yaml); the call center has it on nothing. What
// an import wrote, or did not, is checked through the GraphQL API.
func TestAdminImport(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")
	doctor := s.As(t, "liuyang", "doctor123")
	p := openBrowser(t, s)
	p.signIn("liuyang", "doctor123")

	patientsNamed := func(names ...string) int {
		t.Helper()
		return adminCount(t, admin, "patients", fmt.Sprintf("{nameIn: %s}", jsonString(names)))
	}

	t.Run("ValidRows", func(t *testing.T) {
		p.t = t
		p.open("/e/Patient")
		if p.count("#import") != 1 {
			t.Fatalf("a physician (import on Patient) sees no import button on the patient list")
		}
		p.do(chromedp.Click(chromedp.CSS("#import")))
		p.waitFor(`location.pathname === '/e/Patient/import' && document.querySelector('#import-file')`)
		p.screenshots("import-patient")
		// Chinese headers, a BOM as spreadsheet programs write it, an enum by its label and by its key, and
		// the department (a belongsTo) by its name.
		before := adminCount(t, admin, "patients", "")
		// 备注 names nothing and 年龄 is computed: both are listed back and ignored.
		done := p.importCSV("\uFEFF姓名,性别,手机号,主诊科室,备注,年龄\n"+
			"导入甲,男,13800000001,心内科,x,1\n"+
			"导入乙,female,13800000002,心内科,y,2\n"+
			"导入丙,未知,,骨科,z,3\n", "#import-done")
		if !strings.Contains(done, "3") {
			t.Errorf("the import says %q, want it to count 3 records", done)
		}
		if u := p.text("#import-unknown"); !strings.Contains(u, "备注") || !strings.Contains(u, "年龄") {
			t.Errorf("the ignored headers 备注 and 年龄 are not listed back: %q", u)
		}
		if p.count(`#import-back[href="/e/Patient"]`) != 1 {
			t.Errorf("the result has no link back to the list")
		}
		if after := adminCount(t, admin, "patients", ""); after != before+3 {
			t.Fatalf("patients %d → %d after importing 3 rows", before, after)
		}
		var out struct {
			Patients struct {
				Edges []struct {
					Node struct {
						Name, Gender, Phone string
						Department          struct{ Name string }
						Physician           struct{ Username string }
						History             []struct{ Op, Username string }
					}
				}
			}
		}
		// The physician reads them: the API made them theirs, as a record created on the form would be.
		doctor.GraphQL(t, `{ patients(where: {nameHasPrefix: "导入"}) { edges { node {
			name gender phone department { name } physician { username } history { op username } } } } }`, nil).Decode(t, &out)
		want := map[string][3]string{"导入甲": {"male", "13800000001", "心内科"}, "导入乙": {"female", "13800000002", "心内科"},
			"导入丙": {"unknown", "", "骨科"}}
		if len(out.Patients.Edges) != 3 {
			t.Fatalf("the physician reads %d imported patients, want 3", len(out.Patients.Edges))
		}
		for _, e := range out.Patients.Edges {
			n := e.Node
			w, ok := want[n.Name]
			if !ok || strings.ToLower(n.Gender) != w[0] || n.Phone != w[1] || n.Department.Name != w[2] {
				t.Errorf("imported %s: gender %s, phone %q, department %q; want %v", n.Name, n.Gender, n.Phone, n.Department.Name, w)
			}
			if n.Physician.Username != "liuyang" {
				t.Errorf("imported %s belongs to %q, want the importing physician", n.Name, n.Physician.Username)
			}
			if !slices.ContainsFunc(n.History, func(h struct{ Op, Username string }) bool {
				return strings.EqualFold(h.Op, "create") && h.Username == "liuyang"
			}) {
				t.Errorf("imported %s has audit history %+v, want a create by liuyang", n.Name, n.History)
			}
		}
		p.noErrors()
	})

	t.Run("InvalidValuesWriteNothing", func(t *testing.T) {
		p.t = t
		// From here on the screens speak Chinese: the refusals are worded in it.
		p.open("/lang?l=zh&next=/e/Patient/import")
		before := adminCount(t, admin, "patients", "")
		p.importCSV("姓名,性别,主诊科室\n坏行一,男,心内科\n,女,心内科\n坏行三,机器人,心内科\n", "#import-problems")
		p.expectProblem(3, "姓名")
		p.expectProblem(4, "性别")
		if got := p.text(`#import-problems li[data-row="3"]`); got != "第 3 行：姓名：此项必填" {
			t.Errorf("row 3's problem reads %q, want it in Chinese", got)
		}
		if got := p.text(`#import-problems li[data-row="4"]`); got != "第 4 行：性别：不是可选的值" {
			t.Errorf("row 4's problem reads %q, want it in Chinese", got)
		}
		if p.count(`#import-problems li[data-row="2"]`) != 0 {
			t.Errorf("the valid row 2 is listed as a problem")
		}
		if after := adminCount(t, admin, "patients", ""); after != before {
			t.Errorf("patients %d → %d after a refused import", before, after)
		}
		p.noErrors()
	})

	t.Run("RefusedByTheAPIWritesNothing", func(t *testing.T) {
		p.t = t
		// Rows 2 and 3 pass the page's own checks; the API refuses row 3 (a name over 64 characters), so
		// row 2, created first in the same transaction, is rolled back with it.
		p.open("/e/Patient/import")
		before := adminCount(t, admin, "patients", "")
		long := strings.Repeat("长", 70)
		p.importCSV("name,gender\n回滚行,male\n"+long+",male\n", "#import-problems")
		p.expectProblem(3, "姓名", "Name")
		if body := p.text("#import-problems"); strings.Contains(body, "maxLen") || strings.Contains(body, "ent:") ||
			strings.Contains(body, "validator") {
			t.Errorf("the refusal shows an engine term: %q", body)
		}
		if n := patientsNamed("回滚行"); n != 0 {
			t.Errorf("row 2 of a refused import was written (%d)", n)
		}
		if after := adminCount(t, admin, "patients", ""); after != before {
			t.Errorf("patients %d → %d after a refused import", before, after)
		}
		p.noErrors()
	})

	t.Run("HiddenRelatedRowIsNotFound", func(t *testing.T) {
		p.t = t
		// 方德明 is chenjing's patient: liuyang may not read them, so naming them finds nothing, in the same
		// words as a patient who does not exist.
		if n := adminCount(t, admin, "patients", `{name: "方德明"}`); n != 1 {
			t.Fatalf("the demo data has %d patients named 方德明, want 1", n)
		}
		if n := adminCount(t, doctor, "patients", `{name: "方德明"}`); n != 0 {
			t.Fatalf("liuyang reads 方德明; the test needs a patient they may not read")
		}
		before := adminCount(t, admin, "visits", "")
		p.open("/e/Visit/import")
		p.importCSV("患者,科室,就诊时间,就诊类型\n贾梓涵,心内科,2026-12-01 09:30,门诊\n方德明,心内科,2026-12-01 10:00,门诊\n查无此人,心内科,2026-12-01 11:00,门诊\n",
			"#import-problems")
		hidden := p.text(`#import-problems li[data-row="3"]`)
		missing := p.text(`#import-problems li[data-row="4"]`)
		if hidden == "" || missing == "" {
			t.Fatalf("rows 3 and 4 name patients the physician cannot find, but the page lists %q", p.text("#import-problems"))
		}
		if strings.ReplaceAll(hidden, "方德明", "X") != strings.ReplaceAll(strings.ReplaceAll(missing, "查无此人", "X"), "4", "3") {
			t.Errorf("a patient the user may not read is told apart from one that does not exist:\n\t%q\n\t%q", hidden, missing)
		}
		if p.count(`#import-problems li[data-row="2"]`) != 0 {
			t.Errorf("row 2 (the physician's own patient) is listed as a problem")
		}
		if after := adminCount(t, admin, "visits", ""); after != before {
			t.Errorf("visits %d → %d after a refused import", before, after)
		}
		p.noErrors()
	})

	t.Run("ReadonlyFieldIsRefused", func(t *testing.T) {
		p.t = t
		p.open("/e/Patient/import")
		before := adminCount(t, admin, "patients", "")
		p.importCSV("姓名,性别,身份证号\n只读行,男,330110196806019993\n", "#import-problems")
		p.expectProblem(0, "身份证号", "ID card no.")
		if after := adminCount(t, admin, "patients", ""); after != before {
			t.Errorf("patients %d → %d after importing a readonly field", before, after)
		}
		p.noErrors()
	})

	t.Run("Limits", func(t *testing.T) {
		p.t = t
		before := adminCount(t, admin, "patients", "")
		// The most rows one import holds (999 under the default field limit of 2000: two fields a row) go
		// in as one operation; one row more is refused.
		p.open("/e/Patient/import")
		if msg := p.importCSV("name,gender\n"+strings.Repeat("满额,male\n", 999), "#import-done"); !strings.Contains(msg, "999") {
			t.Errorf("a file of 999 rows: %q, want all imported", msg)
		}
		if n := adminCount(t, admin, "patients", `{name: "满额"}`); n != 999 {
			t.Errorf("%d of 999 rows imported", n)
		}
		before += 999
		p.open("/e/Patient/import")
		many := "name,gender\n" + strings.Repeat("多行,male\n", 1000)
		if msg := p.importCSV(many, "#import-error"); !strings.Contains(msg, "1000") || !strings.Contains(msg, "999") {
			t.Errorf("a file of 1000 rows: %q, want a refusal naming the rows and the limit", msg)
		}
		// A file over 2 MB, posted as the form would: refused with 413, in the page's language.
		p.open("/e/Patient/import")
		out := eval[struct {
			Status int    `json:"status"`
			Body   string `json:"body"`
		}](p, `(() => { const f = new FormData(); f.append('file', new Blob(['name,gender\n' + '大文件,male\n'.repeat(200000)], {type: 'text/csv'}), 'big.csv');
			return fetch('/e/Patient/import', {method: 'POST', body: f, credentials: 'same-origin'}).then(async r => ({status: r.status, body: await r.text()})) })()`)
		if out.Status != 413 || !strings.Contains(out.Body, "2 MB") {
			t.Errorf("a 3 MB file: status %d, want 413 with the localized limit", out.Status)
		}
		if after := adminCount(t, admin, "patients", ""); after != before {
			t.Errorf("patients %d → %d after refused files", before, after)
		}
		p.noErrorsExcept("413")
	})

	t.Run("CrossSite", func(t *testing.T) {
		// The import form is guarded as the admin's other forms are: a signed-in browser tricked into
		// posting a file from another site is refused, the same post from the app goes through.
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		post := func(path, site, contentType string, body io.Reader) int {
			t.Helper()
			req, _ := http.NewRequest("POST", s.URL+path, body)
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Sec-Fetch-Site", site)
			if site == "cross-site" {
				req.Header.Set("Origin", "https://evil.example")
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		creds := url.Values{"username": {"liuyang"}, "password": {"doctor123"}, "next": {"/"}}
		if st := post("/login", "same-origin", "application/x-www-form-urlencoded", strings.NewReader(creds.Encode())); st != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", st)
		}
		upload := func(site string) int {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			fw, _ := mw.CreateFormFile("file", "x.csv")
			io.WriteString(fw, "name,gender\n跨站导入,male\n")
			mw.Close()
			return post("/e/Patient/import", site, mw.FormDataContentType(), &b)
		}
		if st := upload("cross-site"); st != http.StatusForbidden {
			t.Errorf("cross-site import: %d, want 403", st)
		}
		if n := patientsNamed("跨站导入"); n != 0 {
			t.Fatalf("a cross-site post imported %d patients", n)
		}
		if st := upload("same-origin"); st != http.StatusOK || patientsNamed("跨站导入") != 1 {
			t.Errorf("same-origin import: %d, %d patients imported; want 200 and 1", st, patientsNamed("跨站导入"))
		}
	})

	t.Run("WithoutTheRight", func(t *testing.T) {
		q := openBrowser(t, s)
		q.signIn("linxiao", "service123") // the call center reads patients, may import nothing
		q.open("/e/Patient")
		if q.count("#import") != 0 {
			t.Errorf("the call center sees an import button on the patient list")
		}
		if status, body := q.fetchText("/e/Patient/import"); status != 403 || !(strings.Contains(body, "无权") || strings.Contains(body, "may not")) {
			t.Errorf("GET /e/Patient/import as the call center: %d, want 403 with the localized refusal", status)
		}
		before := adminCount(t, admin, "patients", "")
		status := eval[int](q, `(() => { const f = new FormData(); f.append('file', new Blob(['name,gender\n偷偷导入,male\n'], {type: 'text/csv'}), 'a.csv');
			return fetch('/e/Patient/import', {method: 'POST', body: f, credentials: 'same-origin'}).then(r => r.status) })()`)
		if status != 403 {
			t.Errorf("POST /e/Patient/import as the call center: %d, want 403", status)
		}
		if after := adminCount(t, admin, "patients", ""); after != before || patientsNamed("偷偷导入") != 0 {
			t.Errorf("a refused import wrote patients (%d → %d)", before, after)
		}
		q.noErrorsExcept("403")
	})
}

// importCSV uploads content as a CSV file on the open import page and waits for sel on the answer; it
// returns sel's text.
func (p *page) importCSV(content, sel string) string {
	p.t.Helper()
	path := filepath.Join(p.t.TempDir(), "import.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.do(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path}),
		chromedp.Click(chromedp.CSS("#import-run")))
	p.waitFor(fmt.Sprintf(`document.querySelector(%s) && !document.querySelector('#import-file')?.files?.length`, jsString(sel)))
	return p.text(sel)
}

// expectProblem checks that the import page lists a problem of row (0: the file) naming the field by its
// label in either language.
func (p *page) expectProblem(row int, labels ...string) {
	p.t.Helper()
	got := p.texts(fmt.Sprintf(`#import-problems li[data-row="%d"] .field`, row))
	if !slices.ContainsFunc(got, func(f string) bool { return slices.Contains(labels, f) }) {
		p.t.Errorf("the import lists no problem of row %d naming %v; it lists %q", row, labels, p.text("#import-problems"))
	}
}
