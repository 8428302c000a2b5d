package e2e

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestAdminImportLarge imports a file of a few thousand patients in the valid-rows mode through the
// browser: it runs as a background job, whose page shows a progress bar and then the result, with the
// refused rows in a report to download. What was written is checked through the API. The job is its
// user's only: another physician, and the administrator, get 404 for its page and its report. A job
// stopped from its page keeps the batches it wrote.
func TestAdminImportLarge(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")
	p := openBrowser(t, s)
	p.signIn("liuyang", "doctor123")

	// 4000 rows: every 400th has a gender that is no choice (refused by the page's own check), every
	// 1000th a balance below the minimum (refused by the API, inside a batch that is then written
	// without it).
	const rows = 4000
	var b strings.Builder
	b.WriteString("姓名,性别,账户余额\n")
	badGender, badBalance := map[string]bool{}, map[string]bool{}
	for i := range rows {
		name := fmt.Sprintf("大批导入%05d", i)
		gender, balance := []string{"男", "女"}[i%2], strconv.Itoa(i%100)
		switch {
		case i%400 == 7:
			gender = "机器人"
			badGender[name] = true
		case i%1000 == 503:
			balance = "-5"
			badBalance[name] = true
		}
		fmt.Fprintf(&b, "%s,%s,%s\n", name, gender, balance)
	}
	refused := len(badGender) + len(badBalance)
	path := filepath.Join(t.TempDir(), "patients.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	p.open("/lang?l=zh&next=/e/Patient/import")
	p.do(chromedp.Click(chromedp.CSS("#import-mode-valid")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path}),
		chromedp.Click(chromedp.CSS("#import-run")))
	// The upload answers at once with the job's page, its progress bar counting the file's rows.
	p.waitFor(`location.pathname.startsWith('/e/Patient/import/jobs/') && document.querySelector('#import-bar, #import-done')`)
	job := eval[string](p, `location.pathname`)
	if p.count("#import-bar") == 1 {
		p.screenshots("import-patient-progress")
		if total := eval[string](p, `document.querySelector('#import-count').dataset.total`); total != strconv.Itoa(rows) {
			t.Errorf("the progress bar counts %s rows, want %d", total, rows)
		}
	} else {
		t.Logf("the job had ended before its page was first shown")
	}
	// htmx polls the progress, and loads the result page when the job has ended.
	p.waitWithin(90*time.Second, `document.querySelector('#import-done, #import-error')`)
	written := rows - refused
	done := p.text("#import-done")
	if want := fmt.Sprintf("已导入 %d 条", written); !strings.Contains(done, want) || !strings.Contains(done, fmt.Sprintf("%d 行", refused)) {
		t.Fatalf("the result says %q, want %q and %d rows with problems", done, want, refused)
	}
	p.screenshots("import-patient-large-done")
	if n := adminCount(t, admin, "patients", `{nameHasPrefix: "大批导入"}`); n != written {
		t.Errorf("the API counts %d imported patients, want %d", n, written)
	}
	if n := adminCount(t, admin, "patients", fmt.Sprintf("{nameIn: %s}", jsonString(slices.Sorted(func(yield func(string) bool) {
		for k := range badGender {
			yield(k)
		}
		for k := range badBalance {
			yield(k)
		}
	})))); n != 0 {
		t.Errorf("%d refused rows were written", n)
	}
	p.expectProblem(400+7+2, "性别")
	p.expectProblem(503+2, "账户余额")

	// The report: every refused row, with its own cells and what is wrong with it.
	href := eval[string](p, `document.querySelector('#import-report')?.getAttribute('href') ?? ''`)
	if href != job+"/report.csv" {
		t.Fatalf("the result's report link is %q, want %s/report.csv", href, job)
	}
	status, body := p.fetchText(href)
	if status != 200 {
		t.Fatalf("GET %s: %d", href, status)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("the report is no CSV: %v", err)
	}
	if len(records) != refused+1 || !slices.Equal(records[0], []string{"问题", "姓名", "性别", "账户余额"}) {
		t.Fatalf("the report has %d lines (header %q), want the header and %d refused rows", len(records), records[0], refused)
	}
	for _, rec := range records[1:] {
		switch name := rec[1]; {
		case badGender[name]:
			if !strings.Contains(rec[0], "性别") || rec[2] != "机器人" {
				t.Errorf("the report's row of %s reads %q", name, rec)
			}
		case badBalance[name]:
			if !strings.Contains(rec[0], "账户余额") || rec[3] != "-5" {
				t.Errorf("the report's row of %s reads %q", name, rec)
			}
		default:
			t.Errorf("the report lists %s, which was written", name)
		}
	}
	p.noErrors()

	// The same file again, stopped from its progress page: the job ends after the batch it is writing,
	// and says how many records it wrote, which the API counts.
	p.open("/e/Patient/import")
	p.do(chromedp.Click(chromedp.CSS("#import-mode-valid")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path}),
		chromedp.Click(chromedp.CSS("#import-run")))
	p.waitFor(`location.pathname.startsWith('/e/Patient/import/jobs/')`)
	p.do(chromedp.Click(chromedp.CSS("#import-cancel")))
	p.waitWithin(60*time.Second, `document.querySelector('#import-done, #import-error')`)
	msg := p.text("#import-error")
	m := regexp.MustCompile(`^导入已停止：停止前已导入 (\d+) 条`).FindStringSubmatch(msg)
	stopped := -1
	if m != nil {
		stopped, _ = strconv.Atoi(m[1])
	}
	if stopped < 0 || stopped >= written {
		t.Fatalf("the stopped import says %q, want it stopped before the end with the records written", msg)
	}
	if n := adminCount(t, admin, "patients", `{nameHasPrefix: "大批导入"}`); n != written+stopped {
		t.Errorf("the API counts %d imported patients after the stopped import, want %d + %d", n, written, stopped)
	}
	p.noErrors()

	// Another physician, and the administrator, who may import patients too: the job is not theirs.
	q := openBrowser(t, s)
	q.signIn("chenjing", "doctor123")
	for _, path := range []string{job, job + "/report.csv"} {
		if status, _ := q.fetchText(path); status != 404 {
			t.Errorf("GET %s as another physician: %d, want 404", path, status)
		}
	}
	if status, _ := q.fetchPost(job+"/cancel", ""); status != 404 {
		t.Errorf("POST %s/cancel as another physician: %d, want 404", job, status)
	}
	q.noErrorsExcept("404")
	r := openBrowser(t, s)
	r.signIn("admin", "admin123")
	if status, _ := r.fetchText(job); status != 404 {
		t.Errorf("GET %s as the administrator: %d, want 404", job, status)
	}
	r.noErrorsExcept("404")
}
