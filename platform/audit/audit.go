// Package audit keeps the change history of records whose entity has the `audit` trait: who changed
// what, when, and each field's old and new value. Entries are written by the enforcement hook through
// the mutation's own driver, so an entry commits or rolls back with the change it describes.
package audit

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/platform/database"
)

// Operations recorded.
const (
	OpCreate  = "create"
	OpUpdate  = "update"
	OpDelete  = "delete"
	OpRestore = "restore"
	OpSeed    = "seed" // loaded with the model's data (METAMODEL.md: "the history records it as seeded")
)

// DDL creates the audit table; the app runs it at start.
func DDL(d string) string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d == dialect.Postgres {
		id = "BIGSERIAL PRIMARY KEY"
	}
	return `CREATE TABLE IF NOT EXISTS crm_audit (
	id ` + id + `,
	entity VARCHAR(128) NOT NULL,
	record_id BIGINT NOT NULL,
	op VARCHAR(16) NOT NULL,
	user_id BIGINT,
	username VARCHAR(255),
	at TIMESTAMP NOT NULL,
	changes TEXT NOT NULL
)`
}

// IndexDDL indexes the audit table by record.
const IndexDDL = `CREATE INDEX IF NOT EXISTS crm_audit_record ON crm_audit (entity, record_id, id)`

// Change is one field's change. Old and New are JSON values (null when absent).
type Change struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// Entry is one recorded operation on one record.
type Entry struct {
	ID       int       `json:"id"`
	Entity   string    `json:"entity"`
	RecordID int       `json:"recordId"`
	Op       string    `json:"op"`
	UserID   *int      `json:"userId"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
	Changes  []Change  `json:"changes"`
}

// Execer runs a statement; ent mutations and *sql.DB both provide it.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error)
}

// Querier runs a query.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

// Write records an entry, written behind in the transaction of ctx if it has a database.WriteBehind.
func Write(ctx context.Context, ex Execer, d string, e Entry) error {
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return fmt.Errorf("audit: encode changes: %w", err)
	}
	var user any
	if e.UserID != nil {
		user = *e.UserID
	}
	if err := database.Insert(ctx, ex, d, database.Row{Table: "crm_audit",
		Columns: []string{"entity", "record_id", "op", "user_id", "username", "at", "changes"},
		Values:  []any{e.Entity, e.RecordID, e.Op, user, e.Username, e.At.UTC(), string(changes)}}); err != nil {
		return fmt.Errorf("audit: write %s %s %d: %w", e.Op, e.Entity, e.RecordID, err)
	}
	return nil
}

// History returns the entries of one record, oldest first.
func History(ctx context.Context, q Querier, d, entity string, id int) ([]Entry, error) {
	if err := database.Flush(ctx); err != nil {
		return nil, fmt.Errorf("audit: read history: %w", err)
	}
	rows, err := q.QueryContext(ctx, database.Rebind(d, `SELECT id, entity, record_id, op, user_id, username, at, changes FROM crm_audit WHERE entity = ? AND record_id = ? ORDER BY id`), entity, id)
	if err != nil {
		return nil, fmt.Errorf("audit: read history: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e       Entry
			user    stdsql.NullInt64
			name    stdsql.NullString
			changes string
		)
		if err := rows.Scan(&e.ID, &e.Entity, &e.RecordID, &e.Op, &user, &name, &e.At, &changes); err != nil {
			return nil, fmt.Errorf("audit: read history: %w", err)
		}
		if user.Valid {
			u := int(user.Int64)
			e.UserID = &u
		}
		e.Username = name.String
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("audit: decode changes of entry %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
