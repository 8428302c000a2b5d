package database

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/crmgen/crmgen/internal/pgtest"
)

// TestHasNeighborsWith filters rows by their related rows with HasNeighborsWith and with ent's own
// sqlgraph.HasNeighborsWith, on Postgres and on SQLite, and wants the same rows: for a belongsTo relation
// (the array form on Postgres, IN on SQLite) plain, under NOT (a row without the relation matches),
// inside an OR, on a table related to itself, and for a hasMany relation (ent's form, unchanged). On
// Postgres, inside an OR, the belongsTo filter and a column condition combine in a bitmap over their
// indexes (the plan says so), which ent's EXISTS cannot.
func TestHasNeighborsWith(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testHasNeighborsWith(t, pgtest.DSN(t)) })
	t.Run("sqlite", func(t *testing.T) { testHasNeighborsWith(t, filepath.Join(t.TempDir(), "n.db")) })
}

func testHasNeighborsWith(t *testing.T, dsn string) {
	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE teams (id bigint PRIMARY KEY, name text, parent_id bigint REFERENCES teams)`,
		`CREATE TABLE people (id bigint PRIMARY KEY, name text, team_id bigint REFERENCES teams)`,
		`CREATE INDEX people_team_id_idx ON people (team_id)`,
		`CREATE INDEX people_name_idx ON people (name)`,
		`INSERT INTO teams VALUES (1, 'sales', NULL), (2, 'support', 1), (3, 'sales east', 1), (4, 'north', 3)`,
		`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 5000)
		 INSERT INTO people SELECT i, 'p' || i, CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % 4 END FROM g`,
		`ANALYZE`,
	} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	people := sqlgraph.NewStep(sqlgraph.From("people", "id"), sqlgraph.To("teams", "id"), sqlgraph.Edge(sqlgraph.M2O, false, "people", "team_id"))
	parent := sqlgraph.NewStep(sqlgraph.From("teams", "id"), sqlgraph.To("teams", "id"), sqlgraph.Edge(sqlgraph.M2O, true, "teams", "parent_id"))
	members := sqlgraph.NewStep(sqlgraph.From("teams", "id"), sqlgraph.To("people", "id"), sqlgraph.Edge(sqlgraph.O2M, false, "people", "team_id"))
	named := func(prefix string) func(*sql.Selector) {
		return func(s *sql.Selector) { s.Where(sql.HasPrefix(s.C("name"), prefix)) }
	}
	cases := []struct {
		name  string
		table string
		where func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector)
	}{
		{"belongsTo", "people", func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector) {
			return func(s *sql.Selector) { has(s, people, named("sales")) }
		}},
		{"not belongsTo", "people", func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector) {
			return sql.NotPredicates(func(s *sql.Selector) { has(s, people, named("sales")) })
		}},
		{"or", "people", func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector) {
			return sql.OrPredicates(func(s *sql.Selector) { s.Where(sql.EQ(s.C("name"), "p10")) },
				func(s *sql.Selector) { has(s, people, named("north")) })
		}},
		{"no match", "people", func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector) {
			return func(s *sql.Selector) { has(s, people, named("nobody")) }
		}},
		{"itself", "teams", func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector) {
			return func(s *sql.Selector) { has(s, parent, named("sales")) }
		}},
		{"not itself", "teams", func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector) {
			return sql.NotPredicates(func(s *sql.Selector) { has(s, parent, named("sales")) })
		}},
		{"hasMany", "teams", func(has func(*sql.Selector, *sqlgraph.Step, func(*sql.Selector))) func(*sql.Selector) {
			return func(s *sql.Selector) { has(s, members, func(s *sql.Selector) { s.Where(sql.EQ(s.C("name"), "p7")) }) }
		}},
	}
	selected := func(table string, where func(*sql.Selector)) ([]int, string) {
		t.Helper()
		s := sql.Dialect(db.Dialect).Select(sql.Table(table).C("id")).From(sql.Table(table)).OrderBy("id")
		s.WithContext(ctx)
		where(s)
		q, args := s.Query()
		return ids(t, db, q, args...), q
	}
	for _, c := range cases {
		got, q := selected(c.table, c.where(HasNeighborsWith))
		want, _ := selected(c.table, c.where(sqlgraph.HasNeighborsWith))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d rows %v, ent's form %d rows (%s)", c.name, len(got), head(got), len(want), q)
		}
		if len(want) == 0 && c.name != "no match" {
			t.Errorf("%s: no rows; the case tests nothing", c.name)
		}
		form := "ANY(ARRAY("
		if db.Dialect != dialect.Postgres {
			form = "IN (SELECT"
		}
		if strings.Contains(q, form) != (c.name != "hasMany") {
			t.Errorf("%s: %s", c.name, q)
		}
	}
	if db.Dialect != dialect.Postgres {
		return
	}

	// Inside an OR, the relation and the column condition are both index conditions.
	s := sql.Dialect(dialect.Postgres).Select("id").From(sql.Table("people"))
	s.WithContext(ctx)
	cases[2].where(HasNeighborsWith)(s)
	q, args := s.Query()
	if p := indexPlan(t, db, q, args...); !strings.Contains(p, "BitmapOr") || !strings.Contains(p, "people_team_id_idx") {
		t.Errorf("the OR is not answered from the indexes:\n%s", p)
	}
}

func head(ids []int) []int {
	if len(ids) > 10 {
		return ids[:10]
	}
	return ids
}
