package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmgen/crmgen/platform/database"
)

// Times are stored as Unix milliseconds (BIGINT): the same type, arithmetic and comparisons on SQLite and
// Postgres, with no time-zone or text-format pitfalls. Tokens are stored as the hex SHA-256 of the token.
//
// {{id}} is the auto-increment primary key of the dialect.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS crm_sessions (
		token_hash   VARCHAR(64) PRIMARY KEY,
		user_id      BIGINT NOT NULL,
		created_at   BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at   BIGINT NOT NULL,
		user_agent   VARCHAR(512) NOT NULL DEFAULT '',
		ip           VARCHAR(64) NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX IF NOT EXISTS crm_sessions_user_id ON crm_sessions (user_id)`,
	`CREATE INDEX IF NOT EXISTS crm_sessions_expires_at ON crm_sessions (expires_at)`,
	`CREATE TABLE IF NOT EXISTS crm_api_tokens (
		id           {{id}},
		token_hash   VARCHAR(64) NOT NULL UNIQUE,
		user_id      BIGINT NOT NULL,
		name         VARCHAR(400) NOT NULL,
		created_at   BIGINT NOT NULL,
		last_used_at BIGINT,
		revoked_at   BIGINT
	)`,
	`CREATE INDEX IF NOT EXISTS crm_api_tokens_user_id ON crm_api_tokens (user_id)`,
	// One row per password check and subject ("pair:<address>|<username>", "ip:<address>"), written
	// before the password is checked and deleted when it was right, so concurrent guesses count too. A
	// lockout's locked_until also ends the counting of the failures before it.
	`CREATE TABLE IF NOT EXISTS crm_login_failures (
		id           {{id}},
		subject      VARCHAR(400) NOT NULL,
		attempted_at BIGINT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS crm_login_failures_subject ON crm_login_failures (subject, attempted_at)`,
	`CREATE TABLE IF NOT EXISTS crm_login_lockouts (
		subject      VARCHAR(400) PRIMARY KEY,
		locked_until BIGINT NOT NULL
	)`,
}

// Migrate creates the service's tables and indexes when they do not exist. It leaves the users and
// teams tables, which the application's schema owns, alone.
func (s *Service) Migrate(ctx context.Context) error {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if s.dialect == Postgres {
		id = "BIGSERIAL PRIMARY KEY"
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create auth tables: %w", err)
	}
	defer tx.Rollback()
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, strings.ReplaceAll(stmt, "{{id}}", id)); err != nil {
			return fmt.Errorf("create auth tables: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create auth tables: %w", err)
	}
	return nil
}

// PurgeExpired deletes ended sessions, expired lockouts and failure records older than the failure
// window, and returns how many rows it deleted. Nothing depends on it for correctness (expired state is
// ignored anyway); run it now and then, from one instance or many, to keep the tables small.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	now := s.now()
	var total int64
	for _, d := range []struct {
		query string
		args  []any
	}{
		{`DELETE FROM crm_sessions WHERE expires_at <= ? OR last_seen_at <= ?`,
			[]any{ms(now), ms(now.Add(-s.cfg.IdleTimeout))}},
		// A lockout's end also marks which failures no longer count, so it stays for a window longer.
		{`DELETE FROM crm_login_lockouts WHERE locked_until <= ?`, []any{ms(now.Add(-s.cfg.FailureWindow))}},
		{`DELETE FROM crm_login_failures WHERE attempted_at <= ?`, []any{ms(now.Add(-s.cfg.FailureWindow))}},
	} {
		res, err := s.exec(ctx, d.query, d.args...)
		if err != nil {
			return total, fmt.Errorf("purge expired auth records: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// rebind writes query's ? placeholders the dialect's way.
func (s *Service) rebind(query string) string { return database.Rebind(s.dialect, query) }

// exec, query and queryRow run the service's statements, counted with the application's others
// (database.Statements, exported at /metrics).
func (s *Service) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	database.Statements.Add(1)
	return s.db.ExecContext(ctx, s.rebind(query), args...)
}

func (s *Service) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	database.Statements.Add(1)
	return s.db.QueryContext(ctx, s.rebind(query), args...)
}

func (s *Service) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	database.Statements.Add(1)
	return s.db.QueryRowContext(ctx, s.rebind(query), args...)
}

// Token prefixes tell a session from an API token (and make leaked tokens easy to recognise by secret
// scanners).
const (
	sessionPrefix = "crms_"
	apiPrefix     = "crmt_"
)

// tokenLen is the length of a token without its prefix: 32 bytes, base64url without padding.
var tokenLen = base64.RawURLEncoding.EncodedLen(32)

// newToken returns a fresh random token with the prefix.
func newToken(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b) // never fails; see crypto/rand.Read
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// wellFormed reports whether token has the prefix and the length of a token newToken makes, so garbage
// never reaches the database.
func wellFormed(token, prefix string) bool {
	return len(token) == len(prefix)+tokenLen && strings.HasPrefix(token, prefix)
}

// hashToken is what the database stores for a token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ms is t as Unix milliseconds, the storage form of times.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// clean makes untrusted text storable on both databases: valid UTF-8 (Postgres rejects anything else),
// without NUL bytes (which Postgres text cannot hold), and at most max bytes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
