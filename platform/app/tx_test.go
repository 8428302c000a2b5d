package app_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/platform/app"
)

// TestHoldTx runs API operations in one held transaction: each operation is a savepoint, so one refused
// by the database (a duplicate unique name) undoes only itself and the next goes on, on Postgres too,
// where a failed statement aborts a transaction; nothing is seen outside until the holder commits, and a
// rollback of the holder undoes operations that had succeeded.
func TestHoldTx(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		gql := app.GraphQLHandler(env.Runtime, env.Backend, env.DB, 100, false)
		hold := app.HoldTx(env.Backend)
		create := func(ctx context.Context, name string) []any {
			t.Helper()
			body := postGraphQL(ctx, gql, `mutation($n: String!) { createTag(input: {name: $n}) { id } }`, map[string]any{"n": name})
			var out struct{ Errors []any }
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("create %s: %v: %s", name, err, body)
			}
			return out.Errors
		}
		tags := func() map[string]bool {
			t.Helper()
			rows, err := env.DB.SQL.QueryContext(context.Background(), `SELECT name FROM tags`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]bool{}
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				out[n] = true
			}
			return out
		}

		ctx, tx, err := hold(env.As(t, "admin"))
		if err != nil {
			t.Fatal(err)
		}
		if errs := create(ctx, "held-1"); len(errs) != 0 {
			t.Fatalf("the first operation failed: %v", errs)
		}
		if errs := create(ctx, "vip"); len(errs) == 0 { // the fixture's data has a tag vip: unique
			t.Fatal("a duplicate tag name was accepted")
		}
		if errs := create(ctx, "held-2"); len(errs) != 0 {
			t.Fatalf("the operation after a refused one failed: %v", errs)
		}
		if got := tags(); got["held-1"] || got["held-2"] {
			t.Fatalf("operations of a held transaction are seen before it commits: %v", got)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := tags(); !got["held-1"] || !got["held-2"] || !got["vip"] {
			t.Errorf("after the commit the tags are %v, want held-1, held-2 and vip", got)
		}

		ctx, tx, err = hold(env.As(t, "admin"))
		if err != nil {
			t.Fatal(err)
		}
		if errs := create(ctx, "held-3"); len(errs) != 0 {
			t.Fatalf("create held-3: %v", errs)
		}
		if _, _, err := hold(ctx); err == nil {
			t.Error("a transaction was held within a held one")
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := tags(); got["held-3"] {
			t.Errorf("a rolled-back held transaction kept held-3")
		}
		if errs := create(env.As(t, "admin"), "after"); len(errs) != 0 || !tags()["after"] {
			t.Errorf("an operation outside a held transaction: %v", errs)
		}
	})
}
