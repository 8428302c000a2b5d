package database

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/pgtest"
)

// execCounter runs statements in a real transaction and counts them.
type execCounter struct {
	tx    *stdsql.Tx
	execs int
}

func (c *execCounter) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	c.execs++
	return c.tx.ExecContext(ctx, q, args...)
}

// TestWriteBehind holds rows of three statements' shapes in a transaction and wants: nothing sent until
// a flush, then every row, in one statement on Postgres (one a table on SQLite); the rows of a table
// inserted in the order held (ids ascending with it); ON CONFLICT DO NOTHING keeping the first of two
// rows with one key, also within one flush; a discarded WriteBehind sending nothing and a committed one
// letting later rows through at once; a failing row failing the commit with its table's name; and more
// rows than one statement takes sent in several.
func TestWriteBehind(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testWriteBehind(t, pgtest.DSN(t)) })
	t.Run("sqlite", func(t *testing.T) { testWriteBehind(t, filepath.Join(t.TempDir(), "w.db")) })
}

func testWriteBehind(t *testing.T, dsn string) {
	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	serial := "integer PRIMARY KEY AUTOINCREMENT"
	if db.Dialect == "postgres" {
		serial = "bigserial PRIMARY KEY"
	}
	for _, q := range []string{
		`CREATE TABLE notes (id ` + serial + `, n bigint NOT NULL, body text, at timestamp)`,
		`CREATE TABLE inbox (id ` + serial + `, key text NOT NULL UNIQUE, body text)`,
	} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	note := func(n int, body any) Row {
		return Row{Table: "notes", Columns: []string{"n", "body", "at"}, Values: []any{n, body, time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}}
	}
	bare := func(n int) Row { return Row{Table: "notes", Columns: []string{"n"}, Values: []any{n}} }
	inbox := func(key, body string) Row {
		return Row{Table: "inbox", Columns: []string{"key", "body"}, OnConflict: "ON CONFLICT (key) DO NOTHING",
			Values: []any{key, body}}
	}
	begin := func(t *testing.T) (*execCounter, context.Context, *WriteBehind) {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Rollback() })
		wctx, w := WithWriteBehind(ctx)
		return &execCounter{tx: tx}, wctx, w
	}
	insert := func(ctx context.Context, ex Execer, rows ...Row) {
		t.Helper()
		for _, r := range rows {
			if err := Insert(ctx, ex, db.Dialect, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	ns := func(q interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}, query string) []string {
		t.Helper()
		rows, err := q.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s stdsql.NullString
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s.String)
		}
		return out
	}
	const notesQ = `SELECT CAST(n AS text) || ':' || COALESCE(body, '-') FROM notes ORDER BY id`
	const inboxQ = `SELECT key || ':' || body FROM inbox ORDER BY id`
	groups := 1
	if db.Dialect != "postgres" {
		groups = 3
	}

	t.Run("held until flushed, one statement", func(t *testing.T) {
		tx, wctx, w := begin(t)
		insert(wctx, tx, note(3, "c"), inbox("k1", "first"), note(1, nil), bare(2), inbox("k1", "second"), note(2, "b"), inbox("k2", "x"))
		if tx.execs != 0 {
			t.Fatalf("%d statements before the flush, want 0", tx.execs)
		}
		if got := ns(tx.tx, notesQ); len(got) != 0 {
			t.Fatalf("notes before the flush: %q", got)
		}
		if err := Flush(wctx); err != nil {
			t.Fatal(err)
		}
		if tx.execs != groups {
			t.Errorf("flush sent %d statements, want %d", tx.execs, groups)
		}
		// The order held within a table: 3, 1, 2 (with body), and the bare row in its own group.
		gotNotes := ns(tx.tx, notesQ)
		withBody := []string{}
		for _, s := range gotNotes {
			if s != "2:-" {
				withBody = append(withBody, s)
			}
		}
		if want := []string{"3:c", "1:-", "2:b"}; !reflect.DeepEqual(withBody, want) || len(gotNotes) != 4 {
			t.Errorf("notes = %q, want %q in that order and 2:-", gotNotes, want)
		}
		if got, want := ns(tx.tx, inboxQ), []string{"k1:first", "k2:x"}; !reflect.DeepEqual(got, want) {
			t.Errorf("inbox = %q, want %q", got, want)
		}
		// Held again after a flush, and a key held before is still kept once.
		insert(wctx, tx, inbox("k1", "third"), note(4, "d"))
		if err := w.Commit(wctx); err != nil {
			t.Fatal(err)
		}
		if got := ns(tx.tx, notesQ); len(got) != 5 || got[4] != "4:d" {
			t.Errorf("notes after commit's flush = %q", got)
		}
		if got := ns(tx.tx, inboxQ); len(got) != 2 {
			t.Errorf("inbox after commit's flush = %q", got)
		}
		// Committed: a late row goes at once.
		before := tx.execs
		insert(wctx, tx, note(5, "late"))
		if tx.execs != before+1 {
			t.Errorf("a row after Commit was held")
		}
	})

	t.Run("discarded", func(t *testing.T) {
		tx, wctx, w := begin(t)
		insert(wctx, tx, note(9, "gone"), inbox("k9", "gone"))
		w.Discard()
		if err := w.Commit(wctx); err != nil {
			t.Fatal(err)
		}
		if tx.execs != 0 {
			t.Errorf("a discarded WriteBehind sent %d statements", tx.execs)
		}
	})

	t.Run("a failing row fails the commit", func(t *testing.T) {
		tx, wctx, w := begin(t)
		insert(wctx, tx, inbox("k5", "ok"), Row{Table: "notes", Columns: []string{"body"}, Values: []any{"no n"}})
		err := w.Commit(wctx)
		if err == nil || !strings.Contains(err.Error(), "notes") {
			t.Errorf("Commit = %v, want an error naming notes", err)
		}
	})

	t.Run("more rows than a statement takes", func(t *testing.T) {
		tx, wctx, w := begin(t)
		const rows = 12000 // 36,000 parameters
		for i := range rows {
			insert(wctx, tx, note(i, fmt.Sprint("r", i)))
		}
		if err := w.Commit(wctx); err != nil {
			t.Fatal(err)
		}
		if tx.execs != 2 {
			t.Errorf("%d rows in %d statements, want 2", rows, tx.execs)
		}
		var n, ordered int
		if err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		// Ids follow the order held: n ascends with id.
		q := `SELECT COUNT(*) FROM notes a JOIN notes b ON b.id = a.id + 1 WHERE b.n = a.n + 1`
		if err := tx.tx.QueryRowContext(ctx, q).Scan(&ordered); err != nil {
			t.Fatal(err)
		}
		if n != rows || ordered != rows-1 {
			t.Errorf("%d rows, %d in order; want %d, %d", n, ordered, rows, rows-1)
		}
	})

	t.Run("without a WriteBehind, at once", func(t *testing.T) {
		tx, _, _ := begin(t)
		insert(ctx, tx, note(1, "now"))
		if tx.execs != 1 {
			t.Errorf("%d statements, want 1", tx.execs)
		}
		if err := Flush(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
