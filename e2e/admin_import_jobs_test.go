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
