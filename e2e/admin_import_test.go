package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestAdminImport drives the CSV and Excel import of the hospital example in headless Chromium. Physicians have
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

	t.Run("XLSX", func(t *testing.T) {
		p.t = t
		// A workbook as a spreadsheet program saves it: a date typed as a date (shown in Excel's default
		// short format, 05-17-80, which is no date the API reads), numbers typed as numbers, and a second
		// sheet that is not read.
		p.open("/e/Patient/import")
		before := adminCount(t, admin, "patients", "")
		done := p.importXLSX([][]any{
			{"姓名", "性别", "出生日期", "账户余额", "手机号", "主诊科室"},
			{"表格甲", "男", time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC), 1234.5, 13800000011, "心内科"},
			{"表格乙", "female", time.Date(1992, 11, 3, 0, 0, 0, 0, time.UTC), 0, "13800000012", "骨科"},
		}, map[string]int{"C2": 14, "C3": 14, "D2": 4}, "#import-done")
		if !strings.Contains(done, "2") {
			t.Errorf("the import says %q, want it to count 2 records", done)
		}
		if after := adminCount(t, admin, "patients", ""); after != before+2 {
			t.Fatalf("patients %d → %d after importing a workbook of 2 rows", before, after)
		}
		var out struct {
			Patients struct {
				Edges []struct {
					Node struct {
						Name, Gender, Phone string
						BirthDate           time.Time
						Balance             json.Number
						Department          struct{ Name string }
					}
				}
			}
		}
		doctor.GraphQL(t, `{ patients(where: {nameHasPrefix: "表格"}) { edges { node {
			name gender birthDate balance phone department { name } } } } }`, nil).Decode(t, &out)
		if len(out.Patients.Edges) != 2 {
			t.Fatalf("the physician reads %d patients imported from the workbook, want 2", len(out.Patients.Edges))
		}
		want := map[string]struct {
			gender, birth, phone, department string
			balance                          float64
		}{
			"表格甲": {"male", "1980-05-17", "13800000011", "心内科", 1234.5},
			"表格乙": {"female", "1992-11-03", "13800000012", "骨科", 0},
		}
		// A date is the day's midnight in the app's zone (app.yaml), as the same date typed in a CSV is.
		shanghai, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Patients.Edges {
			n := e.Node
			w, ok := want[n.Name]
			balance, _ := strconv.ParseFloat(n.Balance.String(), 64)
			if !ok || strings.ToLower(n.Gender) != w.gender || n.BirthDate.In(shanghai).Format(time.DateTime) != w.birth+" 00:00:00" ||
				n.Phone != w.phone || n.Department.Name != w.department || balance != w.balance {
				t.Errorf("imported %s: gender %s, born %s, phone %q, department %q, balance %v; want %+v",
					n.Name, n.Gender, n.BirthDate, n.Phone, n.Department.Name, n.Balance, w)
			}
		}
		p.noErrors()
	})

	t.Run("ValidRowsOnly", func(t *testing.T) {
		p.t = t
		// Rows 2 and 5 are valid; row 3's gender is no choice (the page's own check), row 4's balance is
		// below the minimum (refused by the API, so the batch is retried without it).
		p.open("/e/Patient/import")
		before := adminCount(t, admin, "patients", "")
		p.do(chromedp.Click(chromedp.CSS("#import-mode-valid")))
		done := p.importCSV("姓名,性别,账户余额\n部分甲,男,10\n部分乙,机器人,0\n部分丙,女,-5\n部分丁,女,20\n", "#import-done")
		if !strings.Contains(done, "已导入 2 条") || !strings.Contains(done, "2 行") {
			t.Errorf("the import says %q, want 2 written and 2 rows with problems", done)
		}
		p.screenshots("import-patient-partial")
		if got := p.text(`#import-problems li[data-row="3"]`); got != "第 3 行：性别：不是可选的值" {
			t.Errorf("row 3's problem reads %q, want it in Chinese", got)
		}
		p.expectProblem(4, "账户余额")
		if got := p.text(`#import-problems li[data-row="4"]`); !strings.HasPrefix(got, "第 4 行：账户余额：") || strings.ContainsAny(got, "abcdefghijklmnopqrstuvwxyz") {
			t.Errorf("row 4's problem reads %q, want it in Chinese, without an engine term", got)
		}
		if n := p.count(`#import-problems li[data-row="2"], #import-problems li[data-row="5"]`); n != 0 {
			t.Errorf("the valid rows 2 and 5 are listed as problems")
		}
		if after := adminCount(t, admin, "patients", ""); after != before+2 {
			t.Errorf("patients %d → %d, want the 2 valid rows written", before, after)
		}
		if n := patientsNamed("部分甲", "部分丁"); n != 2 {
			t.Errorf("%d of the valid rows 部分甲, 部分丁 written, want 2", n)
		}
		if n := patientsNamed("部分乙", "部分丙"); n != 0 {
			t.Errorf("%d of the invalid rows written, want none", n)
		}

		// The error report: the refused rows' own cells, and what is wrong with each, in Chinese.
		rep := eval[struct {
			Status      int    `json:"status"`
			Disposition string `json:"disposition"`
			Body        string `json:"body"`
		}](p, `(() => { const f = document.querySelector('#import-report-form');
			return fetch(f.action, {method: 'POST', body: new FormData(f), credentials: 'same-origin'})
				.then(async r => ({status: r.status, disposition: r.headers.get('Content-Disposition') || '', body: await r.text()})) })()`)
		if rep.Status != 200 || !strings.HasPrefix(rep.Disposition, "attachment") {
			t.Fatalf("the report's download: status %d, disposition %q", rep.Status, rep.Disposition)
		}
		records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(rep.Body, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatalf("the report is no CSV: %v\n%s", err, rep.Body)
		}
		if len(records) != 3 || !slices.Equal(records[0], []string{"问题", "姓名", "性别", "账户余额"}) {
			t.Fatalf("the report holds %q, want the header and the 2 refused rows", records)
		}
		if got := records[1]; !slices.Equal(got[1:], []string{"部分乙", "机器人", "0"}) || got[0] != "第 3 行：性别：不是可选的值" {
			t.Errorf("the report's first row is %q", got)
		}
		if got := records[2]; !slices.Equal(got[1:], []string{"部分丙", "女", "-5"}) || !strings.HasPrefix(got[0], "第 4 行：账户余额：") {
			t.Errorf("the report's second row is %q", got)
		}
		p.noErrors()
	})

	t.Run("ReportAfterAllOrNothing", func(t *testing.T) {
		p.t = t
		// All or nothing stays the default: one bad row writes nothing, and the report lists that row only.
		p.open("/e/Patient/import")
		if eval[bool](p, `document.querySelector('#import-mode-all').checked`) != true {
			t.Errorf("all or nothing is not the default mode")
		}
		before := adminCount(t, admin, "patients", "")
		p.importXLSX([][]any{{"name", "gender"}, {"整批甲", "male"}, {"", "female"}}, nil, "#import-problems")
		p.expectProblem(3, "姓名")
		if after := adminCount(t, admin, "patients", ""); after != before {
			t.Errorf("patients %d → %d after a refused import", before, after)
		}
		body := eval[string](p, `(() => { const f = document.querySelector('#import-report-form');
			return fetch(f.action, {method: 'POST', body: new FormData(f), credentials: 'same-origin'}).then(r => r.text()) })()`)
		// (fetch's text() drops the byte-order mark the download starts with.)
		if want := "问题,name,gender\n第 3 行：姓名：此项必填,,female\n"; body != want {
			t.Errorf("the report reads %q, want %q", body, want)
		}
		p.noErrors()
	})

	t.Run("UpsertByCode", func(t *testing.T) {
		p.t = t
		// Rows matched by the patient number update that patient with the cells they fill in; a row without
		// one creates. A number that matches nothing the physician may read (another physician's patient,
		// or none at all) and a number given twice are refused by row, and write nothing.
		type patient struct{ ID, Code, Name, Phone string }
		type patients struct {
			Patients struct{ Edges []struct{ Node patient } }
		}
		var mine patients
		doctor.GraphQL(t, `{ patients(where: {nameIn: ["导入甲", "导入乙"]}, orderBy: {field: NAME}) { edges { node { id code name phone } } } }`, nil).Decode(t, &mine)
		if len(mine.Patients.Edges) != 2 {
			t.Fatalf("liuyang reads %d of the patients imported earlier, want 2", len(mine.Patients.Edges))
		}
		a, b := mine.Patients.Edges[0].Node, mine.Patients.Edges[1].Node
		var theirs patients
		admin.GraphQL(t, `{ patients(where: {name: "方德明"}) { edges { node { id code name phone } } } }`, nil).Decode(t, &theirs)
		if len(theirs.Patients.Edges) != 1 || theirs.Patients.Edges[0].Node.Code == "" {
			t.Fatalf("the demo data has no numbered patient 方德明: %+v", theirs)
		}
		other := theirs.Patients.Edges[0].Node

		p.open("/e/Patient/import")
		if p.count(`#import-key-code`) != 1 || !eval[bool](p, `document.querySelector('#import-key-none').checked`) {
			t.Fatalf("the import page offers no match by 患者编号, or does not create by default: %q", p.text("#import-form"))
		}
		if cols := p.text("#import-columns"); strings.Contains(cols, "照片") {
			t.Errorf("the importable columns list the photo, which only a form can upload: %q", cols)
		}
		p.screenshots("import-patient-keys")
		p.do(chromedp.Click(chromedp.CSS("#import-key-code")))
		before := adminCount(t, admin, "patients", "")
		p.importCSV("患者编号,姓名,性别,手机号\n"+
			other.Code+",改名,男,13900000009\n"+
			"P000001-99999,查无此号,男,\n"+
			a.Code+",导入甲二,男,13900000001\n"+
			a.Code+",导入甲三,男,\n", "#import-problems")
		p.expectProblem(2, "患者编号")
		p.expectProblem(3, "患者编号")
		p.expectProblem(5, "患者编号")
		hidden, missing := p.text(`#import-problems li[data-row="2"]`), p.text(`#import-problems li[data-row="3"]`)
		if strings.ReplaceAll(hidden, other.Code, "X") != strings.ReplaceAll(strings.ReplaceAll(missing, "P000001-99999", "X"), "3", "2") {
			t.Errorf("another physician's patient is told apart from a number that does not exist:\n\t%q\n\t%q", hidden, missing)
		}
		if got := p.text(`#import-problems li[data-row="5"]`); !strings.Contains(got, "第 4 行") {
			t.Errorf("the number given twice reads %q, want it to name row 4", got)
		}
		if !eval[bool](p, `document.querySelector('#import-key-code').checked`) {
			t.Errorf("after a refused import the match by 患者编号 is no longer chosen")
		}
		if after := adminCount(t, admin, "patients", ""); after != before {
			t.Errorf("patients %d → %d after a refused import", before, after)
		}
		var still patients
		admin.GraphQL(t, `query($ids: [ID!]) { patients(where: {idIn: $ids}) { edges { node { id code name phone } } } }`,
			map[string]any{"ids": []string{a.ID, other.ID}}).Decode(t, &still)
		for _, e := range still.Patients.Edges {
			if n := e.Node; n != a && n != other {
				t.Errorf("a refused import changed %+v", n)
			}
		}

		// Now as it should be: two updates (one leaves the name blank, so keeps it) and one new patient.
		done := p.importCSV("患者编号,姓名,手机号\n"+
			a.Code+",导入甲改,13900000001\n"+
			b.Code+",,13900000002\n"+
			",导入戊,13900000005\n", "#import-done")
		if done != "已导入：新建 1 条，更新 2 条" {
			t.Errorf("the import says %q, want 1 created and 2 updated", done)
		}
		if after := adminCount(t, admin, "patients", ""); after != before+1 {
			t.Errorf("patients %d → %d, want one new", before, after)
		}
		var got struct {
			Patients struct {
				Edges []struct {
					Node struct {
						ID, Code, Name, Phone string
						History               []struct{ Op, Username string }
					}
				}
			}
		}
		doctor.GraphQL(t, `query($ids: [ID!]) { patients(where: {or: [{idIn: $ids}, {name: "导入戊"}]}) { edges { node { id code name phone history { op username } } } } }`,
			map[string]any{"ids": []string{a.ID, b.ID}}).Decode(t, &got)
		want := map[string][2]string{a.ID: {"导入甲改", "13900000001"}, b.ID: {b.Name, "13900000002"}}
		created := 0
		for _, e := range got.Patients.Edges {
			n := e.Node
			if n.Name == "导入戊" {
				created++
				if n.Code == "" || n.Phone != "13900000005" {
					t.Errorf("the created patient has number %q and phone %q, want a new number and 13900000005", n.Code, n.Phone)
				}
				continue
			}
			if w := want[n.ID]; n.Name != w[0] || n.Phone != w[1] {
				t.Errorf("patient %s is %q %q after the import, want %q %q", n.Code, n.Name, n.Phone, w[0], w[1])
			}
			if !slices.ContainsFunc(n.History, func(h struct{ Op, Username string }) bool {
				return strings.EqualFold(h.Op, "update") && h.Username == "liuyang"
			}) {
				t.Errorf("the updated patient %s has audit history %+v, want an update by liuyang", n.Code, n.History)
			}
		}
		if created != 1 {
			t.Errorf("%d patients named 导入戊, want 1", created)
		}

		// A column the user may not match by is refused, and says so.
		status := eval[int](p, `(() => { const f = new FormData(); f.append('key', 'balance');
			f.append('file', new Blob(['账户余额,姓名\n1,x\n'], {type: 'text/csv'}), 'x.csv');
			return fetch('/e/Patient/import', {method: 'POST', body: f, credentials: 'same-origin'})
				.then(async r => (await r.text()).includes('不能按此列匹配已有记录') ? r.status : -r.status) })()`)
		if status != 200 {
			t.Errorf("a match by 账户余额 (no natural key) answered %d without saying why", status)
		}
		p.noErrors()
	})

	t.Run("Limits", func(t *testing.T) {
		p.t = t
		before := adminCount(t, admin, "patients", "")
		// The most rows an all-or-nothing import holds (999 under the default field limit of 2000: two
		// fields a row) go in as one operation; one row more is refused, pointing to the valid-rows mode.
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
			t.Errorf("a file of 1000 rows, all or nothing: %q, want a refusal naming the rows and the limit", msg)
		}
		type answer struct {
			Status int    `json:"status"`
			Body   string `json:"body"`
		}
		// More than 200,000 rows are refused in either mode.
		out := eval[answer](p, `(() => { const f = new FormData(); f.append('mode', 'valid'); f.append('file', new Blob(['name,gender\n' + 'x,male\n'.repeat(200001)], {type: 'text/csv'}), 'many.csv');
			return fetch('/e/Patient/import', {method: 'POST', body: f, credentials: 'same-origin'}).then(async r => ({status: r.status, body: await r.text()})) })()`)
		if out.Status != 200 || !strings.Contains(out.Body, "200001") || !strings.Contains(out.Body, "200000") {
			t.Errorf("a file of 200,001 rows: status %d, want a refusal naming the rows and the limit", out.Status)
		}
		// A file over 50 MB, posted as the form would: refused with 413, in the page's language.
		p.open("/e/Patient/import")
		out = eval[answer](p, `(() => { const f = new FormData(); f.append('file', new Blob(['name,gender\n' + '大文件,male\n'.repeat(3600000)], {type: 'text/csv'}), 'big.csv');
			return fetch('/e/Patient/import', {method: 'POST', body: f, credentials: 'same-origin'}).then(async r => ({status: r.status, body: await r.text()})) })()`)
		if out.Status != 413 || !strings.Contains(out.Body, "50 MB") {
			t.Errorf("a 54 MB file: status %d, want 413 with the localized limit", out.Status)
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

// importXLSX uploads rows as the first sheet of an Excel workbook (with a second sheet the import must
// not read) on the open import page, styling the cells named in numFmts with Excel's built-in number
// formats, and waits for sel on the answer; it returns sel's text.
func (p *page) importXLSX(rows [][]any, numFmts map[string]int, sel string) string {
	p.t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			p.t.Fatal(err)
		}
	}
	for cell, id := range numFmts {
		style, err := f.NewStyle(&excelize.Style{NumFmt: id})
		if err != nil {
			p.t.Fatal(err)
		}
		if err := f.SetCellStyle(sheet, cell, cell, style); err != nil {
			p.t.Fatal(err)
		}
	}
	if _, err := f.NewSheet("其他"); err != nil {
		p.t.Fatal(err)
	}
	f.SetSheetRow("其他", "A1", &[]any{"姓名", "不应导入"})
	path := filepath.Join(p.t.TempDir(), "import.xlsx")
	if err := f.SaveAs(path); err != nil {
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
