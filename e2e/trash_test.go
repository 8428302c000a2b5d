package e2e

import (
	"slices"
	"sort"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestDeletedRecordsToRestore lists soft-deleted deals (the admin's trash): each user sees exactly the
// deleted records they may restore — those their delete scope covers, not all they could read — a role
// without the right to delete gets FORBIDDEN, hidden fields cannot be filtered on, and a restored record
// leaves the list for the live one.
func TestDeletedRecordsToRestore(t *testing.T) {
	a := built(t, "e2e/testdata/secure", "secure")
	onEachDB(t, a, func(t *testing.T, admin *apptest.Server) {
		ids := map[string]string{}
		for _, n := range nodesAt(t, query(t, admin, `{ deals(first: 100) { edges { node { id title } } } }`, nil), "deals") {
			ids[str(t, n, "title")] = str(t, n, "id")
		}
		for _, title := range []string{"Acme one", "Acme two", "Beta one"} {
			query(t, admin, `mutation($id: ID!) { deleteDeal(id: $id) }`, map[string]any{"id": ids[title]})
		}
		trash := func(s *apptest.Server) []string {
			t.Helper()
			var out []string
			for _, n := range nodesAt(t, query(t, s, `{ deletedDeals(first: 100) { totalCount edges { node { title deletedAt } } } }`, nil), "deletedDeals") {
				if at(t, n, "deletedAt") == nil {
					t.Errorf("a deleted deal without deletedAt: %v", n)
				}
				out = append(out, str(t, n, "title"))
			}
			sort.Strings(out)
			return out
		}
		alice := admin.As(t, "alice", "alice123")
		nmgr := admin.As(t, "nmgr", "nmgr1234")
		for _, c := range []struct {
			who  string
			s    *apptest.Server
			want []string
		}{
			{"admin", admin, []string{"Acme one", "Acme two", "Beta one"}},
			{"alice (deletes her own)", alice, []string{"Acme one"}},
			{"nmgr (reads the team's deals, deletes only his own)", nmgr, []string{"Acme two"}},
		} {
			if got := trash(c.s); !slices.Equal(got, c.want) {
				t.Errorf("%s: deleted deals %v, want %v", c.who, got, c.want)
			}
		}
		if e := mustFail(t, admin.As(t, "erin", "erin1234"), `{ deletedDeals { totalCount } }`, nil); e.Extensions["code"] != "FORBIDDEN" {
			t.Errorf("the auditor (no delete right): %+v, want FORBIDDEN", e)
		}
		if e := mustFail(t, alice, `{ deletedDeals(where: {marginGT: 0}) { totalCount } }`, nil); e.Extensions["code"] != "FORBIDDEN_FIELD" {
			t.Errorf("alice filtering deleted deals on the hidden margin: %+v", e)
		}
		query(t, alice, `mutation($id: ID!) { restoreDeal(id: $id) { id } }`, map[string]any{"id": ids["Acme one"]})
		if got := trash(alice); len(got) != 0 {
			t.Errorf("alice's trash after the restore: %v", got)
		}
		if n := count(t, alice, "deals", `{title: "Acme one"}`); n != 1 {
			t.Errorf("the restored deal is not back in alice's list (%d)", n)
		}
	})
}
