// Package outbox delivers notifications reliably. A notification is enqueued in the caller's own
// transaction, so it exists exactly when the change that caused it commits: an in-app notification lands
// in the recipient's inbox (crm_inbox) at once, and e-mail, SMS and webhook notifications wait in the
// outbox (crm_outbox) until a Dispatcher hands them to a Sender. Delivery is at least once: a message is
// retried with exponential backoff until it is sent or has failed MaxAttempts times, after which it is a
// dead letter that admins can list and requeue. Every message carries an idempotency key, which webhook
// and SMS gateways receive, so a receiver can drop the duplicates that at-least-once delivery allows.
//
// The inbox is not a queue: there is nothing to deliver, so the inbox channel is materialized into
// crm_inbox at enqueue time and never enters crm_outbox.
//
// Times are stored as Unix milliseconds (BIGINT), as in platform/auth: the same type and comparisons on
// SQLite and Postgres. Payloads are stored as JSON text, byte for byte as given.
package outbox

import (
	"context"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/platform/database"
)

// Channels.
const (
	ChannelInbox   = "inbox"
	ChannelEmail   = "email"
	ChannelSMS     = "sms"
	ChannelWebhook = "webhook"
)

// Statuses of an outbox message.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusDead    = "dead"
)

// MaxKeyLen is the longest idempotency key.
const MaxKeyLen = 255

// ErrNotFound is returned for an inbox item or dead letter that does not exist or is not the caller's.
var ErrNotFound = errors.New("not found")

// Message is one notification.
type Message struct {
	// ID is the outbox row's id; Enqueue ignores it, the Dispatcher sets it before calling a Sender.
	ID int64
	// Channel is one of the Channel constants.
	Channel string
	// Recipient is the user id (decimal) for the inbox channel, an e-mail address for e-mail, a phone
	// number for SMS and a free-form address passed along in the payload for webhooks (the webhook's
	// URL is configuration, never data, so a model cannot make the app post anywhere).
	Recipient string
	// Subject is the inbox item's title and the e-mail's subject; SMS ignores it.
	Subject string
	Body    string
	// Link is the inbox item's link (a path in the app); only the inbox channel stores it.
	Link string
	// Payload is optional JSON handed to webhooks as is.
	Payload json.RawMessage
	// IdempotencyKey identifies the notification; when empty Enqueue derives one from the content (see
	// Key). Enqueueing a key that exists already does nothing.
	IdempotencyKey string
}

// Key returns the idempotency key Enqueue derives for m when it has none: a hash of the channel,
// recipient, subject, body, link and payload. Identical notifications therefore collapse into one; a
// caller that means to repeat a notification (a reminder each time a record enters a state) gives a key
// naming the occasion, such as "transition:Deal:42:<history id>:notify:0".
func (m Message) Key() string {
	h := sha256.New()
	for _, part := range []string{m.Channel, m.Recipient, m.Subject, m.Body, m.Link, string(m.Payload)} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:]) // length-prefixed, so ("ab","c") and ("a","bc") differ
		h.Write([]byte(part))
	}
	return "auto:" + hex.EncodeToString(h.Sum(nil))
}

// Execer runs a statement; ent mutations, *sql.Tx and *sql.DB provide it.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error)
}

// Querier runs a query; *sql.Tx and *sql.DB provide it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

// {{id}} is the auto-increment primary key of the dialect. Free text is TEXT so that both databases
// accept the same lengths.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS crm_outbox (
		id              {{id}},
		channel         VARCHAR(16) NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
		recipient       TEXT NOT NULL,
		subject         TEXT NOT NULL DEFAULT '',
		body            TEXT NOT NULL DEFAULT '',
		payload         TEXT,
		idempotency_key VARCHAR(255) NOT NULL UNIQUE,
		status          VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt_at BIGINT NOT NULL,
		last_error      TEXT,
		created_at      BIGINT NOT NULL,
		sent_at         BIGINT
	)`,
	`CREATE INDEX IF NOT EXISTS crm_outbox_due ON crm_outbox (status, next_attempt_at)`,
	`CREATE TABLE IF NOT EXISTS crm_inbox (
		id              {{id}},
		user_id         BIGINT NOT NULL,
		title           TEXT NOT NULL DEFAULT '',
		body            TEXT NOT NULL DEFAULT '',
		link            TEXT NOT NULL DEFAULT '',
		idempotency_key VARCHAR(255) NOT NULL UNIQUE,
		created_at      BIGINT NOT NULL,
		read_at         BIGINT
	)`,
	`CREATE INDEX IF NOT EXISTS crm_inbox_user ON crm_inbox (user_id, id)`,
}

// DDL returns the statements that create the outbox and inbox tables and their indexes in dialect d.
func DDL(d string) []string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d == dialect.Postgres {
		id = "BIGSERIAL PRIMARY KEY"
	}
	out := make([]string, len(schema))
	for i, s := range schema {
		out[i] = strings.ReplaceAll(s, "{{id}}", id)
	}
	return out
}

// Migrate creates the tables and indexes when they do not exist.
func Migrate(ctx context.Context, db *stdsql.DB, d string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create outbox tables: %w", err)
	}
	defer tx.Rollback()
	for _, stmt := range DDL(d) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create outbox tables: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create outbox tables: %w", err)
	}
	return nil
}

// Enqueue writes m through ex, which should be the caller's transaction (an ent mutation's driver or a
// *sql.Tx), so the notification commits or rolls back with the change that caused it. An inbox message
// becomes an inbox item at once; other channels wait in the outbox for a Dispatcher. A message whose
// idempotency key exists already is dropped without error. Within a transaction whose ctx has a
// database.WriteBehind, the rows are written behind, just before it commits.
func Enqueue(ctx context.Context, ex Execer, d string, m Message) error {
	m.Recipient = strings.TrimSpace(m.Recipient)
	if m.Recipient == "" {
		return fmt.Errorf("enqueue %s notification: no recipient", m.Channel)
	}
	if len(m.Payload) > 0 && !json.Valid(m.Payload) {
		return fmt.Errorf("enqueue %s notification to %q: payload is not valid JSON", m.Channel, m.Recipient)
	}
	if m.IdempotencyKey == "" {
		m.IdempotencyKey = m.Key()
	}
	if len(m.IdempotencyKey) > MaxKeyLen {
		return fmt.Errorf("enqueue %s notification to %q: idempotency key longer than %d bytes", m.Channel, m.Recipient, MaxKeyLen)
	}
	now := time.Now().UnixMilli()
	switch m.Channel {
	case ChannelInbox:
		user, err := strconv.ParseInt(m.Recipient, 10, 64)
		if err != nil {
			return fmt.Errorf("enqueue inbox notification: recipient %q is not a user id", m.Recipient)
		}
		err = database.Insert(ctx, ex, d, database.Row{Table: "crm_inbox",
			Columns:    []string{"user_id", "title", "body", "link", "idempotency_key", "created_at"},
			OnConflict: "ON CONFLICT (idempotency_key) DO NOTHING",
			Values:     []any{user, clean(m.Subject), clean(m.Body), clean(m.Link), clean(m.IdempotencyKey), now}})
		if err != nil {
			return fmt.Errorf("enqueue inbox notification to user %d: %w", user, err)
		}
	case ChannelEmail, ChannelSMS, ChannelWebhook:
		var payload any
		if len(m.Payload) > 0 {
			payload = clean(string(m.Payload))
		}
		err := database.Insert(ctx, ex, d, database.Row{Table: "crm_outbox",
			Columns: []string{"channel", "recipient", "subject", "body", "payload", "idempotency_key", "status",
				"attempts", "next_attempt_at", "created_at"},
			OnConflict: "ON CONFLICT (idempotency_key) DO NOTHING",
			Values: []any{m.Channel, clean(m.Recipient), clean(m.Subject), clean(m.Body), payload,
				clean(m.IdempotencyKey), "pending", 0, now, now}})
		if err != nil {
			return fmt.Errorf("enqueue %s notification to %q: %w", m.Channel, m.Recipient, err)
		}
	default:
		return fmt.Errorf("enqueue notification: unknown channel %q", m.Channel)
	}
	return nil
}

// clean makes text storable on both databases: valid UTF-8 (Postgres rejects anything else) without
// NUL bytes (which Postgres text cannot hold).
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// ms is t as Unix milliseconds, the storage form of times.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
