package admin

import (
	"context"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/dbtest"
	"github.com/crmgen/crmgen/platform/database"
)

// TestJobStore checks the jobs' table on both databases: a job is found only by its user and for its
// entity; a user runs one import at a time, until it finishes or its heartbeat goes stale (its process
// is gone), and then it reads as interrupted; a stop asked for is read back by the job; a finished job
// keeps its result and report, and is forgotten after jobKeep; creating the table twice is harmless.
func TestJobStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		js := &JobStore{DB: db.SQL, Dialect: db.Dialect}
		for range 2 {
			if err := js.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		add := func(id string, user int, entity string) *jobRow {
			t.Helper()
			running, err := js.add(ctx, id, user, entity, 1000)
			must(err)
			return running
		}
		get := func(id string, user int, entity string) *jobRow {
			t.Helper()
			j, err := js.get(ctx, id, user, entity)
			must(err)
			return j
		}
		if add("a", 1, "Patient") != nil {
			t.Fatal("the first job is refused")
		}
		if j := get("a", 1, "Patient"); j == nil || j.total != 1000 || j.state != jobRunning || j.interrupted(time.Now()) {
			t.Fatalf("its user reads the new job as %+v", j)
		}
		if get("a", 2, "Patient") != nil || get("a", 1, "Visit") != nil || get("b", 1, "Patient") != nil {
			t.Errorf("another user, another entity or another id finds the job")
		}
		if r := add("b", 1, "Visit"); r == nil || r.id != "a" || r.entity != "Patient" {
			t.Errorf("a second import of the same user is not refused while the first runs: %+v", r)
		}
		if add("c", 2, "Patient") != nil {
			t.Errorf("another user's import is refused")
		}

		before := database.Statements.Load()
		stop, err := js.progress(ctx, "a", 500, 480, 20)
		must(err)
		// /metrics counts the table's statements too, and a batch's progress costs one.
		if n := database.Statements.Load() - before; n != 1 {
			t.Errorf("a job's progress counts %d statements, want 1", n)
		}
		if stop {
			t.Errorf("a job nobody stopped reads as stopping")
		}
		must(js.stop(ctx, "a", 2)) // not theirs: nothing happens
		if stop, _ := js.progress(ctx, "a", 0, 0, 0); stop {
			t.Errorf("another user stopped the job")
		}
		must(js.stop(ctx, "a", 1))
		if stop, _ := js.progress(ctx, "a", 500, 500, 0); !stop {
			t.Errorf("the job does not read its user's stop")
		}
		if j := get("a", 1, ""); j.done != 1000 || j.written != 980 || j.refused != 20 || j.state != jobStopping {
			t.Errorf("the job's progress reads %+v, want 1000 done, 980 written, 20 refused, stopping", j)
		}
		must(js.finish(ctx, "a", &importBody{Done: "done", Problems: []importProblem{{Row: 3, Field: "姓名", Message: "此项必填"}}}, "问题,姓名\n"))
		j := get("a", 1, "Patient")
		if j.state != jobFinished || j.result == nil || j.result.Done != "done" || len(j.result.Problems) != 1 ||
			j.result.Problems[0].Field != "姓名" || j.report != "问题,姓名\n" {
			t.Fatalf("the finished job reads %+v (result %+v)", j, j.result)
		}
		if add("d", 1, "Patient") != nil {
			t.Errorf("a new import is refused after the first has ended")
		}

		// Job d's process is gone: its heartbeat is older than jobStale.
		_, err = db.SQL.ExecContext(ctx, database.Rebind(db.Dialect, `UPDATE crm_import_jobs SET heartbeat = ? WHERE id = ?`),
			time.Now().Add(-jobStale-time.Minute).UnixMilli(), "d")
		must(err)
		if j := get("d", 1, "Patient"); j == nil || !j.interrupted(time.Now()) {
			t.Errorf("a job whose heartbeat is stale does not read as interrupted: %+v", j)
		}
		if add("e", 1, "Patient") != nil {
			t.Errorf("a new import is refused while the user's only other job is interrupted")
		}

		// Finished more than jobKeep ago: forgotten, and deleted by the next add.
		_, err = db.SQL.ExecContext(ctx, database.Rebind(db.Dialect, `UPDATE crm_import_jobs SET ended_at = ? WHERE id = ?`),
			time.Now().Add(-jobKeep-time.Minute).UnixMilli(), "a")
		must(err)
		if get("a", 1, "Patient") != nil {
			t.Errorf("a job finished more than jobKeep ago is still found")
		}
		add("f", 3, "Patient")
		var n int
		must(db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_import_jobs WHERE id = 'a'`).Scan(&n))
		if n != 0 {
			t.Errorf("an old finished job is kept in the table")
		}

		// A graceful shutdown: the jobs of this process (e, f) read as interrupted at once, even after a
		// batch they write on the way out; another process's job (g) does not.
		other := &JobStore{DB: db.SQL, Dialect: db.Dialect}
		if r, err := other.add(ctx, "g", 4, "Patient", 10); err != nil || r != nil {
			t.Fatalf("another process's job: %v %+v", err, r)
		}
		must(js.Interrupt(ctx))
		if _, err := js.progress(ctx, "f", 500, 500, 0); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"e", "f"} {
			user := map[string]int{"e": 1, "f": 3}[id]
			if j := get(id, user, ""); j == nil || !j.interrupted(time.Now()) {
				t.Errorf("job %s of the process that shut down does not read as interrupted: %+v", id, j)
			}
		}
		if j := get("g", 4, ""); j == nil || j.interrupted(time.Now()) {
			t.Errorf("another process's job reads as interrupted: %+v", j)
		}
	})
}
