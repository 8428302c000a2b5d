package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// Lists written straight from the loaded rows (platform/gqlwrite) answer exactly what gqlgen's
// field-by-field execution answers, byte for byte, for every user of the data and every entity: every
// stored field (hidden, sensitive, shown on some rows only), foreign key, to-one relation and nested
// connection, with totalCount, cursors and pageInfo. Two servers of one app share one database, one
// with --graphql-direct=false; /metrics shows that the direct path wrote the lists.
func TestDirectListsMatchGqlgen(t *testing.T) {
	for _, ex := range []struct{ dir, name string }{{"e2e/testdata/secure", "secure"}, {"examples/hospital", "hospital"}} {
		t.Run(ex.name, func(t *testing.T) {
			a := built(t, ex.dir, ex.name)
			db := apptest.SQLitePath(t)
			direct := a.Start(t, db, noTimers)
			slow := a.Start(t, db, noTimers, "--seed=false", "--graphql-direct=false")
			w := newPMWorld(t, a.Model)
			admin := direct.As(t, w.super.name, w.super.password)
			types := pmIntrospect(t, admin)
			compared := 0
			for _, u := range w.users {
				if u.password == "" || !u.active {
					continue
				}
				fast, gql := direct.As(t, u.name, u.password), slow.As(t, u.name, u.password)
				for _, e := range a.Model.Entities {
					p := pmPlanOf(t, types, e, 3)
					if !p.hasQuery {
						continue
					}
					q := directListQuery(p)
					want, got := gql.GraphQL(t, q, nil), fast.GraphQL(t, q, nil)
					if string(got.Data) != string(want.Data) || fmt.Sprint(got.Errors) != fmt.Sprint(want.Errors) {
						t.Errorf("%s as %s: the direct list differs from gqlgen's\nquery: %s\ndirect: %s %v\ngqlgen: %s %v",
							e.Name, u.name, q, got.Data, got.Errors, want.Data, want.Errors)
					}
					compared++
				}
			}
			if written := metricValue(t, admin, "crm_graphql_direct_lists_total"); written < compared {
				t.Errorf("the direct path wrote %d lists of %d compared: the comparison did not test it", written, compared)
			}
		})
	}
}

// directListQuery selects every stored field, foreign key, to-one relation and connection of p's
// entity in a page of its list.
func directListQuery(p *pmPlan) string {
	var sel []string
	for _, f := range p.fields {
		if f.Computed.Src != "" && !f.Stored {
			continue // a resolver: gqlgen answers it on either server
		}
		sel = append(sel, fieldSelection(f))
	}
	for _, r := range p.fks {
		sel = append(sel, r.GraphQLFKName())
	}
	for _, r := range p.rels {
		switch p.relKind[r.Name] {
		case "object":
			sel = append(sel, r.GraphQLName()+" { id __typename }")
		case "connection":
			sel = append(sel, r.GraphQLName()+"(first: 3) { edges { node { id } } }")
		}
	}
	return fmt.Sprintf(`{ %s(first: 40) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id %s } } } }`,
		p.qf, strings.Join(sel, " "))
}

var metricLine = regexp.MustCompile(`(?m)^(\w+) (\d+)$`)

// metricValue reads a counter from /metrics (s must be signed in as a superuser).
func metricValue(t *testing.T, s *apptest.Server, name string) int {
	t.Helper()
	code, page := fetchPage(t, s, "/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, m := range metricLine.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
