package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// The permission matrix (issue 4, tests): for every user of a model's data — so every role, and users with
// several roles — and every entity, what the user may read and write through GraphQL is exactly what the
// model's roles grant: the rows of every list (all pages) and totalCount, node(id) of every row (NOT_FOUND
// for a row the user may not read), the related rows of every nested edge and foreign key, every field's
// value (null when hidden, and in lists when sensitive without a visible rule), filters and sort keys on
// every field and relation (refused with FORBIDDEN_FIELD when hidden or sensitive-not-visible, and never
// matching rows the user may not read), create, update and delete of every row (NOT_FOUND when unreadable,
// FORBIDDEN when readable but out of the verb's scope), writes of readonly and hidden fields (VALIDATION
// rule readonly), and relations to rows the user cannot read (VALIDATION rule exists). A user's rights
// are the union of their roles row by row: a row is readable when one of the roles reads it, and a field
// of it is shown when one of the roles that read that row shows it. The expectations come from the model
// alone (permissions_helpers_test.go), never from the platform's code, so the matrix runs on any model
// with roles and data.
//
// Writes that must succeed run in one GraphQL operation with a field that always fails (deleting id 0):
// the platform runs each mutation operation in one transaction and rolls it back on any error, so they
// leave the data as it was. Real deletes are checked on copies the superuser makes for the purpose.

// TestPermissionMatrixSecureModel runs the matrix on testdata/secure, a model whose roles use every rule
// kind of METAMODEL.md and whose data has rows on both sides of every row scope.
func TestPermissionMatrixSecureModel(t *testing.T) {
	a := built(t, "e2e/testdata/secure", "secure")
	pmCheckModel(t, a.Model, true)
	pmCheckSecureRoles(t, a.Model)
	onEachDB(t, a, func(t *testing.T, s *apptest.Server) {
		tally := permissionMatrix(t, s, a.Model, pmOptions{pageSize: 4, nested: 100})
		for _, k := range pmCheckKinds {
			if tally[k] == 0 {
				t.Errorf("the matrix made no check of kind %q on testdata/secure: a side of a rule is untested", k)
			}
		}
	})
}

// TestPermissionMatrixExamples runs the matrix on the example models.
func TestPermissionMatrixExamples(t *testing.T) {
	for _, ex := range []struct{ dir, name string }{{"examples/hospital", "hospital"}, {"examples/b2b-sales", "b2b-sales"}} {
		t.Run(ex.name, func(t *testing.T) {
			if m := pmLoad(t, ex.dir); len(m.Roles) == 0 {
				t.Skipf("%s has no roles yet (issue 4, item 6 gives the examples their roles); remove this skip once it has", ex.dir)
			}
			a := built(t, ex.dir, ex.name)
			pmCheckModel(t, a.Model, false)
			onEachDB(t, a, func(t *testing.T, s *apptest.Server) {
				permissionMatrix(t, s, a.Model, pmOptions{pageSize: 50, nested: 100, sample: 4})
			})
		})
	}
}

// pmLoad loads and builds a model without generating it.
func pmLoad(t *testing.T, dir string) *metamodel.Model {
	t.Helper()
	m, err := metamodel.Load(filepath.Join(apptest.RepoRoot(), dir))
	if err == nil {
		m, err = metamodel.Build(m)
	}
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m
}

// pmCheckModel reports the rule kinds the model's roles use and the row scopes its data does not test on
// both sides; with strict, a missing kind or a one-sided scope is an error (the model exists to cover
// them all).
func pmCheckModel(t *testing.T, m *metamodel.Model, strict bool) {
	t.Helper()
	w := newPMWorld(t, m)
	kinds := pmRuleKinds(w)
	report := t.Logf
	if strict {
		report = t.Errorf
	}
	var covered []string
	for _, k := range pmAllRuleKinds {
		if where, ok := kinds[k]; ok {
			covered = append(covered, k+" ("+where+")")
		} else {
			report("the model's roles use no rule of kind %q: the permission matrix does not test it", k)
		}
	}
	t.Logf("rule kinds covered: %s", strings.Join(covered, "; "))
	for _, s := range pmOneSided(w) {
		report("the data does not test both sides of a row scope: %s", s)
	}
	if w.super == nil {
		t.Errorf("data.users has no superuser: the matrix needs one to see every row")
	}
}

// pmCheckSecureRoles checks that the built model gives testdata/secure's roles what the file means
// (inherits is a union with the inherited role, the more open field rule wins), so the matrix, which
// reads the built roles, tests the intended rules.
func pmCheckSecureRoles(t *testing.T, m *metamodel.Model) {
	t.Helper()
	mgr := m.Role("manager")
	if mgr == nil {
		t.Fatal("testdata/secure has no role manager")
	}
	scope := func(s *metamodel.Scope) string {
		if s == nil {
			return "none"
		}
		if s.Kind == metamodel.ScopeField {
			return fmt.Sprintf("{%s = %s subteams=%v}", s.Field, s.Equals, s.Subteams)
		}
		return string(s.Kind)
	}
	for _, c := range []struct {
		entity, read, update, del string
		create                    bool
		fields                    string
	}{
		{"Account", "team", "team", "none", true, "map[creditLimit:readonly]"},
		{"Deal", "team", "own", "own", true, "map[margin:hidden]"},
		{"Ticket", "{team = user.team subteams=false}", "none", "none", false, "map[]"},
		{"Memo", "{author = user.id subteams=false}", "{author = user.id subteams=false}", "{author = user.id subteams=false}", true, "map[]"},
		{"Product", "all", "all", "none", true, "map[]"},
	} {
		p := mgr.Permissions[c.entity]
		if p == nil {
			t.Errorf("manager has no permissions on %s after inheriting rep", c.entity)
			continue
		}
		got := fmt.Sprintf("read %s update %s delete %s create %v fields %v", scope(p.Read), scope(p.Update), scope(p.Delete), p.Create, p.Fields)
		want := fmt.Sprintf("read %s update %s delete %s create %v fields %s", c.read, c.update, c.del, c.create, c.fields)
		if got != want {
			t.Errorf("manager on %s (inherits rep): %s, want %s", c.entity, got, want)
		}
	}
}

// pmOptions tune the matrix to the size of a model's data.
type pmOptions struct {
	pageSize int // page size when listing
	nested   int // first: of nested connections
	sample   int // per-row deletes: at most this many rows per expected outcome (0: every row)
}

// pmMatrix is one run of the matrix against one server.
type pmMatrix struct {
	w     *pmWorld
	m     *metamodel.Model
	admin *apptest.Server // signed in as the superuser
	types map[string]*pmGQLType
	plans map[string]*pmPlan
	byID  map[string]*pmRow
	opt   pmOptions
	seq   int
	order map[string][]string // the superuser's order of an entity's rows per orderBy
	tally map[string]int      // checks made, per kind (both sides of every rule)
}

// count records that the matrix checked one case of kind.
func (mx *pmMatrix) count(kind string) { mx.tally[kind]++ }

// pmCheckKinds are the kinds of check a model whose roles use every rule kind must exercise: the allowed
// and the denied side of every rule.
var pmCheckKinds = []string{
	"list/node: readable row", "list/node: unreadable row (absent, NOT_FOUND)",
	"field shown", "field hidden (null)", "sensitive field left out of a list", "sensitive field made visible in a list",
	"related row readable", "related row unreadable (null)", "relation hidden (null)",
	"nested list narrowed to readable rows",
	"filter answered", "filter refused (FORBIDDEN_FIELD)", "sort answered", "sort refused (FORBIDDEN_FIELD)",
	"update allowed", "update FORBIDDEN", "update NOT_FOUND", "delete allowed", "delete FORBIDDEN", "delete NOT_FOUND",
	"create allowed", "create FORBIDDEN", "create of a hidden field refused (readonly)", "create with an unreadable related row refused (exists)",
	"write allowed", "write of a readonly or hidden field refused (readonly)", "write of an unreadable related row refused (exists)",
	"real delete of a copy", "restore of a soft-deleted copy",
}

const pmBig = 2000 // first: for lists that must return every row at once

// permissionMatrix runs the matrix on a running app of m (s may be signed in as anyone) and returns how
// many checks of each kind it made.
func permissionMatrix(t *testing.T, s *apptest.Server, m *metamodel.Model, opt pmOptions) map[string]int {
	start := time.Now()
	w := newPMWorld(t, m)
	if len(m.Roles) == 0 {
		t.Log("the model has no roles: every signed-in user may do everything")
	}
	if w.super == nil {
		t.Fatal("data.users has no superuser with a password: the matrix needs one to see every row")
	}
	mx := &pmMatrix{w: w, m: m, opt: opt, plans: map[string]*pmPlan{}, byID: map[string]*pmRow{}, order: map[string][]string{},
		tally: map[string]int{}}
	mx.admin = s.As(t, w.super.name, w.super.password)
	mx.types = pmIntrospect(t, mx.admin)
	for _, e := range m.Entities {
		mx.plans[e.Name] = pmPlanOf(t, mx.types, e, opt.nested)
	}
	mx.mapRows(t)
	for _, u := range w.users {
		t.Run(u.name, func(t *testing.T) {
			if u.password == "" || !u.active {
				t.Logf("%s cannot sign in (no password in the data, or inactive): not in the matrix", u.name)
				return
			}
			us := s.As(t, u.name, u.password)
			for _, e := range m.Entities {
				p := mx.plans[e.Name]
				if !p.hasQuery {
					continue
				}
				t.Run(e.Name, func(t *testing.T) {
					rep := newPMReport(t, fmt.Sprintf("%s as %s", e.Name, u))
					defer rep.flush()
					mx.reads(t, rep, us, u, p)
					mx.filters(t, rep, us, u, p)
					mx.orders(t, rep, us, u, p)
					mx.rowWrites(t, rep, us, u, p)
					mx.creates(t, rep, us, u, p)
					mx.fieldWrites(t, rep, us, u, p)
					mx.realDelete(t, rep, us, u, p)
				})
			}
		})
	}
	var kinds []string
	for _, k := range pmCheckKinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, mx.tally[k]))
	}
	t.Logf("permission matrix: %d users × %d entities in %s; checks: %s", len(w.users), len(m.Entities),
		time.Since(start).Round(time.Millisecond), strings.Join(kinds, ", "))
	return mx.tally
}

// mapRows finds every data record's row in the database (as the superuser sees it) and keeps its values.
// A record is matched by the plain values the data gives it (strings, numbers, booleans); records alike in
// those are matched in id order, which is the order they load in.
func (mx *pmMatrix) mapRows(t *testing.T) {
	t.Helper()
	for _, e := range mx.m.Entities {
		p := mx.plans[e.Name]
		if !p.hasQuery {
			continue
		}
		var sel []string
		for _, f := range p.fields {
			sel = append(sel, f.GraphQLName())
		}
		nodes := pageAll(t, mx.admin, p.qf, "", "id "+strings.Join(sel, " "), 200)
		pmSortNodes(nodes)
		taken := make([]bool, len(nodes))
		rows := mx.w.rows[e.Name]
		for _, r := range rows {
			for i, n := range nodes {
				if !taken[i] && pmSameData(e, r, n.(map[string]any)) {
					taken[i] = true
					r.id = fmt.Sprint(n.(map[string]any)["id"])
					mx.byID[r.id] = r
					break
				}
			}
			if r.id == "" {
				t.Fatalf("data record %s is not in the database as the superuser %s sees it", r.label, mx.w.super.name)
			}
		}
		if len(nodes) != len(rows) {
			var extra []string
			for i, n := range nodes {
				if !taken[i] {
					extra = append(extra, jsonString(n))
				}
			}
			t.Errorf("%s: the superuser lists %d rows, the data has %d; not from the data: %v", e.Name, len(nodes), len(rows), extra)
		}
		// The superuser's node(id) of every row is the truth every other user's view is compared with.
		for _, r := range rows {
			r.vals = map[string]any{}
		}
		got, errs := mx.nodes(t, mx.admin, p, rows)
		for _, r := range rows {
			if e, ok := errs[r.id]; ok {
				t.Fatalf("the superuser cannot read %s: %s", r.label, pmDescribe(e))
			}
			n := got[r.id]
			for _, f := range p.fields {
				r.vals[f.GraphQLName()] = n[f.GraphQLName()]
			}
		}
	}
}

func pmSortNodes(nodes []any) {
	ids := make([]string, len(nodes))
	byID := map[string]any{}
	for i, n := range nodes {
		ids[i] = fmt.Sprint(n.(map[string]any)["id"])
		byID[ids[i]] = n
	}
	pmSortIDs(ids)
	for i, id := range ids {
		nodes[i] = byID[id]
	}
}

// pmSameData reports whether node (the superuser's view) holds the plain values record r gives.
func pmSameData(e *metamodel.Entity, r *pmRow, n map[string]any) bool {
	for name, v := range r.data {
		f := e.Field(name)
		if f == nil || f.Secret {
			continue
		}
		got := n[f.GraphQLName()]
		switch f.Type {
		case metamodel.TypeString, metamodel.TypeText, metamodel.TypeEmail, metamodel.TypePhone, metamodel.TypeURL:
			if s, ok := v.(string); ok && got != s {
				return false
			}
		case metamodel.TypeInt:
			if i, ok := v.(int64); ok && got != float64(i) {
				return false
			}
		case metamodel.TypeBool:
			if b, ok := v.(bool); ok && got != b {
				return false
			}
		}
	}
	return true
}

// nodes reads rows through node(id), many per request, and returns each row's node and each error (by
// id).
func (mx *pmMatrix) nodes(t *testing.T, s *apptest.Server, p *pmPlan, rows []*pmRow) (map[string]map[string]any, map[string]apptest.Error) {
	t.Helper()
	got := map[string]map[string]any{}
	errs := map[string]apptest.Error{}
	const chunk = 40
	for lo := 0; lo < len(rows); lo += chunk {
		part := rows[lo:min(lo+chunk, len(rows))]
		var q strings.Builder
		q.WriteString("query {")
		for i, r := range part {
			fmt.Fprintf(&q, " n%d: node(id: %q) { __typename id ... on %s { %s } }", i, r.id, p.e.Name, p.sel)
		}
		q.WriteString(" }")
		resp := s.GraphQL(t, q.String(), nil)
		data, perr := pmData(resp), pmErrors(resp)
		if e, ok := perr[""]; ok {
			t.Fatalf("node(id) of %d %s rows: %s", len(part), p.e.Name, pmDescribe(e))
		}
		for i, r := range part {
			alias := fmt.Sprintf("n%d", i)
			if e, ok := perr[alias]; ok {
				errs[r.id] = e
			}
			if n, ok := data[alias].(map[string]any); ok {
				got[r.id] = n
			}
		}
	}
	return got, errs
}

// ---------------------------------------------------------------------------------------------------
// Reads.

// reads checks the list (every page), totalCount, node(id) of every row, and every row's fields and
// nested edges.
func (mx *pmMatrix) reads(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	rows := w.rows[p.e.Name]
	var want []*pmRow
	for _, r := range rows {
		if w.readable(u, r) {
			want = append(want, r)
		}
	}
	nodes := pageAll(t, s, p.qf, "", "id "+p.sel, mx.opt.pageSize)
	gotIDs := ids(t, nodes)
	mx.sameRows(rep, fmt.Sprintf("%s list (all pages, totalCount %d)", p.qf, len(gotIDs)), pmIDsOf(want), gotIDs)
	for _, n := range nodes {
		if r := mx.byID[str(t, n, "id")]; r != nil && w.readable(u, r) {
			mx.checkRow(rep, u, p, r, n.(map[string]any), "list")
		}
	}
	got, errs := mx.nodes(t, s, p, rows)
	for _, r := range rows {
		e, failed := errs[r.id]
		n := got[r.id]
		if w.readable(u, r) {
			mx.count("list/node: readable row")
		} else {
			mx.count("list/node: unreadable row (absent, NOT_FOUND)")
		}
		switch {
		case w.readable(u, r) && failed:
			rep.add("node(id) of a readable row fails", "%s: %s", r.label, pmDescribe(e))
		case w.readable(u, r) && n == nil:
			rep.add("node(id) of a readable row is null", "%s", r.label)
		case w.readable(u, r):
			mx.checkRow(rep, u, p, r, n, "node(id)")
		case n != nil:
			rep.add("node(id) returns a row the roles do not grant", "%s", r.label)
		case !failed || pmCode(e) != "NOT_FOUND":
			rep.add("node(id) of an unreadable row does not answer NOT_FOUND", "%s: %s", r.label, pmDescribe(e))
		}
	}
}

// sameRows reports the rows missing from got and those got has but should not.
func (mx *pmMatrix) sameRows(rep *pmReport, what string, want, got []string) {
	in := map[string]bool{}
	for _, id := range got {
		in[id] = true
	}
	var missing, extra []string
	wanted := map[string]bool{}
	for _, id := range want {
		wanted[id] = true
		if !in[id] {
			missing = append(missing, id)
		}
	}
	for _, id := range got {
		if !wanted[id] {
			extra = append(extra, id)
		}
	}
	if len(missing) > 0 {
		rep.add(what+": readable rows missing", "%s", mx.labels(missing))
	}
	if len(extra) > 0 {
		rep.add(what+": rows the roles do not grant", "%s", mx.labels(extra))
	}
	if len(got) != len(in) {
		rep.add(what+": a row is listed twice", "%d rows, %d distinct", len(got), len(in))
	}
}

// checkRow compares one row as u reads it (in a list or through node(id)) with what the roles let u see:
// every field the superuser's value or null, every relation the related rows u may read.
func (mx *pmMatrix) checkRow(rep *pmReport, u *pmUser, p *pmPlan, r *pmRow, n map[string]any, where string) {
	w := mx.w
	inList := where == "list"
	for _, f := range p.fields {
		g := f.GraphQLName()
		want, why := r.vals[g], ""
		if !w.shown(u, r, f.Name, false) {
			want, why = nil, "hidden by every role that reads the row"
		} else if !w.shown(u, r, f.Name, inList) {
			want, why = nil, "sensitive, and no role that reads the row makes it visible"
		}
		switch {
		case why == "" && r.vals[g] != nil:
			mx.count("field shown")
		case why != "" && r.vals[g] != nil && !w.shown(u, r, f.Name, false):
			mx.count("field hidden (null)")
		case why != "" && r.vals[g] != nil:
			mx.count("sensitive field left out of a list")
		}
		if inList && f.Sensitive && why == "" && r.vals[g] != nil && !u.all {
			mx.count("sensitive field made visible in a list")
		}
		got := n[g]
		if jsonString(got) == jsonString(want) {
			continue
		}
		if want == nil {
			rep.add(fmt.Sprintf("%s in %s: a value where null is expected (%s)", f.Name, where, why), "%s = %s", r.label, jsonString(got))
		} else {
			rep.add(fmt.Sprintf("%s in %s: not the stored value", f.Name, where), "%s = %s, want %s", r.label, jsonString(got), jsonString(want))
		}
	}
	// idOf is the id u may see of a related row: null when the relation is hidden or the row unreadable.
	idOf := func(rel *metamodel.Relation, target *pmRow) any {
		switch {
		case target == nil:
			return nil
		case !w.shown(u, r, rel.Name, false):
			mx.count("relation hidden (null)")
			return nil
		case !w.readable(u, target):
			mx.count("related row unreadable (null)")
			return nil
		}
		mx.count("related row readable")
		return target.id
	}
	for _, rel := range p.fks {
		want := idOf(rel, r.refs[rel.Name])
		if got := n[rel.GraphQLFKName()]; jsonString(got) != jsonString(want) {
			rep.add(fmt.Sprintf("%s in %s: wrong related id", rel.GraphQLFKName(), where), "%s: %s, want %s%s",
				r.label, jsonString(got), jsonString(want), mx.why(u, r, rel, r.refs[rel.Name]))
		}
	}
	for _, rel := range p.rels {
		got := n[rel.GraphQLName()]
		switch p.relKind[rel.Name] {
		case "object":
			target := r.refs[rel.Name]
			if rel.Kind == metamodel.HasOne {
				target = r.one[rel.Name]
			}
			want := idOf(rel, target)
			var gotID any
			if o, ok := got.(map[string]any); ok {
				gotID = o["id"]
			}
			if jsonString(gotID) != jsonString(want) {
				rep.add(fmt.Sprintf("nested %s in %s: wrong related row", rel.Name, where), "%s: %s, want %s%s",
					r.label, mx.labels([]string{fmt.Sprint(gotID)}), jsonString(want), mx.why(u, r, rel, target))
			}
		default:
			if !w.shown(u, r, rel.Name, false) {
				if got != nil {
					rep.add(fmt.Sprintf("nested %s in %s: the relation is hidden, yet answered", rel.Name, where), "%s: %s", r.label, jsonString(got))
				}
				continue
			}
			var want []*pmRow
			for _, x := range r.many[rel.Name] {
				if w.readable(u, x) {
					want = append(want, x)
				}
			}
			if len(want) < len(r.many[rel.Name]) {
				mx.count("nested list narrowed to readable rows")
			}
			var gotIDs []string
			ok := false
			if p.relKind[rel.Name] == "connection" {
				gotIDs, ok = pmNodeIDs(got)
				if c, isMap := got.(map[string]any); isMap && c["totalCount"] != float64(len(want)) {
					rep.add(fmt.Sprintf("nested %s.totalCount in %s", rel.Name, where), "%s: %v, want %d", r.label, c["totalCount"], len(want))
				}
			} else if l, isList := got.([]any); isList {
				ok = true
				for _, x := range l {
					gotIDs = append(gotIDs, fmt.Sprint(x.(map[string]any)["id"]))
				}
			}
			if !ok {
				rep.add(fmt.Sprintf("nested %s in %s: no list", rel.Name, where), "%s: %s", r.label, jsonString(got))
				continue
			}
			wantIDs := pmIDsOf(want)
			if len(wantIDs) > mx.opt.nested && p.relKind[rel.Name] == "connection" {
				// Only the first page: it must hold readable rows only.
				wantIn := map[string]bool{}
				for _, id := range wantIDs {
					wantIn[id] = true
				}
				for _, id := range gotIDs {
					if !wantIn[id] {
						rep.add(fmt.Sprintf("nested %s in %s: a row the roles do not grant", rel.Name, where), "%s: %s", r.label, mx.labels([]string{id}))
					}
				}
				continue
			}
			pmSortIDs(gotIDs)
			if strings.Join(gotIDs, ",") != strings.Join(wantIDs, ",") {
				rep.add(fmt.Sprintf("nested %s in %s: not the readable related rows", rel.Name, where), "%s: %s, want %s",
					r.label, mx.labels(gotIDs), mx.labels(wantIDs))
			}
		}
	}
	if p.history {
		entries, _ := n["history"].([]any)
		for _, en := range entries {
			changes, _ := en.(map[string]any)["changes"].([]any)
			for _, c := range changes {
				field := fmt.Sprint(c.(map[string]any)["field"])
				if (p.e.Field(field) != nil || p.e.Relation(field) != nil) && !w.shown(u, r, field, false) {
					rep.add(fmt.Sprintf("history in %s shows changes of hidden %s", where, field), "%s", r.label)
				}
			}
		}
	}
}

// why explains an expected related id.
func (mx *pmMatrix) why(u *pmUser, r *pmRow, rel *metamodel.Relation, target *pmRow) string {
	switch {
	case target == nil:
		return ""
	case !mx.w.shown(u, r, rel.Name, false):
		return fmt.Sprintf(" (%s is hidden)", rel.Name)
	case !mx.w.readable(u, target):
		return fmt.Sprintf(" (%s may not be read)", target.label)
	}
	return " (" + target.label + ")"
}

// ---------------------------------------------------------------------------------------------------
// Filters and sort keys.

// pmFilter is one where argument and the rows it must select.
type pmFilter struct {
	what   string
	where  map[string]any
	member string
	want   []*pmRow
	refuse bool // hidden for u: must be refused with FORBIDDEN_FIELD
	mixed  bool // hidden on some rows u reads only: refused, or exactly want
}

// filters checks where arguments on every field (equality, or GTE for numbers and times) and relation
// (foreign key, has<Rel>, has<Rel>With) with values taken from readable and unreadable rows: each selects
// exactly the readable rows that match, and on a member the user may not see it is refused.
func (mx *pmMatrix) filters(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	rows := w.rows[p.e.Name]
	var fs []pmFilter
	selectRows := func(ok func(*pmRow) bool) []*pmRow {
		var out []*pmRow
		for _, r := range rows {
			if w.readable(u, r) && ok(r) {
				out = append(out, r)
			}
		}
		return out
	}
	// mixed: the member is shown on some rows u reads and not on others (union of roles with different
	// field rules): a filter may be refused, or must select no row on which the member is not shown.
	readsAny := u.all
	for _, p := range w.perms(u, p.e.Name) {
		readsAny = readsAny || pmGranted(p.Read)
	}
	mixed := func(member string) bool {
		if !readsAny {
			return true // no row to leak: refusing is as good as answering nothing
		}
		for _, r := range rows {
			if w.readable(u, r) && !w.shown(u, r, member, true) {
				return true
			}
		}
		return false
	}
	for _, f := range p.fields {
		g := f.GraphQLName()
		op := g
		switch f.Type {
		case metamodel.TypeJSON:
			continue
		case metamodel.TypeFloat, metamodel.TypeDecimal, metamodel.TypeDate, metamodel.TypeDateTime:
			op = g + "GTE"
		}
		if !p.where[op] {
			continue
		}
		// Values: one of a row u reads and sees the field of, one of a row u cannot read, one of a row u
		// reads but may not see the field of.
		var values []any
		seen := map[string]bool{}
		addValue := func(v any) {
			if v != nil && !seen[jsonString(v)] {
				seen[jsonString(v)] = true
				values = append(values, v)
			}
		}
		for _, pick := range []func(*pmRow) bool{
			func(r *pmRow) bool { return w.readable(u, r) && w.shown(u, r, f.Name, true) },
			func(r *pmRow) bool { return !w.readable(u, r) },
			func(r *pmRow) bool { return w.readable(u, r) && !w.shown(u, r, f.Name, true) },
		} {
			for _, r := range rows {
				if pick(r) && r.vals[g] != nil {
					addValue(r.vals[g])
					break
				}
			}
		}
		hidden, mix := w.unsearchable(u, p.e.Name, f.Name), mixed(f.Name)
		for _, v := range values {
			want := selectRows(func(r *pmRow) bool {
				if !w.shown(u, r, f.Name, true) {
					return false
				}
				if op == g {
					return jsonString(r.vals[g]) == jsonString(v)
				}
				c, ok := pmCompare(f, r.vals[g], v)
				return ok && c >= 0
			})
			fs = append(fs, pmFilter{what: fmt.Sprintf("where {%s: %s}", op, jsonString(v)), where: map[string]any{op: v},
				member: f.Name, want: want, refuse: hidden, mixed: mix})
			if hidden {
				break
			}
		}
	}
	for _, rel := range p.rels {
		member := rel.Name
		hidden, mix := w.unsearchable(u, p.e.Name, member), mixed(member)
		related := func(r *pmRow) []*pmRow {
			if rel.Kind == metamodel.BelongsTo {
				if r.refs[rel.Name] != nil {
					return []*pmRow{r.refs[rel.Name]}
				}
				return nil
			}
			if rel.Kind == metamodel.HasOne {
				if r.one[rel.Name] != nil {
					return []*pmRow{r.one[rel.Name]}
				}
				return nil
			}
			return r.many[rel.Name]
		}
		// Targets: one u reads and one u cannot, both related to rows u reads.
		var targets []*pmRow
		for _, readable := range []bool{true, false} {
		pick:
			for _, r := range rows {
				if !w.readable(u, r) {
					continue
				}
				for _, x := range related(r) {
					if w.readable(u, x) == readable {
						targets = append(targets, x)
						break pick
					}
				}
			}
		}
		selectRelated := func(target *pmRow) []*pmRow {
			return selectRows(func(r *pmRow) bool {
				if !w.shown(u, r, member, false) {
					return false
				}
				for _, x := range related(r) {
					if w.readable(u, x) && (target == nil || x == target) {
						return true
					}
				}
				return false
			})
		}
		has := "has" + metamodel.Pascal(rel.GraphQLName())
		if p.where[has] {
			fs = append(fs, pmFilter{what: fmt.Sprintf("where {%s: true}", has), where: map[string]any{has: true},
				member: member, want: selectRelated(nil), refuse: hidden, mixed: mix})
		}
		for _, target := range targets {
			if rel.Kind == metamodel.BelongsTo && p.where[rel.GraphQLFKName()] {
				fs = append(fs, pmFilter{what: fmt.Sprintf("where {%s: <%s>}", rel.GraphQLFKName(), target.label),
					where: map[string]any{rel.GraphQLFKName(): target.id}, member: member, want: selectRelated(target), refuse: hidden, mixed: mix})
			}
			if p.where[has+"With"] {
				fs = append(fs, pmFilter{what: fmt.Sprintf("where {%sWith: {id: <%s>}}", has, target.label),
					where: map[string]any{has + "With": []any{map[string]any{"id": target.id}}}, member: member,
					want: selectRelated(target), refuse: hidden, mixed: mix})
			}
		}
	}
	// The filters that must work run together; the others one by one, as a refused one fails the request.
	var batch []pmFilter
	for _, f := range fs {
		if f.refuse {
			mx.count("filter refused (FORBIDDEN_FIELD)")
		} else {
			mx.count("filter answered")
		}
		if f.refuse || f.mixed {
			mx.oneFilter(t, rep, s, p, f)
		} else {
			batch = append(batch, f)
		}
	}
	const chunk = 25
	for lo := 0; lo < len(batch); lo += chunk {
		part := batch[lo:min(lo+chunk, len(batch))]
		var q, params strings.Builder
		vars := map[string]any{}
		for i, f := range part {
			fmt.Fprintf(&params, "$w%d: %sWhereInput, ", i, p.e.Name)
			fmt.Fprintf(&q, " f%d: %s(where: $w%d, first: %d) { totalCount edges { node { id } } }", i, p.qf, i, pmBig)
			vars[fmt.Sprintf("w%d", i)] = f.where
		}
		resp := s.GraphQL(t, fmt.Sprintf("query(%s) {%s }", strings.TrimSuffix(params.String(), ", "), q.String()), vars)
		data, errs := pmData(resp), pmErrors(resp)
		for i, f := range part {
			alias := fmt.Sprintf("f%d", i)
			e, ok := errs[alias]
			if whole, failed := errs[""]; failed {
				e, ok = whole, true
			}
			if ok {
				rep.add("a filter on a visible field fails", "%s: %s", f.what, pmDescribe(e))
				continue
			}
			mx.checkFiltered(rep, f, data[alias])
		}
	}
}

func (mx *pmMatrix) checkFiltered(rep *pmReport, f pmFilter, conn any) {
	got, ok := pmNodeIDs(conn)
	if !ok {
		rep.add("a filter answers no connection", "%s: %s", f.what, jsonString(conn))
		return
	}
	want := pmIDsOf(f.want)
	if tc := conn.(map[string]any)["totalCount"]; tc != float64(len(want)) {
		rep.add("totalCount of a filtered list", "%s: totalCount %v, want %d %s", f.what, tc, len(want), mx.labels(want))
	}
	pmSortIDs(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		rep.add("a filter selects other rows than the readable matching ones", "%s: %s, want %s", f.what, mx.labels(got), mx.labels(want))
	}
}

func (mx *pmMatrix) oneFilter(t *testing.T, rep *pmReport, s *apptest.Server, p *pmPlan, f pmFilter) {
	resp := s.GraphQL(t, fmt.Sprintf(`query($w: %sWhereInput) { f: %s(where: $w, first: %d) { totalCount edges { node { id } } } }`,
		p.e.Name, p.qf, pmBig), map[string]any{"w": f.where})
	if len(resp.Errors) > 0 {
		e := resp.Errors[0]
		if pmCode(e) != "FORBIDDEN_FIELD" {
			rep.add("a filter on a field hidden on some or all rows fails without FORBIDDEN_FIELD", "%s: %s", f.what, pmDescribe(e))
		} else if !strings.Contains(e.Message, f.member) {
			rep.add("FORBIDDEN_FIELD does not name the field", "%s: %s", f.what, pmDescribe(e))
		}
		return
	}
	if f.refuse {
		rep.add(fmt.Sprintf("filter on %s, which no role that reads %s shows in lists, is not refused with FORBIDDEN_FIELD", f.member, p.e.Name),
			"%s answered %d rows", f.what, len(list(t, pmData(resp), "f.edges")))
		return
	}
	// Hidden on some rows only: answering is fine if it selects no row on which the field is hidden.
	mx.checkFiltered(rep, f, pmData(resp)["f"])
}

// orders checks every sort key: a visible one returns the readable rows in the superuser's order of them,
// a hidden one is refused with FORBIDDEN_FIELD.
func (mx *pmMatrix) orders(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	rows := w.rows[p.e.Name]
	var want []*pmRow
	for _, r := range rows {
		if w.readable(u, r) {
			want = append(want, r)
		}
	}
	readsAny := u.all
	for _, p := range w.perms(u, p.e.Name) {
		readsAny = readsAny || pmGranted(p.Read)
	}
	type key struct{ field, dir, member string }
	var batch []key
	for _, v := range p.orders {
		member := p.orderMember(v)
		if member == "" {
			t.Logf("order field %s.%s is no field of the model: not checked", p.e.Name, v)
			continue
		}
		if !readsAny {
			// No row to leak: refused, or an empty list.
			resp := s.GraphQL(t, fmt.Sprintf(`{ r: %s(orderBy: {field: %s}) { totalCount } }`, p.qf, v), nil)
			if len(resp.Errors) > 0 && pmCode(resp.Errors[0]) != "FORBIDDEN_FIELD" {
				rep.add("orderBy fails without FORBIDDEN_FIELD", "orderBy %s: %s", v, pmDescribe(resp.Errors[0]))
			} else if len(resp.Errors) == 0 && num(t, pmData(resp), "r.totalCount") != 0 {
				rep.add("orderBy lists rows the roles do not grant", "orderBy %s: totalCount %v", v, num(t, pmData(resp), "r.totalCount"))
			}
			continue
		}
		if w.unsearchable(u, p.e.Name, member) {
			mx.count("sort refused (FORBIDDEN_FIELD)")
			resp := s.GraphQL(t, fmt.Sprintf(`{ %s(orderBy: {field: %s}) { totalCount } }`, p.qf, v), nil)
			if len(resp.Errors) == 0 {
				rep.add(fmt.Sprintf("orderBy %s, which no role that reads %s shows in lists, is not refused with FORBIDDEN_FIELD", member, p.e.Name), "orderBy %s answered", v)
			} else if pmCode(resp.Errors[0]) != "FORBIDDEN_FIELD" {
				rep.add("orderBy a hidden field fails without FORBIDDEN_FIELD", "orderBy %s: %s", v, pmDescribe(resp.Errors[0]))
			}
			continue
		}
		mixed := false
		for _, r := range rows {
			if w.readable(u, r) && !w.shown(u, r, member, true) {
				mixed = true // shown on some rows u reads and not on others: sorting would leak the order
				break
			}
		}
		if mixed {
			mx.count("sort refused (FORBIDDEN_FIELD)")
			resp := s.GraphQL(t, fmt.Sprintf(`{ %s(orderBy: {field: %s}) { totalCount } }`, p.qf, v), nil)
			if len(resp.Errors) == 0 || pmCode(resp.Errors[0]) != "FORBIDDEN_FIELD" {
				rep.add("orderBy a field hidden on some readable rows is not refused with FORBIDDEN_FIELD", "orderBy %s: %+v", v, resp.Errors)
			}
			continue
		}
		mx.count("sort answered")
		for _, dir := range []string{"ASC", "DESC"} {
			batch = append(batch, key{v, dir, member})
		}
	}
	if len(batch) == 0 {
		return
	}
	var q strings.Builder
	q.WriteString("{")
	for i, k := range batch {
		fmt.Fprintf(&q, " o%d: %s(orderBy: {field: %s, direction: %s}, first: %d) { edges { node { id } } }", i, p.qf, k.field, k.dir, pmBig)
	}
	q.WriteString(" }")
	resp := s.GraphQL(t, q.String(), nil)
	data, errs := pmData(resp), pmErrors(resp)
	wantIDs := pmIDsOf(want)
	for i, k := range batch {
		alias := fmt.Sprintf("o%d", i)
		e, ok := errs[alias]
		if whole, failed := errs[""]; failed {
			e, ok = whole, true
		}
		if ok {
			rep.add("orderBy a visible field fails", "orderBy %s %s: %s", k.field, k.dir, pmDescribe(e))
			continue
		}
		got, _ := pmNodeIDs(data[alias])
		sortedGot := append([]string(nil), got...)
		pmSortIDs(sortedGot)
		what := fmt.Sprintf("orderBy %s %s", k.field, k.dir)
		if strings.Join(sortedGot, ",") != strings.Join(wantIDs, ",") {
			rep.add("a sorted list holds other rows than the readable ones", "%s: %s, want %s", what, mx.labels(sortedGot), mx.labels(wantIDs))
			continue
		}
		if mixed := func() bool {
			for _, r := range want {
				if !w.shown(u, r, k.member, true) {
					return true
				}
			}
			return false
		}(); mixed {
			continue // sorted by a value hidden on some rows: the order is not checked
		}
		ref := mx.adminOrder(t, p, k.field, k.dir)
		pos := map[string]int{}
		for i, id := range ref {
			pos[id] = i
		}
		for i := 1; i < len(got); i++ {
			if pos[got[i-1]] > pos[got[i]] {
				rep.add("a sorted list is not in the order of the sort key", "%s: %s, the superuser's order %s", what, mx.labels(got), mx.labels(ref))
				break
			}
		}
	}
}

func (mx *pmMatrix) adminOrder(t *testing.T, p *pmPlan, field, dir string) []string {
	key := p.e.Name + " " + field + " " + dir
	if o, ok := mx.order[key]; ok {
		return o
	}
	d := query(t, mx.admin, fmt.Sprintf(`{ r: %s(orderBy: {field: %s, direction: %s}, first: %d) { edges { node { id } } } }`, p.qf, field, dir, pmBig), nil)
	o, _ := pmNodeIDs(d["r"])
	mx.order[key] = o
	return o
}

// ---------------------------------------------------------------------------------------------------
// Writes.

// rollbackField ends a mutation operation with a field that always fails, so the platform rolls the whole
// operation back.
func rollbackField(entity string) string {
	return fmt.Sprintf(" rollback: delete%s(id: \"0\")", entity)
}

// mutate runs a mutation operation that is rolled back, and returns the errors by alias. The rollback
// field must have failed: else the writes were committed and the matrix cannot go on.
func (mx *pmMatrix) mutate(t *testing.T, s *apptest.Server, entity, params, body string, vars map[string]any) map[string]apptest.Error {
	t.Helper()
	op := "mutation"
	if params != "" {
		op += "(" + params + ")"
	}
	resp := s.GraphQL(t, op+" {"+body+rollbackField(entity)+" }", vars)
	errs := pmErrors(resp)
	if e, ok := errs[""]; ok {
		t.Fatalf("mutation refused as a whole: %s\n%s", pmDescribe(e), body)
	}
	if _, ok := errs["rollback"]; !ok {
		t.Fatalf("delete%s(id: \"0\") did not fail: the operation was committed (%s)", entity, body)
	}
	return errs
}

func (mx *pmMatrix) hasMutation(name string) bool { return mx.types["Mutation"].fields[name] != nil }

// pmSample returns at most n rows of rows (all when n is 0), spread over them.
func pmSample(rows []*pmRow, n int) []*pmRow {
	if n <= 0 || len(rows) <= n {
		return rows
	}
	out := make([]*pmRow, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, rows[i*(len(rows)-1)/(n-1)])
	}
	return out
}

// rowWrites checks update (with an empty input: the row's scope alone decides) and delete of every row:
// allowed in the verb's scope, FORBIDDEN outside it when readable, NOT_FOUND when unreadable.
func (mx *pmMatrix) rowWrites(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	e := p.e.Name
	rows := w.rows[e]
	outcome := func(code string) string {
		if code == "" {
			return "allowed"
		}
		return code
	}
	if mx.hasMutation("update"+e) && mx.hasMutation("delete"+e) {
		const chunk = 60
		for lo := 0; lo < len(rows); lo += chunk {
			part := rows[lo:min(lo+chunk, len(rows))]
			var body strings.Builder
			for i, r := range part {
				fmt.Fprintf(&body, " u%d: update%s(id: %q, input: {}) { id }", i, e, r.id)
			}
			errs := mx.mutate(t, s, e, "", body.String(), nil)
			for i, r := range part {
				want := w.outcome(u, r, w.updatable)
				mx.count("update " + outcome(want))
				got := pmCode(errs[fmt.Sprintf("u%d", i)])
				if got != want {
					rep.add(fmt.Sprintf("update%s(id, input: {}): want %s, got %s", e, outcome(want), outcome(got)), "%s%s", r.label, mx.errText(errs, fmt.Sprintf("u%d", i)))
				}
			}
		}
	}
	if !mx.hasMutation("delete" + e) {
		return
	}
	byOutcome := map[string][]*pmRow{}
	for _, r := range rows {
		o := w.outcome(u, r, w.deletable)
		byOutcome[o] = append(byOutcome[o], r)
	}
	// Refused deletes write nothing: they run together. Allowed ones one by one (a delete may cascade).
	refused := append(pmSample(byOutcome["NOT_FOUND"], mx.opt.sample), pmSample(byOutcome["FORBIDDEN"], mx.opt.sample)...)
	if len(refused) > 0 {
		var body strings.Builder
		for i, r := range refused {
			fmt.Fprintf(&body, " d%d: delete%s(id: %q)", i, e, r.id)
		}
		errs := mx.mutate(t, s, e, "", body.String(), nil)
		for i, r := range refused {
			want, got := w.outcome(u, r, w.deletable), pmCode(errs[fmt.Sprintf("d%d", i)])
			mx.count("delete " + want)
			if got != want {
				rep.add(fmt.Sprintf("delete%s(id): want %s, got %s", e, outcome(want), outcome(got)), "%s%s", r.label, mx.errText(errs, fmt.Sprintf("d%d", i)))
			}
		}
	}
	for _, r := range pmSample(byOutcome[""], mx.opt.sample) {
		mx.count("delete allowed")
		errs := mx.mutate(t, s, e, "", fmt.Sprintf(" d: delete%s(id: %q)", e, r.id), nil)
		if got := pmCode(errs["d"]); got != "" && got != "RESTRICTED" {
			rep.add(fmt.Sprintf("delete%s(id): want allowed, got %s", e, got), "%s%s", r.label, mx.errText(errs, "d"))
		}
	}
}

func (mx *pmMatrix) errText(errs map[string]apptest.Error, alias string) string {
	if e, ok := errs[alias]; ok {
		return ": " + pmDescribe(e)
	}
	return ""
}

func (mx *pmMatrix) next() int { mx.seq++; return mx.seq }

// input builds a create input from row template (the superuser's values): every field the input has,
// unique values made unique, belongsTo relations as ids. For a user's create (u not nil) fields hidden
// from u are left out and relations point to rows u may read; for the superuser's copy (u nil) the owner
// is kept. It returns the input and the rows its relations point to, or a reason why no valid input can
// be made.
func (mx *pmMatrix) input(p *pmPlan, u *pmUser, template *pmRow) (map[string]any, map[string]*pmRow, string) {
	w := mx.w
	in := map[string]any{}
	refs := map[string]*pmRow{}
	n := mx.next()
	uniqueIndexed := map[string]bool{}
	for _, ix := range p.e.Indexes {
		if ix.Unique {
			for _, name := range ix.Fields {
				if f := p.e.Field(name); f != nil && (f.Type == metamodel.TypeString || f.Type == metamodel.TypeText) {
					uniqueIndexed[name] = true
					break
				}
			}
		}
	}
	for _, f := range p.fields {
		g := f.GraphQLName()
		if f.System {
			continue
		}
		if !p.create[g] || (u != nil && w.hiddenEverywhere(u, p.e.Name, f.Name)) {
			if f.Required && p.create[g] {
				return nil, nil, fmt.Sprintf("required %s is hidden from %s", f.Name, u.name)
			}
			continue
		}
		var v any
		if template != nil {
			v = template.vals[g]
		}
		if v == nil {
			if !f.Required {
				continue
			}
			v = pmSynth(f, n)
		}
		if f.Unique || uniqueIndexed[f.Name] {
			uv, ok := pmUniqueValue(f, v, n)
			if !ok {
				if f.Required {
					return nil, nil, fmt.Sprintf("no unique value like %v for %s", v, f.Name)
				}
				continue
			}
			v = uv
		}
		in[g] = v
	}
	for _, rel := range p.fks {
		fk := rel.GraphQLFKName()
		if !p.create[fk] {
			continue
		}
		var target *pmRow
		if template != nil {
			target = template.refs[rel.Name]
		}
		if u != nil {
			if rel.Name == "owner" || w.hiddenEverywhere(u, p.e.Name, rel.Name) {
				target = nil
			} else if target != nil && !w.readable(u, target) {
				target = nil
			}
			if target == nil && rel.Required {
				for _, x := range w.rows[rel.To] {
					if w.readable(u, x) {
						target = x
						break
					}
				}
			}
		}
		if rel.Unique {
			target = nil // one-to-one: the template's target is taken
		}
		if target == nil {
			if rel.Required {
				return nil, nil, fmt.Sprintf("no %s for required relation %s", rel.To, rel.Name)
			}
			continue
		}
		in[fk] = target.id
		refs[rel.Name] = target
	}
	return in, refs, ""
}

// pmSynth is a value of f's type for a required field the template leaves empty.
func pmSynth(f *metamodel.Field, n int) any {
	switch f.Type {
	case metamodel.TypeInt, metamodel.TypeFloat, metamodel.TypeDecimal:
		if f.Min != nil {
			return *f.Min
		}
		return 0
	case metamodel.TypeBool:
		return false
	case metamodel.TypeEnum:
		if f.EnumRef != nil && len(f.EnumRef.Values) > 0 {
			return f.EnumRef.Values[0].Key
		}
	case metamodel.TypeDate, metamodel.TypeDateTime:
		return time.Now().UTC().Truncate(24 * time.Hour).Format(time.RFC3339)
	case metamodel.TypeJSON:
		return map[string]any{}
	case metamodel.TypeEmail:
		return fmt.Sprintf("pm%d@example.com", n)
	case metamodel.TypeURL:
		return fmt.Sprintf("https://example.com/pm%d", n)
	case metamodel.TypePhone:
		return "13800138000"
	}
	return fmt.Sprintf("pm%d", n)
}

// template returns the first row u may read (else the first row) to build inputs from, or nil.
func (mx *pmMatrix) template(u *pmUser, entity string) *pmRow {
	rows := mx.w.rows[entity]
	for _, r := range rows {
		if mx.w.readable(u, r) {
			return r
		}
	}
	if len(rows) > 0 {
		return rows[0]
	}
	return nil
}

// creates checks create: allowed with the create right, else FORBIDDEN; writing a field hidden from the
// user is a VALIDATION error (rule readonly); a relation to a row the user cannot read is a VALIDATION
// error (rule exists). All of it rolled back.
func (mx *pmMatrix) creates(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	e := p.e.Name
	if !mx.hasMutation("create"+e) || !mx.hasMutation("delete"+e) {
		return
	}
	params := fmt.Sprintf("$in: Create%sInput!", e)
	run := func(in map[string]any) apptest.Error {
		errs := mx.mutate(t, s, e, params, fmt.Sprintf(" r: create%s(input: $in) { id }", e), map[string]any{"in": in})
		return errs["r"]
	}
	template := mx.template(u, e)
	if !w.canCreate(u, e) {
		in, _, why := mx.input(p, nil, template)
		if in == nil {
			t.Logf("create%s as %s not checked: %s", e, u.name, why)
			return
		}
		delete(in, "ownerID")
		mx.count("create FORBIDDEN")
		if got := run(in); pmCode(got) != "FORBIDDEN" {
			rep.add(fmt.Sprintf("create%s without the create right: want FORBIDDEN", e), "got %s", pmDescribe(got))
		}
		return
	}
	in, _, why := mx.input(p, u, template)
	if in == nil {
		t.Logf("create%s as %s not checked: %s", e, u.name, why)
		return
	}
	mx.count("create allowed")
	if got := run(in); got.Message != "" {
		rep.add(fmt.Sprintf("create%s with the create right: want allowed", e), "input %s: %s", jsonString(in), pmDescribe(got))
	}
	with := func(k string, v any) map[string]any {
		out := map[string]any{k: v}
		for k2, v2 := range in {
			if k2 != k {
				out[k2] = v2
			}
		}
		return out
	}
	// Hidden fields and relations may not be written.
	for _, f := range p.fields {
		g := f.GraphQLName()
		if !p.create[g] || f.System || !w.hiddenEverywhere(u, e, f.Name) {
			continue
		}
		var v any
		for _, r := range w.rows[e] {
			if v = r.vals[g]; v != nil {
				break
			}
		}
		if v == nil {
			v = pmSynth(f, mx.next())
		}
		if f.Unique {
			v, _ = pmUniqueValue(f, v, mx.next())
		}
		mx.count("create of a hidden field refused (readonly)")
		if got := run(with(g, v)); !pmNamesFieldRule(got, f.Name, "readonly") || !strings.Contains(got.Message, e+"."+f.Name) {
			rep.add(fmt.Sprintf("create%s writing hidden %s: want VALIDATION rule readonly naming %s.%s", e, f.Name, e, f.Name), "got %s", pmDescribe(got))
		}
	}
	for _, rel := range p.fks {
		fk := rel.GraphQLFKName()
		if !p.create[fk] || len(w.rows[rel.To]) == 0 {
			continue
		}
		if w.hiddenEverywhere(u, e, rel.Name) {
			mx.count("create of a hidden field refused (readonly)")
			if got := run(with(fk, w.rows[rel.To][0].id)); !pmNamesFieldRule(got, rel.Name, "readonly") {
				rep.add(fmt.Sprintf("create%s writing hidden relation %s: want VALIDATION rule readonly", e, rel.Name), "got %s", pmDescribe(got))
			}
			continue
		}
		for _, x := range w.rows[rel.To] {
			if !w.readable(u, x) {
				mx.count("create with an unreadable related row refused (exists)")
				if got := run(with(fk, x.id)); !pmNamesFieldRule(got, rel.Name, "exists") {
					rep.add(fmt.Sprintf("create%s with %s = a %s the user cannot read: want VALIDATION rule exists", e, rel.Name, rel.To),
						"%s = %s: got %s", rel.Name, x.label, pmDescribe(got))
				}
				break
			}
		}
	}
}

// fieldWrites updates one row the user may update, field by field: each field and relation the roles let
// the user write is accepted (with its current value, or another readable related row), a readonly or
// hidden one is refused with VALIDATION rule readonly naming it, and a relation to a row the user cannot
// read with VALIDATION rule exists. All of it rolled back.
func (mx *pmMatrix) fieldWrites(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	e := p.e.Name
	if !mx.hasMutation("update"+e) || !mx.hasMutation("delete"+e) {
		return
	}
	var r *pmRow
	for _, x := range w.rows[e] {
		if w.readable(u, x) && w.updatable(u, x) {
			r = x
			break
		}
	}
	if r == nil {
		return
	}
	params := fmt.Sprintf("$id: ID!, $in: Update%sInput!", e)
	run := func(in map[string]any) apptest.Error {
		errs := mx.mutate(t, s, e, params, fmt.Sprintf(" r: update%s(id: $id, input: $in) { id }", e), map[string]any{"id": r.id, "in": in})
		return errs["r"]
	}
	check := func(member string, in map[string]any, got apptest.Error, want string) {
		switch want {
		case "":
			mx.count("write allowed")
		case "readonly":
			mx.count("write of a readonly or hidden field refused (readonly)")
		case "exists":
			mx.count("write of an unreadable related row refused (exists)")
		}
		what := fmt.Sprintf("update%s of %s with %s", e, r.label, jsonString(in))
		switch {
		case want == "" && got.Message != "":
			rep.add(fmt.Sprintf("writing %s, which the roles let the user write: want allowed", member), "%s: %s", what, pmDescribe(got))
		case want != "" && (!pmNamesFieldRule(got, member, want) || !strings.Contains(got.Message, e+"."+member)):
			rep.add(fmt.Sprintf("writing %s: want VALIDATION rule %s naming %s.%s", member, want, e, member), "%s: got %s", what, pmDescribe(got))
		}
	}
	// Fields, with their current values, in one operation.
	var params2, body strings.Builder
	vars := map[string]any{}
	type fw struct {
		member string
		in     map[string]any
		want   string
	}
	var batch []fw
	for _, f := range p.fields {
		g := f.GraphQLName()
		if !p.update[g] || f.System {
			continue // system fields (version, a workflow's state) have rules of their own
		}
		in := map[string]any{g: r.vals[g]}
		if r.vals[g] == nil {
			clear := "clear" + metamodel.Pascal(g)
			if !p.update[clear] {
				continue
			}
			in = map[string]any{clear: true}
		}
		want := ""
		if !w.writable(u, r, f.Name) {
			want = "readonly"
		}
		i := len(batch)
		batch = append(batch, fw{f.Name, in, want})
		fmt.Fprintf(&params2, "$in%d: Update%sInput!, ", i, e)
		fmt.Fprintf(&body, " f%d: update%s(id: %q, input: $in%d) { id }", i, e, r.id, i)
		vars[fmt.Sprintf("in%d", i)] = in
	}
	if len(batch) > 0 {
		errs := mx.mutate(t, s, e, strings.TrimSuffix(params2.String(), ", "), body.String(), vars)
		for i, f := range batch {
			check(f.member, f.in, errs[fmt.Sprintf("f%d", i)], f.want)
		}
	}
	// Relations, one by one (a new related row may move the record out of the user's scope).
	for _, rel := range p.fks {
		fk := rel.GraphQLFKName()
		if !p.update[fk] {
			continue
		}
		current := r.refs[rel.Name]
		var readable, unreadable *pmRow
		for _, x := range w.rows[rel.To] {
			if rel.To == e && pmBelow(x, r, rel.Name) {
				continue // a tree: r itself or its descendant would make a cycle
			}
			if w.readable(u, x) {
				if readable == nil || readable == current {
					readable = x
				}
			} else if unreadable == nil {
				unreadable = x
			}
		}
		if !w.writable(u, r, rel.Name) {
			var in map[string]any
			switch {
			case current != nil:
				in = map[string]any{fk: current.id}
			case readable != nil:
				in = map[string]any{fk: readable.id}
			case p.update["clear"+metamodel.Pascal(rel.GraphQLName())]:
				in = map[string]any{"clear" + metamodel.Pascal(rel.GraphQLName()): true}
			default:
				continue
			}
			check(rel.Name, in, run(in), "readonly")
			continue
		}
		if readable != nil {
			in := map[string]any{fk: readable.id}
			check(rel.Name, in, run(in), "")
		}
		if unreadable != nil {
			in := map[string]any{fk: unreadable.id}
			check(rel.Name, in, run(in), "exists")
		}
	}
	// Many-to-many relations: adding a readable row, and one the user cannot read.
	for _, rel := range p.rels {
		if rel.Kind != metamodel.ManyToMany {
			continue
		}
		key := "add" + metamodel.Pascal(idsKey(rel))
		if !p.update[key] {
			continue
		}
		var readable, unreadable *pmRow
		for _, x := range w.rows[rel.To] {
			if w.readable(u, x) && readable == nil {
				readable = x
			} else if !w.readable(u, x) && unreadable == nil {
				unreadable = x
			}
		}
		if !w.writable(u, r, rel.Name) {
			if readable != nil {
				in := map[string]any{key: []string{readable.id}}
				check(rel.Name, in, run(in), "readonly")
			}
			continue
		}
		if readable != nil {
			in := map[string]any{key: []string{readable.id}}
			check(rel.Name, in, run(in), "")
		}
		if unreadable != nil {
			in := map[string]any{key: []string{unreadable.id}}
			check(rel.Name, in, run(in), "exists")
		}
	}
}

// pmBelow reports whether x is r or below r in the tree of relation rel (parent).
func pmBelow(x, r *pmRow, rel string) bool {
	for i := 0; x != nil && i < 1000; i++ {
		if x == r {
			return true
		}
		x = x.refs[rel]
	}
	return false
}

// realDelete has the superuser copy a row the user may delete, then the user delete the copy for real:
// it is gone for everyone (soft-deleted rows included); a soft-deleted copy is then restored by the user
// and deleted again.
func (mx *pmMatrix) realDelete(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	e := p.e.Name
	if !mx.hasMutation("create"+e) || !mx.hasMutation("delete"+e) {
		return
	}
	var template *pmRow
	for _, r := range w.rows[e] {
		if w.readable(u, r) && w.deletable(u, r) {
			template = r
			break
		}
	}
	if template == nil {
		return
	}
	in, refs, why := mx.input(p, nil, template)
	if in == nil {
		t.Logf("no copy of %s to delete as %s: %s", template.label, u.name, why)
		return
	}
	// The copy as a row of the world: what the user may do with it follows from its own values.
	cp := &pmRow{e: p.e, label: template.label + " (copy)", refs: refs, many: map[string][]*pmRow{}, one: map[string]*pmRow{}}
	if p.e.Has(metamodel.TraitOwner) && refs["owner"] == nil && p.e.Relation("owner") != nil {
		cp.refs["owner"] = w.super.row // the creator
	}
	d := query(t, mx.admin, fmt.Sprintf(`mutation($in: Create%sInput!) { r: create%s(input: $in) { id } }`, e, e), map[string]any{"in": in})
	cp.id = str(t, d, "r.id")
	want := w.outcome(u, cp, w.deletable)
	resp := s.GraphQL(t, fmt.Sprintf(`mutation($id: ID!) { delete%s(id: $id) }`, e), map[string]any{"id": cp.id})
	got := ""
	if len(resp.Errors) > 0 {
		got = pmCode(resp.Errors[0])
	}
	cleanup := func() {
		if r := remove(t, mx.admin, e, cp.id); len(r.Errors) > 0 {
			t.Errorf("the superuser cannot delete the copy %s: %s", cp.id, pmDescribe(r.Errors[0]))
		}
	}
	if got != want {
		rep.add(fmt.Sprintf("delete%s of a copy of %s: want %q, got %q", e, template.label, want, got), "%s", jsonString(resp.Errors))
		if got != "" {
			cleanup()
		}
		return
	}
	if want != "" {
		cleanup()
		return
	}
	gone := func(when string) {
		r := mx.admin.GraphQL(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": cp.id})
		if len(r.Errors) == 0 || pmCode(r.Errors[0]) != "NOT_FOUND" {
			rep.add("a deleted row is still readable by the superuser", "%s %s: %s", when, cp.label, r.Data)
		}
		if n := total(t, mx.admin, mx.m, e, nil); n != len(w.rows[e]) {
			rep.add("totalCount after a delete", "%s: %d, want %d", when, n, len(w.rows[e]))
		}
	}
	mx.count("real delete of a copy")
	gone("after the user's delete")
	if !p.e.Has(metamodel.TraitSoftDelete) || !mx.hasMutation("restore"+e) {
		return
	}
	mx.count("restore of a soft-deleted copy")
	r := s.GraphQL(t, fmt.Sprintf(`mutation($id: ID!) { restore%s(id: $id) { id } }`, e), map[string]any{"id": cp.id})
	if len(r.Errors) > 0 {
		rep.add(fmt.Sprintf("restore%s of a row the user deleted (and may delete): want allowed", e), "%s", pmDescribe(r.Errors[0]))
		return
	}
	if r := mx.admin.GraphQL(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": cp.id}); len(r.Errors) > 0 {
		rep.add("a restored row is not readable", "%s: %s", cp.label, pmDescribe(r.Errors[0]))
	}
	cleanup()
	gone("after the superuser's delete of the restored row")
}
