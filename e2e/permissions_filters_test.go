package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

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
	// eval is the filter's value on a row u reads, in SQL's three-valued logic, on the row as u sees it
	// (a value u may not see on the row is null): want is where it is pmTrue. Combined with and, or and
	// not it predicts the answer of any nesting of filters (the fuzz target's oracle).
	eval func(r *pmRow) pmTri
}

// pmTri is a truth value of SQL's three-valued logic.
type pmTri int8

const (
	pmUnknown pmTri = iota
	pmFalse
	pmTrue
)

func pmBool(b bool) pmTri {
	if b {
		return pmTrue
	}
	return pmFalse
}

// filters checks where arguments on every field (equality, or GTE for numbers and times) and relation
// (foreign key, has<Rel>, has<Rel>With) with values taken from readable and unreadable rows: each selects
// exactly the readable rows that match, and on a member the user may not see it is refused.
func (mx *pmMatrix) filters(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	fs := mx.filterCases(u, p)
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
	mx.batchFilters(t, rep, s, p, batch)
}

// filterCases are the where arguments filters checks for u on p's entity, each with the rows it must
// select.
func (mx *pmMatrix) filterCases(u *pmUser, p *pmPlan) []pmFilter {
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
		case metamodel.TypeJSON, metamodel.TypeFile, metamodel.TypeImage:
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
			eval := func(r *pmRow) pmTri {
				if !w.shown(u, r, f.Name, true) || r.vals[g] == nil {
					return pmUnknown
				}
				if op == g {
					return pmBool(jsonString(r.vals[g]) == jsonString(v))
				}
				c, ok := pmCompare(f, r.vals[g], v)
				if !ok {
					return pmUnknown
				}
				return pmBool(c >= 0)
			}
			want := selectRows(func(r *pmRow) bool { return eval(r) == pmTrue })
			fs = append(fs, pmFilter{what: fmt.Sprintf("where {%s: %s}", op, jsonString(v)), where: map[string]any{op: v},
				member: f.Name, want: want, refuse: hidden, mixed: mix, eval: eval})
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
		// relatedTo is a relation filter's value: true when a related row u may read (target, if given)
		// is related to r and r shows the relation. EXISTS is never unknown.
		relatedTo := func(target *pmRow) func(r *pmRow) pmTri {
			return func(r *pmRow) pmTri {
				if !w.shown(u, r, member, false) {
					return pmFalse
				}
				for _, x := range related(r) {
					if w.readable(u, x) && (target == nil || x == target) {
						return pmTrue
					}
				}
				return pmFalse
			}
		}
		// fkIs is a foreign key's equality: unknown where u sees the key as null (unset, a row u may not
		// read, or the relation hidden on r).
		fkIs := func(target *pmRow) func(r *pmRow) pmTri {
			return func(r *pmRow) pmTri {
				x := r.refs[rel.Name]
				if x == nil || !w.readable(u, x) || !w.shown(u, r, member, false) {
					return pmUnknown
				}
				return pmBool(x == target)
			}
		}
		selectRelated := func(target *pmRow) []*pmRow {
			eval := relatedTo(target)
			return selectRows(func(r *pmRow) bool { return eval(r) == pmTrue })
		}
		has := "has" + metamodel.Pascal(rel.GraphQLName())
		if p.where[has] {
			fs = append(fs, pmFilter{what: fmt.Sprintf("where {%s: true}", has), where: map[string]any{has: true},
				member: member, want: selectRelated(nil), refuse: hidden, mixed: mix, eval: relatedTo(nil)})
		}
		for _, target := range targets {
			if rel.Kind == metamodel.BelongsTo && p.where[rel.GraphQLFKName()] {
				fs = append(fs, pmFilter{what: fmt.Sprintf("where {%s: <%s>}", rel.GraphQLFKName(), target.label),
					where: map[string]any{rel.GraphQLFKName(): target.id}, member: member, want: selectRelated(target), refuse: hidden, mixed: mix,
					eval: fkIs(target)})
			}
			if p.where[has+"With"] {
				fs = append(fs, pmFilter{what: fmt.Sprintf("where {%sWith: {id: <%s>}}", has, target.label),
					where: map[string]any{has + "With": []any{map[string]any{"id": target.id}}}, member: member,
					want: selectRelated(target), refuse: hidden, mixed: mix, eval: relatedTo(target)})
			}
		}
	}
	return fs
}

// batchFilters runs filters that must be answered, many per request (each under its own alias, with its
// where argument in a variable).
func (mx *pmMatrix) batchFilters(t *testing.T, rep *pmReport, s *apptest.Server, p *pmPlan, batch []pmFilter) {
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
