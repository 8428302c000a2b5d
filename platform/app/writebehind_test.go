package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/platform/app"
	"github.com/crmgen/crmgen/platform/database"
)

// TestWritesBehind creates deals through the API whose create writes an audit entry, a workflow step
// and (by the fixture's automation bigDeal) an inbox item for their owner, and wants:
//   - the operation's own reads see those rows before it commits: the created deal's history, its
//     workflowHistory, each alone in an operation, list the create, and markAllRead in the same
//     operation as a create counts the new item;
//   - the rows are sent together: a create in a held transaction (each row at once) sends more
//     statements than a plain one, by the rows' statements less one on Postgres (one statement for
//     all), by none on SQLite (one a table), savepoints aside;
//   - an operation that fails after the create leaves no deal, entry, step or item.
func TestWritesBehind(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		gql := app.GraphQLHandler(env.Runtime, env.Backend, env.DB, 100, false)
		ctx := env.As(t, "mgr")
		var acme string
		if err := env.DB.SQL.QueryRowContext(ctx, `SELECT CAST(id AS text) FROM accounts WHERE name = 'Acme'`).Scan(&acme); err != nil {
			t.Fatal(err)
		}
		count := func(table, title string) int {
			t.Helper()
			var q string
			switch table {
			case "deals":
				q = `SELECT COUNT(*) FROM deals WHERE title = ?`
			case "crm_audit":
				q = `SELECT COUNT(*) FROM crm_audit a JOIN deals d ON d.id = a.record_id WHERE a.entity = 'Deal' AND d.title = ?`
			case "crm_workflow_history":
				q = `SELECT COUNT(*) FROM crm_workflow_history h JOIN deals d ON d.id = h.record_id WHERE h.entity = 'Deal' AND d.title = ?`
			case "crm_inbox":
				q = `SELECT COUNT(*) FROM crm_inbox i JOIN deals d ON i.link = '/Deal/' || CAST(d.id AS text) WHERE d.title = ?`
			}
			var n int
			if err := env.DB.SQL.QueryRowContext(context.Background(), database.Rebind(env.DB.Dialect, q), title).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		// Each reader of a table written behind must send what is held first: one operation a reader,
		// since one reader's flush would send the others' rows too.
		const create = `mutation($t: String!, $a: ID!) {
			d: createDeal(input: {title: $t, amount: 5000, accountID: $a}) { id %s }
			%s
		}`
		type answer struct {
			Data struct {
				D struct {
					History         []struct{ Op string }
					WorkflowHistory []struct{ To, Transition string }
				}
				Read int
			}
			Errors []any
		}
		run := func(ctx context.Context, title, fields, more string) (answer, int64) {
			t.Helper()
			before := database.Statements.Load()
			body := postGraphQL(ctx, gql, fmt.Sprintf(create, fields, more), map[string]any{"t": title, "a": acme})
			sent := database.Statements.Load() - before
			var a answer
			if err := json.Unmarshal(body, &a); err != nil || len(a.Errors) > 0 {
				t.Fatalf("create %s: %v %s", title, err, body)
			}
			return a, sent
		}

		if a, _ := run(ctx, "audited", "history { op }", ""); len(a.Data.D.History) != 1 || a.Data.D.History[0].Op != "create" {
			t.Errorf("the create's own answer reads history %+v, want its create", a.Data.D.History)
		}
		if a, _ := run(ctx, "stepped", "workflowHistory { to transition }", ""); len(a.Data.D.WorkflowHistory) != 1 || a.Data.D.WorkflowHistory[0].To != "open" {
			t.Errorf("the create's own answer reads workflow steps %+v, want its entry into open", a.Data.D.WorkflowHistory)
		}
		a, plain := run(ctx, "behind", "", "read: markAllRead")
		if a.Data.Read != 3 {
			t.Errorf("markAllRead after the create counted %d unread items, want the three creates' notifications", a.Data.Read)
		}
		for _, title := range []string{"audited", "stepped", "behind"} {
			for _, table := range []string{"deals", "crm_audit", "crm_workflow_history", "crm_inbox"} {
				if n := count(table, title); n != 1 {
					t.Errorf("%s: %d rows of the deal %s, want 1", table, n, title)
				}
			}
		}

		hold := app.HoldTx(env.Backend)
		hctx, tx, err := hold(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, held := run(hctx, "at once", "", "read: markAllRead")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// A held operation's savepoint costs 2 statements (SAVEPOINT, RELEASE); its 3 rows are sent at
		// once, 3 statements, where a plain operation sends them in 1 (Postgres) or 3 (SQLite).
		want := int64(2)
		if env.DB.Dialect == "postgres" {
			want += 2
		}
		if held-plain != want {
			t.Errorf("held create sent %d statements, plain %d: %d more, want %d", held, plain, held-plain, want)
		}
		for _, table := range []string{"deals", "crm_audit", "crm_workflow_history", "crm_inbox"} {
			if n := count(table, "at once"); n != 1 {
				t.Errorf("%s: %d rows of the held deal, want 1", table, n)
			}
		}

		// A failing operation writes nothing: the tag vip exists, so the second field fails.
		body := postGraphQL(ctx, gql, `mutation($a: ID!) {
			d: createDeal(input: {title: "undone", amount: 5000, accountID: $a}) { id }
			t: createTag(input: {name: "vip"}) { id }
		}`, map[string]any{"a": acme})
		var failed struct{ Errors []any }
		if err := json.Unmarshal(body, &failed); err != nil || len(failed.Errors) == 0 {
			t.Fatalf("the failing operation answered %s (%v)", body, err)
		}
		var rows int
		q := `SELECT (SELECT COUNT(*) FROM deals WHERE title = 'undone') + (SELECT COUNT(*) FROM crm_inbox WHERE link NOT IN (SELECT '/Deal/' || CAST(id AS text) FROM deals)) + (SELECT COUNT(*) FROM crm_audit WHERE entity = 'Deal' AND record_id NOT IN (SELECT id FROM deals))`
		if err := env.DB.SQL.QueryRowContext(context.Background(), q).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 0 {
			t.Errorf("the failed operation left %d rows", rows)
		}
	})
}
