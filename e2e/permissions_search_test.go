package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// The API's search argument in the permission matrix: for every user and every entity with `search`
// fields, searching for a value of each search field answers exactly the rows the user may read in which a
// search field the user may search by contains the text (case-insensitive). A field they may not search by
// (hidden, sensitive without a visible rule, or shown on some of their rows only) never matches, so a
// search tells nothing of it. Expectations come from the model and its data (the matrix's world). It runs
// before the matrix's writes.

func (mx *pmMatrix) searches(t *testing.T, s *apptest.Server) {
	for _, u := range mx.w.users {
		if u.password == "" || !u.active {
			continue
		}
		var us *apptest.Server
		for _, e := range mx.m.Entities {
			var fields []*metamodel.Field
			for _, f := range e.Fields {
				if f.Search && !f.Secret && f.Type.Stringy() && !(f.Computed.Src != "" && !f.Stored) {
					fields = append(fields, f)
				}
			}
			if len(fields) == 0 || !mx.plans[e.Name].hasQuery {
				continue
			}
			if us == nil {
				us = s.As(t, u.name, u.password)
			}
			t.Run("search "+e.Name+" as "+u.name, func(t *testing.T) { mx.search(t, us, u, e, fields) })
		}
	}
}

func (mx *pmMatrix) search(t *testing.T, s *apptest.Server, u *pmUser, e *metamodel.Entity, fields []*metamodel.Field) {
	var searchable []*metamodel.Field
	for _, f := range fields {
		if !mx.reportRefuses(u, e, f.Name) {
			searchable = append(searchable, f)
		}
	}
	// One text per search field: a value of the superuser's view, cut to its middle part so it is a
	// substring search.
	texts := map[string]bool{}
	for _, f := range fields {
		for _, row := range mx.w.rows[e.Name] {
			v, _ := row.vals[f.GraphQLName()].(string)
			if r := []rune(v); len(r) >= 2 {
				texts[string(r[len(r)/4:len(r)/4+max(1, len(r)/2)])] = true
				break
			}
		}
	}
	readsAny := u.all
	for _, p := range mx.w.perms(u, e.Name) {
		readsAny = readsAny || pmGranted(p.Read)
	}
	for text := range texts {
		resp := s.GraphQL(t, fmt.Sprintf(`query($s: String) { %s(first: %d, search: $s) { edges { node { id } } } }`, e.QueryField(), pmBig),
			map[string]any{"s": text})
		if !readsAny {
			if len(resp.Errors) == 0 {
				if ids, _ := pmNodeIDs(pmData(resp)[e.QueryField()]); len(ids) > 0 {
					t.Errorf("%s may read no %s, but searching %q answered %v", u, e.Name, text, ids)
				}
			}
			continue
		}
		if len(resp.Errors) > 0 {
			t.Errorf("%s, search %s for %q: %s", u, e.Name, text, pmDescribe(resp.Errors[0]))
			continue
		}
		got, _ := pmNodeIDs(pmData(resp)[e.QueryField()])
		var want []string
		for _, row := range mx.w.rows[e.Name] {
			if !mx.w.readable(u, row) || row.id == "" {
				continue
			}
			if slices.ContainsFunc(searchable, func(f *metamodel.Field) bool {
				v, _ := row.vals[f.GraphQLName()].(string)
				return strings.Contains(strings.ToLower(v), strings.ToLower(text))
			}) {
				want = append(want, row.id)
			}
		}
		pmSortIDs(got)
		pmSortIDs(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s, search %s for %q: %s, want %s", u, e.Name, text, mx.labels(got), mx.labels(want))
		}
		mx.count("search answered")
	}
}
