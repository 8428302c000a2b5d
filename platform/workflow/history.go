package workflow

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/platform/database"
)

// Execer runs a statement; ent drivers, transactions and *sql.DB all provide it.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error)
}

// Querier runs a query.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

func serialID(d string) string {
	if d == dialect.Postgres {
		return "BIGSERIAL PRIMARY KEY"
	}
	return "INTEGER PRIMARY KEY AUTOINCREMENT"
}

// HistoryDDL creates the workflow history table and its index; the app runs them at start.
func HistoryDDL(d string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS crm_workflow_history (
	id ` + serialID(d) + `,
	workflow VARCHAR(128) NOT NULL,
	entity VARCHAR(128) NOT NULL,
	record_id BIGINT NOT NULL,
	from_state VARCHAR(128),
	to_state VARCHAR(128) NOT NULL,
	transition VARCHAR(128),
	user_id BIGINT,
	username VARCHAR(255),
	comment TEXT,
	at TIMESTAMP NOT NULL
)`,
		`CREATE INDEX IF NOT EXISTS crm_workflow_history_record ON crm_workflow_history (entity, record_id, id)`,
	}
}

// StepSeeded is the Transition of a step that records a state set by the model's data, which is not a
// transition.
const StepSeeded = "(seeded)"

// Step is one recorded change of a record's workflow state.
type Step struct {
	ID         int       `json:"id"`
	Workflow   string    `json:"workflow"`
	Entity     string    `json:"entity"`
	RecordID   int       `json:"recordId"`
	From       string    `json:"from"` // "" for the initial state
	To         string    `json:"to"`
	Transition string    `json:"transition"`
	UserID     *int      `json:"userId"` // nil for the system (timers, seeding)
	Username   string    `json:"username"`
	Comment    string    `json:"comment"`
	At         time.Time `json:"at"`
}

// RecordStep records a step; run it through the transition's own transaction so it commits with it
// (written behind in it if ctx has a database.WriteBehind).
func RecordStep(ctx context.Context, ex Execer, d string, s Step) error {
	var user any
	if s.UserID != nil {
		user = *s.UserID
	}
	if err := database.Insert(ctx, ex, d, database.Row{Table: "crm_workflow_history",
		Columns: []string{"workflow", "entity", "record_id", "from_state", "to_state", "transition", "user_id", "username", "comment", "at"},
		Values:  []any{s.Workflow, s.Entity, s.RecordID, s.From, s.To, s.Transition, user, s.Username, s.Comment, s.At.UTC()}}); err != nil {
		return fmt.Errorf("workflow: record step %q of %s %d: %w", s.Transition, s.Entity, s.RecordID, err)
	}
	return nil
}

// History returns the steps of one record, oldest first.
func History(ctx context.Context, q Querier, d, entity string, id int) ([]Step, error) {
	if err := database.Flush(ctx); err != nil {
		return nil, fmt.Errorf("workflow: read history: %w", err)
	}
	rows, err := q.QueryContext(ctx, database.Rebind(d, `SELECT id, workflow, entity, record_id, from_state, to_state, transition, user_id, username, comment, at FROM crm_workflow_history WHERE entity = ? AND record_id = ? ORDER BY id`), entity, id)
	if err != nil {
		return nil, fmt.Errorf("workflow: read history: %w", err)
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var (
			s                       Step
			from, tr, name, comment stdsql.NullString
			user                    stdsql.NullInt64
		)
		if err := rows.Scan(&s.ID, &s.Workflow, &s.Entity, &s.RecordID, &from, &s.To, &tr, &user, &name, &comment, &s.At); err != nil {
			return nil, fmt.Errorf("workflow: read history: %w", err)
		}
		s.From, s.Transition, s.Username, s.Comment = from.String, tr.String, name.String, comment.String
		if user.Valid {
			u := int(user.Int64)
			s.UserID = &u
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
