package outbox

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/platform/database"
)

// Sender delivers messages of one channel. Send returns nil only when the message was accepted by the
// other side; any error makes the Dispatcher retry it later.
type Sender interface {
	Channel() string
	Send(ctx context.Context, m Message) error
}

// Defaults of a Dispatcher's zero fields.
const (
	DefaultMaxAttempts = 8
	DefaultLease       = 5 * time.Minute
	DefaultBatch       = 100
)

// DefaultBackoff waits 30 s after the first failure, doubling up to an hour, plus up to a quarter more at
// random so that messages failing together do not retry together.
var DefaultBackoff = Exponential(30*time.Second, time.Hour, rand.Float64)

// Exponential returns a backoff of base·2^(attempt−1), at most limit, plus up to a quarter more scaled by
// jitter, a source of numbers in [0, 1) (nil for none; inject a fixed one in tests).
func Exponential(base, limit time.Duration, jitter func() float64) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < limit; i++ {
			d *= 2
		}
		d = min(d, limit)
		if jitter != nil {
			d += time.Duration(float64(d) / 4 * jitter())
		}
		return d
	}
}

// Dispatcher sends the outbox's due messages through its Senders. Several dispatchers, in one process or
// in several app instances, may run on one database: on Postgres each message is claimed with
// SELECT … FOR UPDATE SKIP LOCKED in a transaction held while it is sent, so no two dispatchers send a
// message at the same time; on SQLite, where a transaction held during a send would block every writer,
// a short transaction claims the message by hiding it for Lease, and the outcome is written after the send.
// Either way delivery is at least once: a crash after a send and before its outcome is written sends the
// message again, with the same idempotency key.
//
// Messages of a channel without a Sender stay pending until a dispatcher with one runs.
type Dispatcher struct {
	DB      *stdsql.DB
	Dialect string
	// Senders by channel.
	Senders map[string]Sender
	// Backoff is the wait before the retry after the attempt-th failure; nil means DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// MaxAttempts is the number of failed attempts after which a message is dead; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Lease (SQLite only) hides a claimed message from other dispatchers while it is being sent, and
	// delays its retry after a crash; 0 means DefaultLease.
	Lease time.Duration
	// Batch bounds the messages one RunOnce handles; 0 means DefaultBatch.
	Batch int
	// OnError receives the errors of Run's rounds; nil logs them with slog.
	OnError func(error)
}

// Record is an outbox row.
type Record struct {
	Message
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"lastError"`
	CreatedAt     time.Time  `json:"createdAt"`
	NextAttemptAt time.Time  `json:"nextAttemptAt"`
	SentAt        *time.Time `json:"sentAt"`
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) rebind(q string) string { return database.Rebind(d.Dialect, q) }

// Run calls RunOnce every interval, and at once again after a full batch, until ctx is done. It reports
// errors to OnError and goes on.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sent, failed, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			if d.OnError != nil {
				d.OnError(err)
			} else {
				slog.Error("outbox dispatch", "err", err)
			}
		}
		if err == nil && sent+failed >= d.batch() {
			if ctx.Err() != nil {
				return
			}
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) batch() int {
	if d.Batch > 0 {
		return d.Batch
	}
	return DefaultBatch
}

// RunOnce tries each message that is due now, in id order, once: it sends it and marks it sent, or
// records the error and schedules a retry, or marks it dead after MaxAttempts failures. It returns how
// many messages were sent and how many attempts failed; err is a database error, which ends the round.
func (d *Dispatcher) RunOnce(ctx context.Context) (sent, failed int, err error) {
	channels := make([]string, 0, len(d.Senders))
	for ch := range d.Senders {
		channels = append(channels, ch)
	}
	if len(channels) == 0 {
		return 0, 0, nil
	}
	slices.Sort(channels)
	due := ms(d.now())
	var cursor int64
	for range d.batch() {
		var (
			ok     bool
			sendOK bool
		)
		if d.Dialect == dialect.Postgres {
			ok, sendOK, cursor, err = d.stepLocked(ctx, channels, due, cursor)
		} else {
			ok, sendOK, cursor, err = d.stepLeased(ctx, channels, due, cursor)
		}
		if err != nil || !ok {
			return sent, failed, err
		}
		if sendOK {
			sent++
		} else {
			failed++
		}
	}
	return sent, failed, nil
}

// selectDue returns the query for the first due message after a cursor, and its arguments.
func selectDue(channels []string, due, cursor int64) (string, []any) {
	q := `SELECT id, channel, recipient, subject, body, payload, idempotency_key, attempts FROM crm_outbox
		WHERE status = 'pending' AND next_attempt_at <= ? AND id > ? AND channel IN (?` +
		strings.Repeat(", ?", len(channels)-1) + `) ORDER BY id LIMIT 1`
	args := []any{due, cursor}
	for _, ch := range channels {
		args = append(args, ch)
	}
	return q, args
}

func scanDue(row *stdsql.Row) (Message, int, error) {
	var (
		m        Message
		payload  stdsql.NullString
		attempts int
	)
	err := row.Scan(&m.ID, &m.Channel, &m.Recipient, &m.Subject, &m.Body, &payload, &m.IdempotencyKey, &attempts)
	if payload.Valid {
		m.Payload = []byte(payload.String)
	}
	return m, attempts, err
}

// stepLocked (Postgres) claims, sends and settles one message in one transaction.
func (d *Dispatcher) stepLocked(ctx context.Context, channels []string, due, cursor int64) (ok, sendOK bool, next int64, err error) {
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, false, cursor, fmt.Errorf("claim outbox message: %w", err)
	}
	defer tx.Rollback()
	q, args := selectDue(channels, due, cursor)
	m, attempts, err := scanDue(tx.QueryRowContext(ctx, d.rebind(q+` FOR UPDATE SKIP LOCKED`), args...))
	if errors.Is(err, stdsql.ErrNoRows) {
		return false, false, cursor, nil
	}
	if err != nil {
		return false, false, cursor, fmt.Errorf("claim outbox message: %w", err)
	}
	sendErr := d.send(ctx, m)
	if err := d.settle(ctx, tx, m.ID, attempts, sendErr); err != nil {
		return false, false, m.ID, err
	}
	if err := tx.Commit(); err != nil {
		return false, false, m.ID, fmt.Errorf("settle outbox message %d: %w", m.ID, err)
	}
	return true, sendErr == nil, m.ID, nil
}

// stepLeased (SQLite) claims one message by hiding it for the lease, sends it, then settles it.
func (d *Dispatcher) stepLeased(ctx context.Context, channels []string, due, cursor int64) (ok, sendOK bool, next int64, err error) {
	lease := d.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, false, cursor, fmt.Errorf("claim outbox message: %w", err)
	}
	defer tx.Rollback()
	q, args := selectDue(channels, due, cursor)
	m, attempts, err := scanDue(tx.QueryRowContext(ctx, d.rebind(q), args...))
	if errors.Is(err, stdsql.ErrNoRows) {
		return false, false, cursor, nil
	}
	if err != nil {
		return false, false, cursor, fmt.Errorf("claim outbox message: %w", err)
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`UPDATE crm_outbox SET next_attempt_at = ? WHERE id = ?`),
		ms(d.now().Add(lease)), m.ID); err != nil {
		return false, false, m.ID, fmt.Errorf("claim outbox message %d: %w", m.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return false, false, m.ID, fmt.Errorf("claim outbox message %d: %w", m.ID, err)
	}
	sendErr := d.send(ctx, m)
	if err := d.settle(ctx, d.DB, m.ID, attempts, sendErr); err != nil {
		return false, false, m.ID, err
	}
	return true, sendErr == nil, m.ID, nil
}

// send hands m to its channel's sender, turning a panic into an error.
func (d *Dispatcher) send(ctx context.Context, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sender panicked: %v", r)
		}
	}()
	s := d.Senders[m.Channel]
	if s == nil {
		return fmt.Errorf("no sender for channel %q", m.Channel)
	}
	return s.Send(ctx, m)
}

// maxErrorLen bounds a stored error message.
const maxErrorLen = 2000

// settle records the outcome of an attempt on message id, which had failed attempts times before.
func (d *Dispatcher) settle(ctx context.Context, ex Execer, id int64, attempts int, sendErr error) error {
	attempts++
	now := d.now()
	var (
		q    string
		args []any
	)
	switch {
	case sendErr == nil:
		q, args = `UPDATE crm_outbox SET status = 'sent', attempts = ?, sent_at = ? WHERE id = ?`, []any{attempts, ms(now), id}
	case attempts >= d.maxAttempts():
		q, args = `UPDATE crm_outbox SET status = 'dead', attempts = ?, last_error = ? WHERE id = ?`, []any{attempts, errText(sendErr), id}
	default:
		backoff := d.Backoff
		if backoff == nil {
			backoff = DefaultBackoff
		}
		q, args = `UPDATE crm_outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?`,
			[]any{attempts, errText(sendErr), ms(now.Add(backoff(attempts))), id}
	}
	if _, err := ex.ExecContext(ctx, d.rebind(q), args...); err != nil {
		return fmt.Errorf("settle outbox message %d: %w", id, err)
	}
	return nil
}

func (d *Dispatcher) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return DefaultMaxAttempts
}

func errText(err error) string {
	s := clean(err.Error())
	if len(s) > maxErrorLen {
		s = strings.ToValidUTF8(s[:maxErrorLen], "")
	}
	return s
}

// Dead lists the dead letters, oldest first, for admins.
func (d *Dispatcher) Dead(ctx context.Context) ([]Record, error) {
	return d.list(ctx, `WHERE status = 'dead' ORDER BY id`)
}

// Get returns the outbox message id.
func (d *Dispatcher) Get(ctx context.Context, id int64) (Record, error) {
	rs, err := d.list(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Record{}, err
	}
	if len(rs) == 0 {
		return Record{}, fmt.Errorf("outbox message %d: %w", id, ErrNotFound)
	}
	return rs[0], nil
}

// Requeue makes the dead letter id pending again, due now, with no attempts; a message that is not
// dead is ErrNotFound.
func (d *Dispatcher) Requeue(ctx context.Context, id int64) error {
	return Requeue(ctx, d.DB, d.Dialect, id, d.now())
}

// Requeue is Dispatcher.Requeue through ex, such as the transaction of the request that asks for it.
func Requeue(ctx context.Context, ex Execer, dialect string, id int64, now time.Time) error {
	res, err := ex.ExecContext(ctx, database.Rebind(dialect, `UPDATE crm_outbox SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND status = 'dead'`),
		ms(now), id)
	if err != nil {
		return fmt.Errorf("requeue outbox message %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("requeue outbox message %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("dead outbox message %d: %w", id, ErrNotFound)
	}
	return nil
}

func (d *Dispatcher) list(ctx context.Context, where string, args ...any) ([]Record, error) {
	rows, err := d.DB.QueryContext(ctx, d.rebind(`SELECT id, channel, recipient, subject, body, payload, idempotency_key,
		status, attempts, last_error, created_at, next_attempt_at, sent_at FROM crm_outbox `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var (
			r                Record
			payload, lastErr stdsql.NullString
			created, next    int64
			sent             stdsql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Channel, &r.Recipient, &r.Subject, &r.Body, &payload, &r.IdempotencyKey,
			&r.Status, &r.Attempts, &lastErr, &created, &next, &sent); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		if payload.Valid {
			r.Payload = []byte(payload.String)
		}
		r.LastError = lastErr.String
		r.CreatedAt, r.NextAttemptAt = fromMS(created), fromMS(next)
		if sent.Valid {
			t := fromMS(sent.Int64)
			r.SentAt = &t
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}
