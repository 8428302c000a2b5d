package database

import (
	"context"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/internal/pgtest"
)

// TestContainsFold searches a table through ContainsFold and through an independent ground truth
// (strpos/instr of the lower-cased texts), on Postgres and on SQLite, and wants the same rows for searches
// of every shape: Chinese of one to three characters, mixed case, LIKE's own wildcards and escape, emoji,
// spaces, a search longer than any text. On Postgres the bigram index serves the two-character search
// (the plan names it) and the function is created once however often the platform starts; SQLite has no
// bigram condition and compares without lower(), as its LIKE folds the same (ASCII) letters.
func TestContainsFold(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testContainsFold(t, pgtest.DSN(t)) })
	t.Run("sqlite", func(t *testing.T) { testContainsFold(t, filepath.Join(t.TempDir(), "s.db")) })
}

func testContainsFold(t *testing.T, dsn string) {
	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	pg := db.Dialect == dialect.Postgres
	for i := 0; pg && i < 2; i++ { // the platform runs it at every start
		if _, err := db.SQL.ExecContext(ctx, SearchDDL(dialect.Postgres)); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE people (id integer PRIMARY KEY, name text)`)
	if pg {
		exec(`CREATE INDEX people_name_bigrams ON people USING GIN ((` + BigramIndexExpr("name") + `))`)
	}
	names := []string{"王伟", "王伟明", "李王伟", "王 伟", "伟王", "王", "Anna", "ANNA-Maria", "hannah", "x%y", "x_y", "xay",
		`back\slash`, "😀😁", "a😀😁b", "", "  ", "张三丰", "O'Brien", "line\nbreak", "Émile", "émile"}
	for i, n := range names {
		exec(`INSERT INTO people (id, name) VALUES (`+strconv.Itoa(i+1)+`, $1)`, n)
	}
	exec(`INSERT INTO people (id, name) VALUES (1000, NULL)`)
	exec(`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 2000)
		INSERT INTO people (id, name) SELECT 1000 + i, 'filler ' || i FROM g`)
	exec(`ANALYZE`)

	selectFor := func(d, text string) (string, []any) {
		s := sql.Dialect(d).Select("id").From(sql.Table("people")).OrderBy("id")
		ContainsFold("name", text)(s)
		return s.Query()
	}
	searches := []string{"王伟", "王", "伟明", "王伟明", "李王伟", "王 伟", "anna", "ANNA", "nNa", "%", "x%", "_", "x_y", `\`, `k\s`,
		"😀", "😀😁", "a😀", " ", "  ", "filler 1", "ller 19", "三丰", "'B", "e\nb", "王伟明王伟明王伟明王伟明", "no such text", "émile", "ÉMILE", "mile"}
	for _, text := range searches {
		q, args := selectFor(db.Dialect, text)
		got := ids(t, db, q, args...)
		truth := `SELECT id FROM people WHERE strpos(lower(name), lower($1)) > 0 ORDER BY id`
		if !pg {
			truth = `SELECT id FROM people WHERE instr(lower(name), lower($1)) > 0 ORDER BY id`
		}
		want := ids(t, db, truth, text)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("search %q: %v, want %v (%s)", text, got, want, q)
		}
		if strings.Contains(q, BigramsFunction) != (pg && len([]rune(text)) >= 2) {
			t.Errorf("search %q: %s; the bigram condition is for searches of two characters or more, on Postgres", text, q)
		}
		if !pg && strings.Contains(strings.ToLower(q), "lower(") {
			t.Errorf("search %q: %s; SQLite's LIKE folds case itself", text, q)
		}
	}
	if !pg {
		if SearchDDL(db.Dialect) != "" {
			t.Error("SQLite has no search DDL")
		}
		return
	}

	// The planner can serve the search from the index: the expression it asks for is the index's.
	q, args := selectFor(db.Dialect, "王伟")
	if plan := indexPlan(t, db, q, args...); !strings.Contains(plan, "Bitmap Index Scan on people_name_bigrams") {
		t.Errorf("the search does not use the bigram index:\n%s", plan)
	}

	var functions int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_proc WHERE proname = $1`, BigramsFunction).Scan(&functions); err != nil {
		t.Fatal(err)
	}
	if functions != 1 {
		t.Errorf("%d functions named %s, want 1", functions, BigramsFunction)
	}
}

// indexPlan is Postgres's plan of q when it may read no table without an index (enable_seqscan off):
// whether an index can serve a condition at all, whatever the table's size.
func indexPlan(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "RESET enable_seqscan")
	rows, err := conn.QueryContext(ctx, "EXPLAIN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	return strings.Join(plan, "\n")
}
