package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/pgtest"
)

// TestAdminImportJobAcrossInstances runs two instances of the hospital app on one Postgres database, as
// behind a load balancer. A background import started on one is followed and stopped from the other
// (the job's state is in the database, not in the process that writes its rows). An import whose
// instance shuts down reads as interrupted on the other, with the rows it had processed and written, and
// its user may import again. (A process that dies without shutting down leaves a heartbeat that goes
// stale: TestJobStore.)
func TestAdminImportJobAcrossInstances(t *testing.T) {
	a := adminApp(t, "hospital")
	dsn := pgtest.DSN(t)
	one := a.Start(t, dsn, noTimers)
	two := a.Start(t, dsn, noTimers)
	admin := two.As(t, "admin", "admin123")

	const rows = 20000
	var b strings.Builder
	b.WriteString("姓名,性别\n")
	for i := range rows {
		fmt.Fprintf(&b, "跨实例%05d,%s\n", i, []string{"男", "女"}[i%2])
	}
	path := filepath.Join(t.TempDir(), "patients.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	imported := func() int { return adminCount(t, admin, "patients", `{nameHasPrefix: "跨实例"}`) }

	p := openBrowser(t, one) // liuyang on instance one
	p.signIn("liuyang", "doctor123")
	q := openBrowser(t, two) // liuyang again, on instance two
	q.signIn("liuyang", "doctor123")
	upload := func() string {
		t.Helper()
		p.open("/lang?l=zh&next=/e/Patient/import")
		p.do(chromedp.Click(chromedp.CSS("#import-mode-valid")),
			chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path}),
			chromedp.Click(chromedp.CSS("#import-run")))
		p.waitWithin(60*time.Second, `location.pathname.startsWith('/e/Patient/import/jobs/')`)
		return eval[string](p, `location.pathname`)
	}

	// Followed and stopped on the other instance.
	job := upload()
	q.open("/lang?l=zh&next=" + job)
	q.waitWithin(60*time.Second, `document.querySelector('#import-count') && +document.querySelector('#import-count').dataset.done > 0`)
	if total := eval[string](q, `document.querySelector('#import-count').dataset.total`); total != strconv.Itoa(rows) {
		t.Errorf("the other instance's progress bar counts %s rows, want %d", total, rows)
	}
	q.screenshots("import-job-other-instance")
	q.do(chromedp.Click(chromedp.CSS("#import-cancel")))
	q.waitWithin(90*time.Second, `document.querySelector('#import-done, #import-error')`)
	msg := q.text("#import-error")
	m := regexp.MustCompile(`^导入已停止：停止前已导入 (\d+) 条`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("stopped from the other instance, the import says %q", msg)
	}
	stopped, _ := strconv.Atoi(m[1])
	if stopped <= 0 || stopped >= rows {
		t.Errorf("the import stopped from the other instance wrote %d of %d rows", stopped, rows)
	}
	if n := imported(); n != stopped {
		t.Errorf("the API counts %d imported patients, the stopped import says %d", n, stopped)
	}
	q.noErrors()

	// Interrupted: instance one stops while its job runs.
	job = upload()
	q.open(job)
	q.waitWithin(60*time.Second, `document.querySelector('#import-count') && +document.querySelector('#import-count').dataset.done > 0`)
	// SIGTERM: a graceful shutdown marks the jobs it runs as interrupted, and the poll reloads the page.
	one.Stop()
	q.waitWithin(30*time.Second, `document.querySelector('#import-error')`)
	got := q.text("#import-error")
	m = regexp.MustCompile(`^导入因服务重启而中断：已处理 (\d+) / (\d+) 行，至少已导入 (\d+) 条`).FindStringSubmatch(got)
	if m == nil || m[2] != strconv.Itoa(rows) {
		t.Fatalf("the interrupted import reads %q, want it to say so with the rows done of %d and written", got, rows)
	}
	done, _ := strconv.Atoi(m[1])
	written, _ := strconv.Atoi(m[3])
	if done <= 0 || done >= rows || written > done {
		t.Errorf("the interrupted import says %d rows done, %d written, of %d", done, written, rows)
	}
	// A batch commits before its count is written: the process may have stopped in between, so one batch
	// more than counted may be in the database, never less.
	if n := imported() - stopped; n < written || n > written+500 {
		t.Errorf("the API counts %d patients of the interrupted import, which says it wrote at least %d (and at most a batch of 500 more)", n, written)
	}
	q.screenshots("import-job-interrupted")
	q.noErrors()

	// Its user may import again, on the instance left.
	q.open("/e/Patient/import")
	q.do(chromedp.Click(chromedp.CSS("#import-mode-valid")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path}),
		chromedp.Click(chromedp.CSS("#import-run")))
	q.waitWithin(60*time.Second, `location.pathname.startsWith('/e/Patient/import/jobs/') || document.querySelector('#import-error')`)
	if strings.Contains(q.text("main"), "已有一个导入正在进行") {
		t.Errorf("after the interruption the user's new import is refused as busy")
	}
	q.do(chromedp.Click(chromedp.CSS("#import-cancel")))
	q.waitWithin(90*time.Second, `document.querySelector('#import-done, #import-error')`)
	q.noErrors()
}

// TestAdminImportAllOrNothingJob imports, all or nothing, a file of more rows than one API operation takes
// (its default field limit allows 999 creates) into the hospital app on Postgres: it runs as a background
// job whose batches are savepoints of one transaction. A file with a name too long on row 1101, on rows
// 701 and 1151 the ID card number of row 11 (a duplicate the database refuses, which on Postgres would
// abort a plain transaction) and on row 31 one whose check character the app's extension refuses, in its
// own words, writes nothing, and lists those rows, each with its field; after the fix, the same file
// writes every row. A small file, written in one request, lists a duplicate as its own row's problem only.
func TestAdminImportAllOrNothingJob(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, pgtest.DSN(t), noTimers)
	admin := s.As(t, "admin", "admin123")
	const rows = 1200
	idCard := func(i int) string { // valid numbers: the app checks their check character
		card, _ := pmIDCard("110101199001010000", i)
		return card
	}
	file := func(broken bool) string {
		var b strings.Builder
		b.WriteString("姓名,性别,身份证号\n")
		for i := range rows {
			name, card := fmt.Sprintf("整批%04d", i), idCard(i)
			if broken && i == 1099 {
				name = strings.Repeat("长", 65)
			}
			if broken && (i == 699 || i == 1149) {
				card = idCard(9)
			}
			if broken && i == 29 {
				card = card[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", card[17])+1)%11])
			}
			fmt.Fprintf(&b, "%s,%s,%s\n", name, []string{"男", "女"}[i%2], card)
		}
		path := filepath.Join(t.TempDir(), "patients.csv")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	imported := func() int { return adminCount(t, admin, "patients", `{nameHasPrefix: "整批"}`) }
	p := openBrowser(t, s)
	p.signIn("admin", "admin123")
	run := func(path string) {
		t.Helper()
		p.open("/lang?l=zh&next=/e/Patient/import")
		if limits := p.text("main"); strings.Contains(limits, "全部导入或全部不导入”最多") {
			t.Errorf("on Postgres the import page still bounds all or nothing: %q", limits)
		}
		p.do(chromedp.Click(chromedp.CSS("#import-mode-all")),
			chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path}),
			chromedp.Click(chromedp.CSS("#import-run")))
		p.waitWithin(60*time.Second, `location.pathname.startsWith('/e/Patient/import/jobs/')`)
		p.waitWithin(180*time.Second, `document.querySelector('#import-done, #import-error')`)
	}

	// A small file, all or nothing in one request: a duplicate the database refuses on row 3 is listed as
	// row 3's alone; row 4, valid, is not listed with the error of row 3's failed statement.
	small := filepath.Join(t.TempDir(), "small.csv")
	if err := os.WriteFile(small, []byte("姓名,性别,身份证号\n整批小甲,男,"+idCard(5000)+"\n整批小乙,女,"+idCard(5000)+
		"\n整批小丙,男,"+idCard(5001)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.open("/lang?l=zh&next=/e/Patient/import")
	p.do(chromedp.Click(chromedp.CSS("#import-mode-all")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{small}),
		chromedp.Click(chromedp.CSS("#import-run")))
	p.waitWithin(60*time.Second, `document.querySelector('#import-done, #import-error')`)
	if got := p.texts("#import-problems li"); len(got) != 1 || got[0] != "第 3 行：身份证号：该值已存在" {
		t.Errorf("the small all-or-nothing import lists %q, want row 3's duplicate alone", got)
	}
	if n := imported(); n != 0 {
		t.Fatalf("the refused small import wrote %d patients", n)
	}

	run(file(true))
	if got := p.text("#import-error"); !strings.HasPrefix(got, "未导入任何记录") {
		t.Errorf("the refused all-or-nothing job says %q", got)
	}
	for _, row := range []string{"31", "701", "1101", "1151"} {
		got := p.text(`#import-problems li[data-row="` + row + `"]`)
		if !strings.HasPrefix(got, "第 "+row+" 行：") {
			t.Errorf("row %s is not listed as refused: %q", row, got)
		}
	}
	if got := p.text(`#import-problems li[data-row="1101"]`); !strings.Contains(got, "姓名") {
		t.Errorf("row 1101's problem does not name the field: %q", got)
	}
	if got := p.text(`#import-problems li[data-row="31"]`); got != "第 31 行：身份证号：身份证号校验位不正确，请核对后重新输入" {
		t.Errorf("row 31's wrong check character reads %q, want the extension's own message", got)
	}
	if n := p.count(`#import-problems li[data-row="2"], #import-problems li[data-row="12"]`); n != 0 {
		t.Errorf("valid rows are listed as refused")
	}
	if n := imported(); n != 0 {
		t.Fatalf("the refused all-or-nothing import wrote %d patients", n)
	}
	p.screenshots("import-all-or-nothing-refused")
	p.noErrors()

	run(file(false))
	if got := p.text("#import-done"); got != fmt.Sprintf("已导入 %d 条", rows) {
		t.Errorf("the all-or-nothing job says %q (error %q)", got, p.text("#import-error"))
	}
	if n := imported(); n != rows {
		t.Errorf("the all-or-nothing job wrote %d patients, want %d", n, rows)
	}
	p.noErrors()
}
