package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Reports in the permission matrix: a report is one more read path, so for every user and every groupBy
// report of the model (without a where or time bucket, whose rows the data alone decides), the API's
// `report` answers what the model's roles grant, computed from the model and its data (the matrix's
// world), never from the platform:
//   - refused (NOT_FOUND) when none of the user's roles reads the entity;
//   - refused (FORBIDDEN_FIELD, naming the field, in the user's language) when it groups by or measures a
//     member the user may not list: hidden or sensitive-not-visible in every reading role, or shown by one
//     reading role that reads only some rows while another hides it (the value would show on rows where
//     it is hidden);
//   - otherwise, per group, exactly as many rows as the user may read with that key.
// It runs before the matrix's writes, on the data as loaded.

var reportIdentRE = regexp.MustCompile(`[A-Za-z]+[A-Z][a-z]+|record\.|_[a-z]`)

func (mx *pmMatrix) reports(t *testing.T, s *apptest.Server) {
	var reports []*metamodel.Report
	for _, r := range mx.m.Reports {
		plain := r.Kind == metamodel.ReportAggregate && r.Where.IsZero()
		for _, g := range r.GroupBy {
			plain = plain && g.Bucket == ""
		}
		if plain {
			reports = append(reports, r)
		}
	}
	if len(reports) == 0 {
		return
	}
	for _, u := range mx.w.users {
		if u.password == "" || !u.active {
			continue
		}
		us := s.As(t, u.name, u.password)
		for _, r := range reports {
			t.Run("report "+r.Name+" as "+u.name, func(t *testing.T) { mx.report(t, us, u, r) })
		}
	}
}

func (mx *pmMatrix) report(t *testing.T, s *apptest.Server, u *pmUser, r *metamodel.Report) {
	e := mx.m.Entity(r.Entity)
	resp := s.GraphQL(t, `query($n: String!) { report(name: $n, locale: "zh") { columns { name } rows } }`, map[string]any{"n": r.Name})
	readsAny := u.all
	for _, p := range mx.w.perms(u, e.Name) {
		readsAny = readsAny || pmGranted(p.Read)
	}
	var refusedFor []string
	for _, m := range reportMembers(r) {
		if mx.reportRefuses(u, e, m) {
			refusedFor = append(refusedFor, m)
		}
	}
	switch {
	case !readsAny:
		if len(resp.Errors) == 0 || pmCode(resp.Errors[0]) != "NOT_FOUND" {
			t.Errorf("%s may read no %s, but report %s answered %s", u, e.Name, r.Name, resp.Data)
		}
		mx.count("report refused (NOT_FOUND)")
		return
	case len(refusedFor) > 0:
		if len(resp.Errors) == 0 {
			t.Errorf("%s may not list %s.%v, but report %s answered %s", u, e.Name, refusedFor, r.Name, resp.Data)
			return
		}
		ge := resp.Errors[0]
		field, _ := ge.Extensions["field"].(string)
		if pmCode(ge) != "FORBIDDEN_FIELD" || !slices.Contains(refusedFor, field) {
			t.Errorf("%s, report %s: %s, want FORBIDDEN_FIELD on one of %v", u, r.Name, pmDescribe(ge), refusedFor)
		}
		if !strings.Contains(ge.Message, "报表") || reportIdentRE.MatchString(ge.Message) {
			t.Errorf("%s, report %s: the refusal %q is not plain Chinese with labels", u, r.Name, ge.Message)
		}
		mx.count("report refused (FORBIDDEN_FIELD)")
		return
	}
	if len(resp.Errors) > 0 {
		t.Errorf("%s, report %s: %s", u, r.Name, pmDescribe(resp.Errors[0]))
		return
	}
	var got struct {
		Report struct {
			Rows []map[string]any `json:"rows"`
		} `json:"report"`
	}
	if err := json.Unmarshal(resp.Data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, row := range mx.w.rows[e.Name] {
		if !mx.w.readable(u, row) {
			continue
		}
		var key []string
		for _, g := range r.GroupBy {
			key = append(key, mx.groupKey(row, e, g.Field))
		}
		want[strings.Join(key, "|")]++
	}
	have := map[string]int{}
	for _, row := range got.Report.Rows {
		var key []string
		for _, g := range r.GroupBy {
			v := row[g.Field]
			if ref, ok := v.(map[string]any); ok {
				v = ref["id"]
			}
			key = append(key, cellKey(v))
		}
		n, _ := row["count"].(float64)
		have[strings.Join(key, "|")] += int(n)
	}
	if fmt.Sprint(sortedCounts(have)) != fmt.Sprint(sortedCounts(want)) {
		t.Errorf("%s, report %s: counts %v, the rows %s may read give %v", u, r.Name, sortedCounts(have), u.name, sortedCounts(want))
	}
	mx.count("report counted")
}

// reportMembers lists the members a groupBy report groups by or measures.
func reportMembers(r *metamodel.Report) []string {
	var out []string
	for _, g := range r.GroupBy {
		out = append(out, g.Field)
	}
	for _, m := range r.Measures {
		if m.Field != "" {
			out = append(out, m.Field)
		}
	}
	return out
}

// reportRefuses reports whether a report reading member of e is refused to u by the model's rules: the
// member is not listed to them (unsearchable), or one reading role shows it on some rows only (its read
// scope is not all) while another reading role hides it.
func (mx *pmMatrix) reportRefuses(u *pmUser, e *metamodel.Entity, member string) bool {
	if u.all {
		return false
	}
	if mx.w.unsearchable(u, e.Name, member) {
		return true
	}
	hides, showsSome, showsAll := false, false, false
	for _, p := range mx.w.perms(u, e.Name) {
		if !pmGranted(p.Read) {
			continue
		}
		if !pmShows(p, e, member, true) {
			hides = true
		} else if p.Read.Kind == metamodel.ScopeAll {
			showsAll = true
		} else {
			showsSome = true
		}
	}
	return hides && showsSome && !showsAll
}

// groupKey is a data row's key in a group of member, as the report shows it: a related row's id, or the
// field's value as the superuser reads it.
func (mx *pmMatrix) groupKey(row *pmRow, e *metamodel.Entity, member string) string {
	if rel := e.Relation(member); rel != nil {
		if t := row.refs[member]; t != nil {
			return t.id
		}
		return "<nil>"
	}
	return cellKey(row.vals[e.Field(member).GraphQLName()])
}

func cellKey(v any) string {
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprint(v)
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, n := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(out)
	return out
}
