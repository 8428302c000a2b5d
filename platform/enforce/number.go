package enforce

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent"
	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// SequencesDDL creates the table behind autoNumber fields. The app runs it at start.
const SequencesDDL = `CREATE TABLE IF NOT EXISTS crm_sequences (name VARCHAR(255) PRIMARY KEY, value BIGINT NOT NULL)`

var numberToken = regexp.MustCompile(`\{(yyyy|yy|mm|dd|seq(?::(\d+))?)\}`)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

// nextNumber renders an autoNumber pattern such as 'P{yyyy}{mm}-{seq:5}'. The sequence restarts for every
// distinct date prefix (so a monthly pattern numbers each month from 1) and is incremented atomically in
// the mutation's own transaction.
func (rt *Runtime) nextNumber(ctx context.Context, m ent.Mutation, e *metamodel.Entity, f *metamodel.Field, now time.Time) (string, error) {
	dates := numberToken.ReplaceAllStringFunc(f.AutoNumber, func(tok string) string {
		if strings.HasPrefix(tok, "{seq") {
			return "{seq}"
		}
		return renderDate(tok, now)
	})
	key := e.Name + "." + f.Name + "|" + dates
	q, ok := m.(querier)
	if !ok {
		return "", fmt.Errorf("%s.%s: autoNumber needs the ent exec/query feature", e.Name, f.Name)
	}
	stmt := database.Rebind(rt.Dialect, `INSERT INTO crm_sequences (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = crm_sequences.value + 1 RETURNING value`)
	rows, err := q.QueryContext(ctx, stmt, key)
	if err != nil {
		return "", fmt.Errorf("%s.%s: next number: %w", e.Name, f.Name, err)
	}
	defer rows.Close()
	var seq int64
	if !rows.Next() {
		return "", fmt.Errorf("%s.%s: next number: no row returned", e.Name, f.Name)
	}
	if err := rows.Scan(&seq); err != nil {
		return "", err
	}
	return numberToken.ReplaceAllStringFunc(f.AutoNumber, func(tok string) string {
		mm := numberToken.FindStringSubmatch(tok)
		if strings.HasPrefix(mm[1], "seq") {
			width := 1
			if mm[2] != "" {
				width, _ = strconv.Atoi(mm[2])
			}
			return fmt.Sprintf("%0*d", width, seq)
		}
		return renderDate(tok, now)
	}), nil
}

func renderDate(tok string, t time.Time) string {
	switch tok {
	case "{yyyy}":
		return t.Format("2006")
	case "{yy}":
		return t.Format("06")
	case "{mm}":
		return t.Format("01")
	case "{dd}":
		return t.Format("02")
	}
	return tok
}
