package database

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
)

// A write of an API operation records more than the record: its audit entry, its workflow step, the
// notifications its automations send. Nothing in the operation reads those rows back before it commits,
// yet each was a statement of its own, a round trip to the database that the request waited on; at a
// few milliseconds of work per write, those round trips were most of it (BENCHMARKS.md, "Writes").
//
// A WriteBehind holds such rows (Insert) until the transaction is about to commit (Flush), then sends
// them together: on Postgres one statement, the rows of a table as one multi-row INSERT and the tables
// joined as data-modifying WITH queries; on SQLite, where a statement costs no round trip, one
// multi-row INSERT a table. Rows of a table are inserted in the order they were held, so their ids
// keep that order; the order between tables is not kept, and nothing may depend on it.
//
// Code that reads a table written behind within the transaction calls Flush(ctx) first, so the
// operation reads its own writes. Once flushed for the commit, or discarded by a rollback, a
// WriteBehind holds nothing: a late Insert runs at once, as it would without one.

// Row is one row to insert into a table.
type Row struct {
	Table   string
	Columns []string
	// OnConflict is what follows the VALUES list, if anything: "ON CONFLICT (key) DO NOTHING". Rows
	// are grouped into one INSERT only with rows of the same table, columns and OnConflict.
	OnConflict string
	Values     []any
}

// Execer runs a statement: a transaction, an ent mutation's driver, a *sql.DB.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error)
}

// maxParams bounds the parameters of one flushed statement: under SQLite's 32,766 and Postgres's 65,535.
// Rows that would pass it flush what is held first.
const maxParams = 30000

// WriteBehind holds the rows of one transaction until it commits. Its methods are safe for concurrent
// use.
type WriteBehind struct {
	mu      sync.Mutex
	ex      Execer
	dialect string
	groups  []*rowGroup
	params  int
	closed  bool
}

// rowGroup is the held rows of one INSERT statement.
type rowGroup struct {
	table, onConflict string
	columns           []string
	values            [][]any
}

type writeBehindKey struct{}

// WithWriteBehind returns a context whose Inserts are held by the returned WriteBehind until it is
// flushed. The caller owns the transaction: it calls Commit before COMMIT, and Discard when rolling back.
func WithWriteBehind(ctx context.Context) (context.Context, *WriteBehind) {
	w := &WriteBehind{}
	return context.WithValue(ctx, writeBehindKey{}, w), w
}

// Insert inserts r through ex: held by the context's WriteBehind, if it has one still open, else at
// once. Every row held by one WriteBehind must come through the same transaction.
func Insert(ctx context.Context, ex Execer, d string, r Row) error {
	if len(r.Columns) == 0 || len(r.Columns) != len(r.Values) {
		return fmt.Errorf("insert into %s: %d columns, %d values", r.Table, len(r.Columns), len(r.Values))
	}
	if w, ok := ctx.Value(writeBehindKey{}).(*WriteBehind); ok {
		held, err := w.hold(ctx, ex, d, r)
		if held || err != nil {
			return err
		}
	}
	g := &rowGroup{table: r.Table, columns: r.Columns, onConflict: r.OnConflict, values: [][]any{r.Values}}
	_, err := ex.ExecContext(ctx, Rebind(d, g.sql()), r.Values...)
	if err != nil {
		return fmt.Errorf("insert into %s: %w", r.Table, err)
	}
	return nil
}

// hold adds r to the held rows, first flushing them if r would make the statement too large. It
// reports false, holding nothing, when w is closed.
func (w *WriteBehind) hold(ctx context.Context, ex Execer, d string, r Row) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false, nil
	}
	if w.ex == nil {
		w.ex, w.dialect = ex, d
	}
	if w.params+len(r.Values) > maxParams {
		if err := w.flushLocked(ctx); err != nil {
			return true, err
		}
	}
	w.params += len(r.Values)
	for _, g := range w.groups {
		if g.table == r.Table && g.onConflict == r.OnConflict && slices.Equal(g.columns, r.Columns) {
			g.values = append(g.values, r.Values)
			return true, nil
		}
	}
	w.groups = append(w.groups, &rowGroup{table: r.Table, columns: r.Columns, onConflict: r.OnConflict,
		values: [][]any{r.Values}})
	return true, nil
}

// Flush sends the rows the context's WriteBehind holds, if any: code reading a table written behind
// calls it first. A context without one flushes nothing.
func Flush(ctx context.Context) error {
	if w, ok := ctx.Value(writeBehindKey{}).(*WriteBehind); ok {
		return w.Flush(ctx)
	}
	return nil
}

// Flush sends the held rows now; later Inserts are held again.
func (w *WriteBehind) Flush(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked(ctx)
}

// Commit flushes the held rows for the last time: once it returns, an Insert runs at once. The owner
// calls it before COMMIT, and rolls back instead of committing when it fails.
func (w *WriteBehind) Commit(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.flushLocked(ctx)
}

// Discard drops the held rows: the transaction is rolling back.
func (w *WriteBehind) Discard() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.groups, w.params = nil, 0
}

func (w *WriteBehind) flushLocked(ctx context.Context) error {
	groups := w.groups
	w.groups, w.params = nil, 0
	if len(groups) == 0 {
		return nil
	}
	if w.dialect != dialect.Postgres {
		for _, g := range groups {
			if _, err := w.ex.ExecContext(ctx, g.sql(), g.args()...); err != nil {
				return fmt.Errorf("insert into %s: %w", g.table, err)
			}
		}
		return nil
	}
	// Data-modifying WITH queries all run, whether or not anything reads their results.
	var args []any
	tables := make([]string, len(groups))
	with := make([]string, len(groups)-1)
	for i, g := range groups {
		tables[i] = g.table
		args = append(args, g.args()...)
		if i < len(with) {
			with[i] = fmt.Sprintf("crm_w%d AS (%s)", i+1, g.sql())
		}
	}
	q := groups[len(groups)-1].sql()
	if len(with) > 0 {
		q = "WITH " + strings.Join(with, ", ") + " " + q
	}
	if _, err := w.ex.ExecContext(ctx, Rebind(dialect.Postgres, q), args...); err != nil {
		return fmt.Errorf("insert into %s: %w", strings.Join(tables, ", "), err)
	}
	return nil
}

// sql is the group's INSERT with ? placeholders.
func (g *rowGroup) sql() string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", g.table, strings.Join(g.columns, ", "))
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(g.columns)), ", ") + ")"
	for i := range g.values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if g.onConflict != "" {
		b.WriteString(" " + g.onConflict)
	}
	return b.String()
}

func (g *rowGroup) args() []any {
	out := make([]any, 0, len(g.values)*len(g.columns))
	for _, v := range g.values {
		out = append(out, v...)
	}
	return out
}
