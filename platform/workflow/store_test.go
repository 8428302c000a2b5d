package workflow_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/dbtest"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/workflow"
)

// eachDB runs f on a fresh SQLite database and a fresh Postgres database, with the tables created.
func eachDB(t *testing.T, f func(t *testing.T, db *database.DB, dsn string)) {
	dbtest.Each(t, func(t *testing.T, db *database.DB, dsn string) {
		ddl := append(workflow.HistoryDDL(db.Dialect), workflow.TimersDDL(db.Dialect)...)
		for _, s := range append(ddl, ddl...) { // twice: the DDL is idempotent
			if _, err := db.SQL.ExecContext(context.Background(), s); err != nil {
				t.Fatal(err)
			}
		}
		f(t, db, dsn)
	})
}

func TestHistory(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database.DB, dsn string) {
		ctx := context.Background()
		at := time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)
		uid := 3
		steps := []workflow.Step{
			{Workflow: "TicketFlow", Entity: "Ticket", RecordID: 1, To: "open", Transition: workflow.StepSeeded, At: at},
			{Workflow: "TicketFlow", Entity: "Ticket", RecordID: 1, From: "open", To: "assigned", Transition: "assign",
				UserID: &uid, Username: "boss", At: at.Add(time.Hour)},
			{Workflow: "TicketFlow", Entity: "Ticket", RecordID: 2, From: "open", To: "assigned", Transition: "assign", At: at},
			{Workflow: "TicketFlow", Entity: "Ticket", RecordID: 1, From: "assigned", To: "closed", Transition: "close",
				UserID: &uid, Username: "boss", Comment: "duplicate of #7", At: at.Add(2 * time.Hour)},
		}
		for _, s := range steps {
			if err := workflow.RecordStep(ctx, db.SQL, db.Dialect, s); err != nil {
				t.Fatal(err)
			}
		}
		got, err := workflow.History(ctx, db.SQL, db.Dialect, "Ticket", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("history has %d steps, want 3: %+v", len(got), got)
		}
		for i, want := range []workflow.Step{steps[0], steps[1], steps[3]} {
			g := got[i]
			if g.ID == 0 || g.Workflow != want.Workflow || g.From != want.From || g.To != want.To ||
				g.Transition != want.Transition || g.Username != want.Username || g.Comment != want.Comment ||
				!g.At.Equal(want.At) || (g.UserID == nil) != (want.UserID == nil) || (g.UserID != nil && *g.UserID != *want.UserID) {
				t.Errorf("step %d = %+v, want %+v", i, g, want)
			}
		}
	})
}

func TestTimersScheduleCancelClaim(t *testing.T) {
	m, w := testModel(t)
	eachDB(t, func(t *testing.T, db *database.DB, dsn string) {
		ctx := context.Background()
		entered := time.Date(2026, 3, 1, 9, 0, 0, 500_000_000, time.UTC)
		due := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		rec := ticket("assigned", func(r map[string]any) { r["dueAt"] = due })
		if err := workflow.ScheduleOnEntry(ctx, db.SQL, db.Dialect, m, w, "Ticket", 1, "assigned", rec, entered); err != nil {
			t.Fatal(err)
		}
		// Without dueAt the `at` timer has no time: it waits unscheduled until an update gives it one.
		if err := workflow.ScheduleOnEntry(ctx, db.SQL, db.Dialect, m, w, "Ticket", 2, "assigned", ticket("assigned", nil), entered); err != nil {
			t.Fatal(err)
		}
		got, err := workflow.Timers(ctx, db.SQL, db.Dialect, "Ticket", 1)
		if err != nil {
			t.Fatal(err)
		}
		after := time.Date(2026, 3, 4, 9, 0, 1, 0, time.UTC) // 72h after entry, rounded up to the second
		at := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)   // dueAt − 24h
		if len(got) != 2 || got[0].TimerIndex != 0 || !got[0].DueAt.Equal(after) || got[1].TimerIndex != 1 ||
			!got[1].DueAt.Equal(at) || got[0].Status != workflow.TimerPending || got[0].EntrySeq != 1 || got[0].State != "assigned" {
			t.Fatalf("timers of 1 = %+v, want after %v and at %v", got, after, at)
		}
		if spec := got[1].Spec(m); spec == nil || spec.At.Src == "" {
			t.Errorf("Spec = %+v, want the at timer", spec)
		}
		other, err := workflow.Timers(ctx, db.SQL, db.Dialect, "Ticket", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(other) != 2 || other[0].TimerIndex != 0 || other[0].Status != workflow.TimerPending ||
			other[1].TimerIndex != 1 || other[1].Status != workflow.TimerUnscheduled {
			t.Fatalf("timers of 2 = %+v, want the after timer pending and the at timer unscheduled", other)
		}

		// Nothing is due a moment before the first timer.
		claimed, err := workflow.ClaimDue(ctx, db.SQL, db.Dialect, after.Add(-time.Millisecond), 10, "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 0 {
			t.Fatalf("claimed before due: %+v", claimed)
		}
		// At its time the after timers of both records are due, earliest first; the at timer is not.
		claimed, err = workflow.ClaimDue(ctx, db.SQL, db.Dialect, after, 10, "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 2 || claimed[0].RecordID != 1 || claimed[1].RecordID != 2 || claimed[0].ClaimedBy != "a" ||
			claimed[0].Status != workflow.TimerClaimed {
			t.Fatalf("claimed = %+v, want the after timers of 1 and 2", claimed)
		}
		again, err := workflow.ClaimDue(ctx, db.SQL, db.Dialect, after.Add(time.Hour), 10, "b")
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Fatalf("claimed twice: %+v", again)
		}
		// A claim whose instance stopped is released after its lease and claimed again; the first
		// instance can then no longer fire it.
		if n, err := workflow.ReleaseStale(ctx, db.SQL, db.Dialect, after); err != nil || n != 0 {
			t.Fatalf("ReleaseStale of fresh claims = %d, %v; want 0", n, err)
		}
		if n, err := workflow.ReleaseStale(ctx, db.SQL, db.Dialect, after.Add(time.Minute)); err != nil || n != 2 {
			t.Fatalf("ReleaseStale = %d, %v; want 2", n, err)
		}
		reclaimed, err := workflow.ClaimDue(ctx, db.SQL, db.Dialect, after.Add(time.Minute), 10, "b")
		if err != nil || len(reclaimed) != 2 || reclaimed[0].ClaimedBy != "b" {
			t.Fatalf("reclaimed = %+v, %v", reclaimed, err)
		}
		if err := workflow.MarkFiredBy(ctx, db.SQL, db.Dialect, claimed[1].ID, "a"); err == nil {
			t.Error("an instance fired a timer another instance had reclaimed")
		}
		if err := workflow.MarkFiredBy(ctx, db.SQL, db.Dialect, claimed[1].ID, "b"); err != nil {
			t.Fatal(err)
		}
		if err := workflow.MarkFired(ctx, db.SQL, db.Dialect, claimed[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := workflow.MarkFired(ctx, db.SQL, db.Dialect, claimed[0].ID); err == nil {
			t.Error("a timer was marked fired twice")
		}

		// Leaving the state cancels the pending at timer; a fired one stays fired.
		if err := workflow.CancelOnExit(ctx, db.SQL, db.Dialect, "Ticket", 1, "assigned"); err != nil {
			t.Fatal(err)
		}
		got, err = workflow.Timers(ctx, db.SQL, db.Dialect, "Ticket", 1)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Status != workflow.TimerFired || got[0].FiredAt == nil || got[1].Status != workflow.TimerCancelled {
			t.Fatalf("after exit: %+v", got)
		}
		if c, err := workflow.ClaimDue(ctx, db.SQL, db.Dialect, due.Add(time.Hour), 10, "a"); err != nil || len(c) != 0 {
			t.Fatalf("claimed a cancelled timer: %+v, %v", c, err)
		}

		// Entering the state again schedules a new entry, which fires again.
		if err := workflow.ScheduleOnEntry(ctx, db.SQL, db.Dialect, m, w, "Ticket", 1, "assigned", rec, entered.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err = workflow.Timers(ctx, db.SQL, db.Dialect, "Ticket", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[2].EntrySeq != 2 || got[3].EntrySeq != 2 || got[2].Status != workflow.TimerPending {
			t.Fatalf("after re-entry: %+v", got)
		}
		// A state without timers schedules nothing.
		if err := workflow.ScheduleOnEntry(ctx, db.SQL, db.Dialect, m, w, "Ticket", 3, "open", rec, entered); err != nil {
			t.Fatal(err)
		}
		if got, _ := workflow.Timers(ctx, db.SQL, db.Dialect, "Ticket", 3); len(got) != 0 {
			t.Errorf("timers of a state without timers: %+v", got)
		}
	})
}

// TestReschedule moves an `at` timer with its expression's inputs: scheduled when a date is set, moved
// when it changes, unscheduled when it is cleared, left alone once fired, and cancelled on exit.
func TestReschedule(t *testing.T) {
	m, w := testModel(t)
	eachDB(t, func(t *testing.T, db *database.DB, dsn string) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		if err := workflow.ScheduleOnEntry(ctx, db.SQL, db.Dialect, m, w, "Ticket", 7, "assigned", ticket("assigned", nil), now); err != nil {
			t.Fatal(err)
		}
		atTimer := func() workflow.Timer {
			t.Helper()
			ts, err := workflow.Timers(ctx, db.SQL, db.Dialect, "Ticket", 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range ts {
				if x.TimerIndex == 1 {
					return x
				}
			}
			t.Fatalf("no at timer in %+v", ts)
			return workflow.Timer{}
		}
		for _, c := range []struct {
			due        any
			wantStatus string
			wantDue    time.Time
		}{
			{time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), workflow.TimerPending, time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)},
			{time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC), workflow.TimerPending, time.Date(2026, 3, 19, 12, 0, 0, 0, time.UTC)},
			{nil, workflow.TimerUnscheduled, time.Time{}},
		} {
			rec := ticket("assigned", func(r map[string]any) { r["dueAt"] = c.due })
			if err := workflow.Reschedule(ctx, db.SQL, db.Dialect, m, w, "Ticket", 7, "assigned", rec, now); err != nil {
				t.Fatal(err)
			}
			got := atTimer()
			if got.Status != c.wantStatus || (!c.wantDue.IsZero() && !got.DueAt.Equal(c.wantDue)) {
				t.Errorf("dueAt %v: at timer = %+v, want %s due %v", c.due, got, c.wantStatus, c.wantDue)
			}
		}
		if err := workflow.CancelOnExit(ctx, db.SQL, db.Dialect, "Ticket", 7, "assigned"); err != nil {
			t.Fatal(err)
		}
		if got := atTimer(); got.Status != workflow.TimerCancelled {
			t.Errorf("after exit: %+v, want cancelled", got)
		}
		// A cancelled (or fired) timer of an earlier entry stays as it is.
		rec := ticket("assigned", func(r map[string]any) { r["dueAt"] = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) })
		if err := workflow.Reschedule(ctx, db.SQL, db.Dialect, m, w, "Ticket", 7, "assigned", rec, now); err != nil {
			t.Fatal(err)
		}
		if got := atTimer(); got.Status != workflow.TimerCancelled {
			t.Errorf("reschedule after exit: %+v, want still cancelled", got)
		}
	})
}

func TestClaimDueConcurrently(t *testing.T) {
	m, w := testModel(t)
	eachDB(t, func(t *testing.T, db *database.DB, dsn string) {
		ctx := context.Background()
		entered := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		const records = 60
		for id := 1; id <= records; id++ {
			if err := workflow.ScheduleOnEntry(ctx, db.SQL, db.Dialect, m, w, "Ticket", id, "done", ticket("done", nil), entered); err != nil {
				t.Fatal(err)
			}
		}
		// A second database handle stands for a second app instance.
		other, err := database.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		second := other.SQL
		now := entered.Add(time.Hour)
		var (
			mu     sync.Mutex
			counts = map[int]int{}
			wg     sync.WaitGroup
			errs   = make(chan error, 8)
		)
		for i := range 8 {
			handle := db.SQL
			if i%2 == 1 {
				handle = second
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := workflow.ClaimDue(ctx, handle, db.Dialect, now, 3, fmt.Sprintf("instance-%d", i))
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, tm := range got {
						counts[tm.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(counts) != records {
			t.Errorf("%d timers claimed, want %d", len(counts), records)
		}
		for id, n := range counts {
			if n != 1 {
				t.Errorf("timer %d claimed %d times", id, n)
			}
		}
	})
}
