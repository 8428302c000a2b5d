package workflow

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// Timer statuses. A pending timer is claimed by one instance (ClaimDue), which fires it and marks it
// fired (MarkFired); leaving the state first cancels it (CancelOnExit).
const (
	TimerPending   = "pending"
	TimerClaimed   = "claimed"
	TimerFired     = "fired"
	TimerCancelled = "cancelled"
	TimerFailed    = "failed" // its effects failed; it is not retried (the log says why)
	// TimerUnscheduled is an `at` timer whose expression gave no time on entry (a date not set yet); it
	// becomes pending when an update gives it one (Reschedule).
	TimerUnscheduled = "unscheduled"
)

// TimersDDL creates the timer table and its indexes; the app runs them at start. One row is one timer of
// one entry (entry_seq) of a record into a state, so a timer fires once per entry.
func TimersDDL(d string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS crm_timers (
	id ` + serialID(d) + `,
	workflow VARCHAR(128) NOT NULL,
	entity VARCHAR(128) NOT NULL,
	record_id BIGINT NOT NULL,
	state VARCHAR(128) NOT NULL,
	timer_index INTEGER NOT NULL,
	due_at TIMESTAMP NOT NULL,
	entry_seq INTEGER NOT NULL,
	status VARCHAR(16) NOT NULL,
	claimed_by VARCHAR(255),
	claimed_at TIMESTAMP,
	fired_at TIMESTAMP
)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS crm_timers_entry ON crm_timers (workflow, entity, record_id, state, timer_index, entry_seq)`,
		`CREATE INDEX IF NOT EXISTS crm_timers_due ON crm_timers (status, due_at)`,
	}
}

// Timer is one scheduled timer of one record.
type Timer struct {
	ID         int
	Workflow   string
	Entity     string
	RecordID   int
	State      string
	TimerIndex int // index into the workflow's Timers
	DueAt      time.Time
	EntrySeq   int // which entry of the record into State (1, 2, …)
	Status     string
	ClaimedBy  string
	FiredAt    *time.Time
}

// Spec returns the model's timer this row was scheduled for, or nil when the model no longer has it.
func (t Timer) Spec(m *metamodel.Model) *metamodel.Timer {
	w := m.Workflow(t.Workflow)
	if w == nil || t.TimerIndex < 0 || t.TimerIndex >= len(w.Timers) || w.Timers[t.TimerIndex].State != t.State {
		return nil
	}
	return w.Timers[t.TimerIndex]
}

// Stored times are whole seconds in UTC so that SQLite, which keeps them as text, compares them in time
// order. A due time rounds up (a timer never fires early), the current time down.
func dueSecond(t time.Time) time.Time {
	u := t.UTC()
	if r := u.Truncate(time.Second); !r.Equal(u) {
		return r.Add(time.Second)
	}
	return u
}

func nowSecond(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// ScheduleOnEntry schedules the timers of state for a record that has just entered it: one row per timer
// of w on that state, due `after` its duration from now, or `at` the time its expression gives for rec
// (with `now` bound to now). A timer whose `at` expression yields null or cannot be evaluated (a null
// field, say) is not scheduled. Run it in the transaction that changed the state.
func ScheduleOnEntry(ctx context.Context, ex Execer, d string, m *metamodel.Model, w *metamodel.Workflow, entity string,
	recordID int, state string, rec map[string]any, now time.Time) error {
	q := database.Rebind(d, `INSERT INTO crm_timers (workflow, entity, record_id, state, timer_index, due_at, entry_seq, status)
VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(entry_seq), 0) + 1 FROM crm_timers WHERE workflow = ? AND entity = ? AND record_id = ? AND state = ? AND timer_index = ?), ?)`)
	for i, tm := range w.Timers {
		if tm.State != state {
			continue
		}
		due, status := now.Add(time.Duration(tm.AfterNanos)), TimerPending
		if tm.At.Src != "" {
			due, status = atTime(m, w, tm, rec, now)
		}
		if _, err := ex.ExecContext(ctx, q, w.Name, entity, recordID, state, i, dueSecond(due),
			w.Name, entity, recordID, state, i, status); err != nil {
			return fmt.Errorf("workflow: schedule timer %d of state %q for %s %d: %w", i, state, entity, recordID, err)
		}
	}
	return nil
}

// atTime evaluates an `at` timer for rec: its time and TimerPending, or now and TimerUnscheduled when the
// expression gives no time (a null field, say).
func atTime(m *metamodel.Model, w *metamodel.Workflow, tm *metamodel.Timer, rec map[string]any, now time.Time) (time.Time, string) {
	v, err := eval(m, w.Entity, tm.At.Src, rec, nil, now)
	if err != nil {
		return now, TimerUnscheduled
	}
	t, ok := native(v).(time.Time)
	if !ok {
		return now, TimerUnscheduled
	}
	return t, TimerPending
}

// HasAtTimers reports whether state of w has timers at an expression's time.
func HasAtTimers(w *metamodel.Workflow, state string) bool {
	for _, tm := range w.Timers {
		if tm.State == state && tm.At.Src != "" {
			return true
		}
	}
	return false
}

// Reschedule moves the `at` timers of state that have not fired yet in a record's current entry into it to
// the times their expressions give for rec now (an appointment moved, a due date set), or back to
// unscheduled when they give none. Run it after updating a record that is in state.
func Reschedule(ctx context.Context, ex Execer, d string, m *metamodel.Model, w *metamodel.Workflow, entity string,
	recordID int, state string, rec map[string]any, now time.Time) error {
	q := database.Rebind(d, `UPDATE crm_timers SET due_at = ?, status = ? WHERE workflow = ? AND entity = ? AND record_id = ? AND state = ? AND timer_index = ? AND status IN (?, ?)`)
	for i, tm := range w.Timers {
		if tm.State != state || tm.At.Src == "" {
			continue
		}
		due, status := atTime(m, w, tm, rec, now)
		if _, err := ex.ExecContext(ctx, q, dueSecond(due), status, w.Name, entity, recordID, state, i,
			TimerPending, TimerUnscheduled); err != nil {
			return fmt.Errorf("workflow: reschedule timer %d of state %q for %s %d: %w", i, state, entity, recordID, err)
		}
	}
	return nil
}

// CancelOnExit cancels the pending timers of a record's state that it has just left.
func CancelOnExit(ctx context.Context, ex Execer, d, entity string, recordID int, leftState string) error {
	q := database.Rebind(d, `UPDATE crm_timers SET status = ? WHERE entity = ? AND record_id = ? AND state = ? AND status IN (?, ?)`)
	if _, err := ex.ExecContext(ctx, q, TimerCancelled, entity, recordID, leftState, TimerPending, TimerUnscheduled); err != nil {
		return fmt.Errorf("workflow: cancel timers of state %q for %s %d: %w", leftState, entity, recordID, err)
	}
	return nil
}

const timerColumns = `id, workflow, entity, record_id, state, timer_index, due_at, entry_seq, status, claimed_by, fired_at`

// ClaimDue claims up to limit pending timers due at now for owner (an instance name) and returns them,
// earliest first. Each timer is claimed by exactly one caller, however many instances share the database:
// Postgres locks the candidates with FOR UPDATE SKIP LOCKED so concurrent claimers take different rows,
// SQLite serializes write transactions; on both the claim is a conditional update from pending.
func ClaimDue(ctx context.Context, db *stdsql.DB, d string, now time.Time, limit int, owner string) ([]Timer, error) {
	if limit <= 0 {
		return nil, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("workflow: claim timers: %w", err)
	}
	defer tx.Rollback()
	sel := `SELECT id FROM crm_timers WHERE status = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?`
	if d == dialect.Postgres {
		sel += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, database.Rebind(d, sel), TimerPending, nowSecond(now), limit)
	if err != nil {
		return nil, fmt.Errorf("workflow: claim timers: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("workflow: claim timers: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("workflow: claim timers: %w", err)
	}
	if len(ids) == 0 {
		return nil, tx.Commit()
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	upd := database.Rebind(d, `UPDATE crm_timers SET status = ?, claimed_by = ?, claimed_at = ? WHERE status = ? AND id IN (`+in+`)`)
	args := append([]any{TimerClaimed, owner, nowSecond(now), TimerPending}, ids...)
	if _, err := tx.ExecContext(ctx, upd, args...); err != nil {
		return nil, fmt.Errorf("workflow: claim timers: %w", err)
	}
	got, err := queryTimers(ctx, tx, database.Rebind(d, `SELECT `+timerColumns+` FROM crm_timers WHERE status = ? AND claimed_by = ? AND id IN (`+in+`) ORDER BY due_at, id`),
		append([]any{TimerClaimed, owner}, ids...)...)
	if err != nil {
		return nil, fmt.Errorf("workflow: claim timers: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("workflow: claim timers: %w", err)
	}
	return got, nil
}

// MarkFired marks a claimed timer fired now; run it in the transaction that carries out the timer's
// effects, so that a failed firing leaves the timer claimed rather than fired. A timer that is not
// claimed (already fired, cancelled, or released by ReleaseStale) is an error, which should roll the
// firing back.
func MarkFired(ctx context.Context, ex Execer, d string, id int) error {
	return markFired(ctx, ex, d, id, "")
}

// MarkFiredBy is MarkFired that also requires the timer to be claimed by owner, so that an instance whose
// claim was released by ReleaseStale and taken by another cannot fire it too.
func MarkFiredBy(ctx context.Context, ex Execer, d string, id int, owner string) error {
	return markFired(ctx, ex, d, id, owner)
}

func markFired(ctx context.Context, ex Execer, d string, id int, owner string) error {
	q := `UPDATE crm_timers SET status = ?, fired_at = ? WHERE id = ? AND status = ?`
	args := []any{TimerFired, time.Now().UTC(), id, TimerClaimed}
	if owner != "" {
		q += ` AND claimed_by = ?`
		args = append(args, owner)
	}
	res, err := ex.ExecContext(ctx, database.Rebind(d, q), args...)
	if err != nil {
		return fmt.Errorf("workflow: mark timer %d fired: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		if owner != "" {
			return fmt.Errorf("workflow: mark timer %d fired: it is not claimed by %q", id, owner)
		}
		return fmt.Errorf("workflow: mark timer %d fired: it is not claimed", id)
	}
	return nil
}

// MarkFailed marks a timer claimed by owner failed: its firing rolled back with an error that retrying
// would only repeat (an invalid record, a refused write), so it is not released again.
func MarkFailed(ctx context.Context, ex Execer, d string, id int, owner string) error {
	q := database.Rebind(d, `UPDATE crm_timers SET status = ?, fired_at = ? WHERE id = ? AND status = ? AND claimed_by = ?`)
	if _, err := ex.ExecContext(ctx, q, TimerFailed, time.Now().UTC(), id, TimerClaimed, owner); err != nil {
		return fmt.Errorf("workflow: mark timer %d failed: %w", id, err)
	}
	return nil
}

// ReleaseStale returns timers claimed before cutoff and never marked fired (their instance stopped or
// crashed) to pending, so that they fire after a restart; it returns how many it released. Choose a
// cutoff well beyond the time a firing takes, and fire with MarkFiredBy.
func ReleaseStale(ctx context.Context, ex Execer, d string, cutoff time.Time) (int64, error) {
	q := database.Rebind(d, `UPDATE crm_timers SET status = ?, claimed_by = NULL, claimed_at = NULL WHERE status = ? AND claimed_at < ?`)
	res, err := ex.ExecContext(ctx, q, TimerPending, TimerClaimed, nowSecond(cutoff))
	if err != nil {
		return 0, fmt.Errorf("workflow: release stale timer claims: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Timers returns the timers of one record, oldest first (for admins and tests).
func Timers(ctx context.Context, q Querier, d, entity string, recordID int) ([]Timer, error) {
	got, err := queryTimers(ctx, q, database.Rebind(d, `SELECT `+timerColumns+` FROM crm_timers WHERE entity = ? AND record_id = ? ORDER BY id`), entity, recordID)
	if err != nil {
		return nil, fmt.Errorf("workflow: read timers: %w", err)
	}
	return got, nil
}

func queryTimers(ctx context.Context, q Querier, query string, args ...any) ([]Timer, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Timer
	for rows.Next() {
		var (
			t     Timer
			owner stdsql.NullString
			fired stdsql.NullTime
		)
		if err := rows.Scan(&t.ID, &t.Workflow, &t.Entity, &t.RecordID, &t.State, &t.TimerIndex, &t.DueAt, &t.EntrySeq,
			&t.Status, &owner, &fired); err != nil {
			return nil, err
		}
		t.ClaimedBy = owner.String
		if fired.Valid {
			f := fired.Time
			t.FiredAt = &f
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Overdue returns, for each workflow, the records whose timer of the state they are in has passed at now:
// timers of a record's latest entry into a state that are due and neither cancelled (the record left the
// state) nor waiting for a time (unscheduled), whether or not they have fired yet. A record may have left
// the state through a timer's own transition: callers keep only records still in the state (Timer.State).
// The rows are the system's view; the screens ask the API which of these records a user may see.
func Overdue(ctx context.Context, q Querier, d string, now time.Time) ([]Timer, error) {
	got, err := queryTimers(ctx, q, database.Rebind(d, `SELECT `+timerColumns+` FROM crm_timers t
WHERE t.due_at <= ? AND t.status NOT IN (?, ?)
AND t.entry_seq = (SELECT MAX(l.entry_seq) FROM crm_timers l WHERE l.entity = t.entity AND l.record_id = t.record_id AND l.state = t.state)
ORDER BY t.id`), nowSecond(now), TimerCancelled, TimerUnscheduled)
	if err != nil {
		return nil, fmt.Errorf("workflow: read overdue timers: %w", err)
	}
	return got, nil
}
