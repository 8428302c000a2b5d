package e2e

import (
	"context"
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
	"github.com/crmgen/crmgen/platform/database"
)

// TestAdminImportJobAcrossInstances runs two instances of the hospital app on one Postgres database, as
// behind a load balancer. A background import started on one is followed and stopped from the other
// (the job's state is in the database, not in the process that writes its rows). An import whose
// process is gone (stopped mid-way, its heartbeat left to go stale) reads as interrupted on the other
// instance, with the rows it had processed and written, and its user may import again.
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
	one.Stop()
	// The instance is gone; its heartbeat would go stale in jobStale (minutes): make it stale now.
	db, err := database.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := strings.TrimPrefix(job, "/e/Patient/import/jobs/")
	if _, err := db.SQL.ExecContext(context.Background(), `UPDATE crm_import_jobs SET heartbeat = $1 WHERE id = $2`,
		time.Now().Add(-time.Hour).UnixMilli(), id); err != nil {
		t.Fatal(err)
	}
	var done, written int
	if err := db.SQL.QueryRowContext(context.Background(), `SELECT done, written FROM crm_import_jobs WHERE id = $1`, id).Scan(&done, &written); err != nil {
		t.Fatal(err)
	}
	q.waitWithin(30*time.Second, `document.querySelector('#import-error')`) // the poll reloads the page
	want := fmt.Sprintf("导入因服务重启而中断：已处理 %d / %d 行，至少已导入 %d 条", done, rows, written)
	if got := q.text("#import-error"); !strings.HasPrefix(got, want) {
		t.Errorf("the interrupted import reads %q, want it to start %q", got, want)
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
