package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmgen/crmgen/internal/pgtest"
)

func TestMain(m *testing.M) {
	defer pgtest.Stop()
	m.Run()
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func TestDSNGivesAWorkingDatabase(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.DSN(t))

	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(db, "crmgen_test_") {
		t.Errorf("current_database() = %q, want a crmgen_test_ database", db)
	}

	if _, err := conn.Exec(ctx, `CREATE TABLE deal (id bigserial PRIMARY KEY, title text NOT NULL, amount numeric)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO deal (title, amount) VALUES ($1, $2), ($3, $4)`,
		"Renewal", "1200.50", "新客户", "99"); err != nil {
		t.Fatalf("insert: %v", err)
	}
	rows, err := conn.Query(ctx, `SELECT title, amount::text FROM deal ORDER BY id`)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	type deal struct{ title, amount string }
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (deal, error) {
		var d deal
		err := r.Scan(&d.title, &d.amount)
		return d, err
	})
	if err != nil {
		t.Fatalf("read rows: %v", err)
	}
	want := []deal{{"Renewal", "1200.50"}, {"新客户", "99"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("rows = %q, want %q", got, want)
	}

	// Unicode-aware case folding, which ent's *Fold predicates rely on.
	var upper string
	if err := conn.QueryRow(ctx, `SELECT upper('müller')`).Scan(&upper); err != nil {
		t.Fatal(err)
	}
	if upper != "MÜLLER" {
		t.Errorf("upper('müller') = %q, want %q", upper, "MÜLLER")
	}
}

func TestDSNIsFreshAndDroppedAfterTheTest(t *testing.T) {
	ctx := context.Background()
	var inner string
	t.Run("inner", func(t *testing.T) {
		conn := connect(t, pgtest.DSN(t))
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&inner); err != nil {
			t.Fatal(err)
		}
		var tables int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("new database has %d tables, want 0", tables)
		}
		// An open connection must not stop the drop (WITH (FORCE)).
	})

	conn := connect(t, pgtest.DSN(t))
	var outer string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&outer); err != nil {
		t.Fatal(err)
	}
	if outer == inner {
		t.Fatalf("two calls of DSN gave the same database %q", outer)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, inner).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %q still exists after its test ended", inner)
	}
}

func TestDSNInParallel(t *testing.T) {
	for i := range 4 {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, pgtest.DSN(t))
			if _, err := conn.Exec(context.Background(), `CREATE TABLE t (x int)`); err != nil {
				t.Fatal(err)
			}
		})
	}
}
