package admin

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crmgen/crmgen/platform/database"
)

// JobStore keeps the background imports in the platform table crm_import_jobs, so that a job's page, its
// stop button and its result are the same whichever instance of the app answers them, and outlive a
// restart. The goroutine that writes a job's rows lives in one process; it writes its progress here after
// every batch and reads back whether it was asked to stop. It also beats a heartbeat, so a job whose
// process is gone (a restart, a crash) is told apart from a slow one: once its heartbeat is older than
// jobStale, its page says it was interrupted, with the rows written before it stopped, and its user may
// start another. An instance that shuts down gracefully says so at once (Interrupt).
type JobStore struct {
	DB      *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres

	mu      sync.Mutex
	mine    map[string]bool // the jobs this process runs
	closing bool            // Interrupt was called: no heartbeat is written any more
}

// The states of a job's row.
const (
	jobRunning  = "running"
	jobStopping = "stopping" // its user asked it to stop: it does after the batch it is writing
	jobFinished = "finished"
)

// jobBeat is how often a running job's heartbeat is written, and jobStale how old it may be before the
// job is taken for interrupted: several beats, so a loaded database does not make a live job look dead.
const (
	jobBeat  = 15 * time.Second
	jobStale = 2 * time.Minute
)

// Migrate creates the jobs' table when it does not exist.
func (js *JobStore) Migrate(ctx context.Context) error {
	_, err := js.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS crm_import_jobs (
		id         VARCHAR(32) NOT NULL PRIMARY KEY,
		user_id    BIGINT NOT NULL,
		entity     VARCHAR(128) NOT NULL,
		total      BIGINT NOT NULL,
		done       BIGINT NOT NULL DEFAULT 0,
		written    BIGINT NOT NULL DEFAULT 0,
		refused    BIGINT NOT NULL DEFAULT 0,
		state      VARCHAR(16) NOT NULL,
		result     TEXT NOT NULL DEFAULT '',
		report     TEXT NOT NULL DEFAULT '',
		heartbeat  BIGINT NOT NULL,
		ended_at   BIGINT NOT NULL DEFAULT 0
	)`)
	if err != nil {
		return fmt.Errorf("create import jobs table: %w", err)
	}
	return nil
}

// exec and queryRow send one statement in the app's dialect and count it in database.Statements, as the
// counting driver does for the API's statements (this table is reached through the plain *sql.DB).
func (js *JobStore) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	database.Statements.Add(1)
	return js.DB.ExecContext(ctx, database.Rebind(js.Dialect, query), args...)
}

func (js *JobStore) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	database.Statements.Add(1)
	return js.DB.QueryRowContext(ctx, database.Rebind(js.Dialect, query), args...)
}

// jobRow is a job as its page shows it.
type jobRow struct {
	id, entity             string
	user                   int
	total                  int
	done, written, refused int
	state                  string
	result                 *importBody // once finished
	report                 string      // once finished: the refused rows as a CSV, "" when none
	heartbeat, ended       time.Time
}

// interrupted reports whether the job stopped without finishing: its process is gone.
func (j *jobRow) interrupted(now time.Time) bool {
	return j.state != jobFinished && now.Sub(j.heartbeat) > jobStale
}

// add registers a new running job of user, unless they have one running (one import at a time per
// user, across instances), which it returns instead; finished jobs older than jobKeep are deleted.
func (js *JobStore) add(ctx context.Context, id string, user int, entity string, total int) (*jobRow, error) {
	now := time.Now()
	if _, err := js.exec(ctx, `DELETE FROM crm_import_jobs WHERE ended_at > 0 AND ended_at < ?`,
		now.Add(-jobKeep).UnixMilli()); err != nil {
		return nil, err
	}
	// One statement inserts the job unless the user has a live one, so two uploads of one user racing on
	// two instances do not both start (but for the rare race of two such statements at once on Postgres,
	// which at worst runs two imports of one user, each still row by row through the API).
	res, err := js.exec(ctx, `INSERT INTO crm_import_jobs (id, user_id, entity, total, state, heartbeat)
		SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (
			SELECT 1 FROM crm_import_jobs WHERE user_id = ? AND state <> ? AND heartbeat > ?)`,
		id, user, entity, total, jobRunning, now.UnixMilli(), user, jobFinished, now.Add(-jobStale).UnixMilli())
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		if err == nil {
			js.mu.Lock()
			if js.mine == nil {
				js.mine = map[string]bool{}
			}
			js.mine[id] = true
			js.mu.Unlock()
		}
		return nil, err
	}
	var running string
	err = js.queryRow(ctx, `SELECT id FROM crm_import_jobs WHERE user_id = ? AND state <> ? AND heartbeat > ? LIMIT 1`,
		user, jobFinished, now.Add(-jobStale).UnixMilli()).Scan(&running)
	if err != nil {
		return nil, err // ErrNoRows: the live job ended in between; the user may upload again
	}
	return js.get(ctx, running, user, "")
}

// heartbeat is the heartbeat a running job of this process writes now: 0 once the process is shutting
// down, so the job reads as interrupted whatever it writes last.
func (js *JobStore) heartbeat() int64 {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.closing {
		return 0
	}
	return time.Now().UnixMilli()
}

// beat writes a running job's heartbeat.
func (js *JobStore) beat(ctx context.Context, id string) error {
	_, err := js.exec(ctx, `UPDATE crm_import_jobs SET heartbeat = ? WHERE id = ? AND state <> ?`,
		js.heartbeat(), id, jobFinished)
	return err
}

// Interrupt marks the jobs this process runs as interrupted, for a graceful shutdown: their pages say so
// at once on the other instances and after the restart, rather than once their heartbeat is stale.
func (js *JobStore) Interrupt(ctx context.Context) error {
	js.mu.Lock()
	js.closing = true
	var ids []any
	for id := range js.mine {
		ids = append(ids, id)
	}
	js.mu.Unlock()
	for _, id := range ids {
		if _, err := js.exec(ctx, `UPDATE crm_import_jobs SET heartbeat = 0 WHERE id = ? AND state <> ?`, id, jobFinished); err != nil {
			return err
		}
	}
	return nil
}

// get returns job id of user on entity ("": any), or nil: a job of another user does not exist for this
// one, nor does one that ended more than jobKeep ago.
func (js *JobStore) get(ctx context.Context, id string, user int, entity string) (*jobRow, error) {
	j := &jobRow{id: id, user: user}
	var result string
	var beat, ended int64
	err := js.queryRow(ctx, `SELECT entity, total, done, written, refused, state, result, report, heartbeat, ended_at
		FROM crm_import_jobs WHERE id = ? AND user_id = ?`, id, user).
		Scan(&j.entity, &j.total, &j.done, &j.written, &j.refused, &j.state, &result, &j.report, &beat, &ended)
	if errors.Is(err, sql.ErrNoRows) || err == nil && entity != "" && j.entity != entity {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	j.heartbeat = time.UnixMilli(beat)
	if ended > 0 {
		j.ended = time.UnixMilli(ended)
		if time.Since(j.ended) > jobKeep {
			return nil, nil
		}
	}
	if result != "" {
		j.result = &importBody{}
		if err := json.Unmarshal([]byte(result), j.result); err != nil {
			return nil, fmt.Errorf("read import job %s: %w", id, err)
		}
	}
	return j, nil
}

// progress adds rows processed (of which written and refused) to a running job, beats its heartbeat,
// and reports whether its user asked it to stop.
func (js *JobStore) progress(ctx context.Context, id string, done, written, refused int) (stop bool, err error) {
	// One statement: the progress goes in and the state (which the stop button may have changed) comes back.
	var state string
	if err := js.queryRow(ctx, `UPDATE crm_import_jobs SET done = done + ?, written = written + ?, refused = refused + ?, heartbeat = ?
		WHERE id = ? RETURNING state`, done, written, refused, js.heartbeat(), id).Scan(&state); err != nil {
		return false, err
	}
	return state == jobStopping, nil
}

// stop asks a running job of user to stop; a finished one stays as it is.
func (js *JobStore) stop(ctx context.Context, id string, user int) error {
	_, err := js.exec(ctx, `UPDATE crm_import_jobs SET state = ? WHERE id = ? AND user_id = ? AND state = ?`,
		jobStopping, id, user, jobRunning)
	return err
}

// finish keeps a job's result page and report.
func (js *JobStore) finish(ctx context.Context, id string, b *importBody, report string) error {
	result, err := json.Marshal(b)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	_, err = js.exec(ctx, `UPDATE crm_import_jobs SET state = ?, result = ?, report = ?, heartbeat = ?, ended_at = ? WHERE id = ?`,
		jobFinished, string(result), report, now, now, id)
	js.mu.Lock()
	delete(js.mine, id)
	js.mu.Unlock()
	return err
}
