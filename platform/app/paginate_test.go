package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/platform/app"
	"github.com/crmgen/crmgen/platform/database"
)

// A page of a list with its pageInfo costs no COUNT of the whole table unless totalCount is asked for:
// the page's rows say whether there is a next or previous page (generator/entgqlpatch.go,
// patchPagination). On both databases, as the administrator.
func TestPageInfoWithoutCount(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		gql := app.GraphQLHandler(env.Runtime, env.Backend, env.DB, 1000, false)
		ctx := env.As(t, "admin")
		run := func(query string) (map[string]any, int64) {
			t.Helper()
			before := database.Statements.Load()
			body := postGraphQL(ctx, gql, query, nil)
			n := database.Statements.Load() - before
			var out struct {
				Data   map[string]any
				Errors []any
			}
			if err := json.Unmarshal(body, &out); err != nil || len(out.Errors) > 0 {
				t.Fatalf("%s: %v %s", query, err, body)
			}
			return out.Data, n
		}
		all, _ := run(`{ accounts { totalCount } }`)
		total := int(all["accounts"].(map[string]any)["totalCount"].(float64))
		if total < 3 {
			t.Fatalf("the fixture has %d accounts, the test needs 3", total)
		}
		for _, c := range []struct {
			args       string
			next, prev bool
			counts     bool // pageInfo alone counts: no rows are loaded to tell
		}{
			{"first: 1", true, false, false},
			{fmt.Sprintf("first: %d", total), false, false, false},
			{"last: 1", false, true, false},
			{"first: 0", true, false, true},
		} {
			page := `{ accounts(` + c.args + `) { pageInfo { hasNextPage hasPreviousPage } edges { node { id } } } }`
			counted := `{ accounts(` + c.args + `) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { id } } } }`
			d, n := run(page)
			_, m := run(counted)
			pi := d["accounts"].(map[string]any)["pageInfo"].(map[string]any)
			if pi["hasNextPage"] != c.next || pi["hasPreviousPage"] != c.prev {
				t.Errorf("accounts(%s): pageInfo %v; want next %t, previous %t", c.args, pi, c.next, c.prev)
			}
			switch {
			case c.counts && m != n:
				t.Errorf("accounts(%s): %d statements with pageInfo, %d with totalCount too; want the same count for both", c.args, n, m)
			case !c.counts && m != n+1:
				t.Errorf("accounts(%s): %d statements with pageInfo, %d with totalCount too; want the count to be the one more", c.args, n, m)
			}
		}
	})
}

// postGraphQL posts query with vars to the GraphQL handler h as the principal of ctx, and returns the
// answer's body.
func postGraphQL(ctx context.Context, h http.Handler, query string, vars map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.Bytes()
}

// A list answers the same rows whatever the client calls its edges, node and totalCount: entgql looked
// them up by alias and loaded nothing for e: edges (generator/entgqlpatch.go). On both databases, on
// every path (compiled, direct, gqlgen), for a list and a nested connection.
func TestAliasedConnectionFields(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		ctx := env.As(t, "admin")
		for _, direct := range []bool{true, false} {
			gql := app.GraphQLHandler(env.Runtime, env.Backend, env.DB, 1000, direct)
			for _, c := range []struct{ plain, aliased string }{
				{`{ deals(first: 10) { totalCount edges { node { title } } } }`,
					`{ deals(first: 10) { c: totalCount e: edges { n: node { title } } } }`},
				{`{ accounts(first: 10) { edges { node { name deals { totalCount edges { node { title } } } } } } }`,
					`{ accounts(first: 10) { edges { node { name deals { c: totalCount x: edges { y: node { title } } } } } } }`},
			} {
				plain := string(postGraphQL(ctx, gql, c.plain, nil))
				aliased := strings.NewReplacer(`"c":`, `"totalCount":`, `"e":`, `"edges":`, `"n":`, `"node":`, `"x":`, `"edges":`, `"y":`, `"node":`).
					Replace(string(postGraphQL(ctx, gql, c.aliased, nil)))
				if !strings.Contains(plain, `"title"`) || aliased != plain {
					t.Errorf("direct %t: %s\nanswered %s\nwhere %s answered %s", direct, c.aliased, aliased, c.plain, plain)
				}
			}
		}
	})
}
