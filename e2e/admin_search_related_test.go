package e2e

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/metamodel"
)

// The list screens' search matches a record by its related records' titles too (a patient by its
// department's or physician's name, a follow-up by its patient's name). The screens find the related
// records first and name them by id (departmentIDIn), so a database plans a list of values instead of
// guessing at a subquery; here, on SQLite and Postgres and for users with different rules, every search
// must find exactly the rows the API finds with the relation filter itself (hasDepartmentWith on the
// title fields) or'ed with the record's own search fields, as that user: the same records, none the user
// may not read, none through a related record they may not read.
func TestAdminSearchRelatedTitles(t *testing.T) {
	a := adminApp(t, "hospital")
	m := apptest.LoadModel(t, "examples/hospital")
	t.Run("sqlite", func(t *testing.T) { searchRelatedTitles(t, m, a.Start(t, apptest.SQLitePath(t), noTimers)) })
	t.Run("postgres", func(t *testing.T) { searchRelatedTitles(t, m, a.Start(t, pgtest.DSN(t), noTimers)) })
}

func searchRelatedTitles(t *testing.T, m *metamodel.Model, s *apptest.Server) {
	admin := s.As(t, "admin", "admin123")
	// Texts: a department's name, a physician's name, a patient's name (from the demo data), and nothing.
	var data struct {
		Teams struct {
			Edges []struct{ Node struct{ Name string } }
		}
		Users struct {
			Edges []struct{ Node struct{ DisplayName string } }
		}
		Patients struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	admin.GraphQL(t, `{ teams(where: {name: "心内科"}) { edges { node { name } } }
		users(where: {username: "liuyang"}) { edges { node { displayName } } }
		patients(first: 1, orderBy: {field: NAME}) { edges { node { name } } } }`, nil).Decode(t, &data)
	if len(data.Teams.Edges) == 0 || len(data.Users.Edges) == 0 || len(data.Patients.Edges) == 0 {
		t.Fatalf("the demo data lacks the department, physician or patient the test searches for: %+v", data)
	}
	texts := []string{data.Teams.Edges[0].Node.Name, data.Users.Edges[0].Node.DisplayName, data.Patients.Edges[0].Node.Name, "无此记录"}

	users := []struct{ name, password string }{{"admin", "admin123"}, {"zhangjianguo", "doctor123"}, {"liuyang", "doctor123"}, {"linxiao", "service123"}}
	byRelation := 0 // searches in which the relation branch found rows the record's own fields did not
	for _, u := range users {
		api := s.As(t, u.name, u.password)
		p := openBrowser(t, s)
		p.t = t
		p.signIn(u.name, u.password)
		for _, name := range []string{"Patient", "FollowUp"} {
			e := m.Entity(name)
			for _, text := range texts {
				own, all := relatedSearchWhere(t, api, e, text)
				want := searchedIDs(t, api, e, all)
				status, body := p.fetchText("/e/" + name + "?n=200&q=" + url.QueryEscape(text))
				if status != 200 {
					t.Fatalf("%s searching %s for %q: status %d", u.name, name, text, status)
				}
				var got []string
				for _, sm := range regexp.MustCompile(`<tr[^>]* data-id="(\d+)"`).FindAllStringSubmatch(body, -1) {
					got = append(got, sm[1])
				}
				slices.Sort(got)
				got = slices.Compact(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s searching %s for %q: the screen lists %v, the API's relation filter finds %v", u.name, name, text, got, want)
				}
				if len(want) > len(searchedIDs(t, api, e, own)) {
					byRelation++
				}
			}
		}
	}
	if byRelation == 0 {
		t.Error("no search found a record by a related record's title: the test checks nothing of the relation branch")
	}
}

// relatedSearchWhere is the where input of a list search for text over e, as the API's relation filters
// say it, for the user of api: own matches e's TextSearchFields; all adds, for each belongsTo relation
// among the list's columns whose target the user may list, has<Relation>With on the target's title
// fields.
func relatedSearchWhere(t *testing.T, api *apptest.Server, e *metamodel.Entity, text string) (own, all map[string]any) {
	var or []any
	for _, f := range e.TextSearchFields() {
		or = append(or, map[string]any{f.GraphQLName() + "ContainsFold": text})
	}
	own = map[string]any{"or": slices.Clone(or)}
	for _, col := range e.Views.List.Columns {
		r := e.Relation(col)
		if r == nil || r.Kind != metamodel.BelongsTo {
			continue
		}
		if resp := api.GraphQL(t, fmt.Sprintf(`{ %s(first: 1) { totalCount } }`, r.Target.QueryField()), nil); len(resp.Errors) > 0 {
			continue // a target the user may not list: its titles are no search of theirs
		}
		var sub []any
		for _, f := range r.Target.TitleFields() {
			sub = append(sub, map[string]any{f.GraphQLName() + "ContainsFold": text})
		}
		or = append(or, map[string]any{"has" + metamodel.Pascal(r.GraphQLName()) + "With": []any{map[string]any{"or": sub}}})
	}
	return own, map[string]any{"or": or}
}

// searchedIDs are the ids, sorted, of the records of e the API lists to the user of api under where.
func searchedIDs(t *testing.T, api *apptest.Server, e *metamodel.Entity, where map[string]any) []string {
	resp := api.GraphQL(t, fmt.Sprintf(`query($w: %sWhereInput) { l: %s(first: 200, where: $w) { edges { node { id } } } }`, e.Name, e.QueryField()),
		map[string]any{"w": where})
	if len(resp.Errors) > 0 {
		t.Fatalf("%s with %v: %v", e.QueryField(), where, resp.Errors[0])
	}
	var out struct {
		L struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	resp.Decode(t, &out)
	var ids []string
	for _, ed := range out.L.Edges {
		ids = append(ids, ed.Node.ID)
	}
	slices.Sort(ids)
	return ids
}
