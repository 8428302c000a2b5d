package e2e

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// The differential permission test (issue 10): every filter and sort key of the permission matrix, sent
// in every shape the GraphQL executor accepts for it — an inline literal, a variable, a single object where
// a list is expected (inline and in a variable), nested in and/or/not, behind a fragment and an alias,
// through every relation of the entity (has<Rel>With over every filter of the related entity), and sort
// keys inline, in a variable, as a single object and in a nested connection — must answer what the model
// says: refused with FORBIDDEN_FIELD where the field is one the user may not see, and otherwise exactly the
// readable rows that match (totalCount included). The expectations are the matrix's, which come from the
// model and its data alone. No shape may opt out of a rule: a check that read the request's syntax would
// fail here.

// pmForm is one shape of a where argument: how a where value w is sent, as a query and its variables.
type pmForm struct {
	name string
	// wrap turns the where value into the value sent in the form's variable (or nil for inline forms).
	wrap func(w map[string]any) any
	// inline renders the where argument inline (or "" for variable forms).
	inline func(lit string) string
	// fragment sends the field behind a fragment spread.
	fragment bool
}

var pmForms = []pmForm{
	{name: "inline literal", inline: func(lit string) string { return lit }},
	{name: "single object for the list and", wrap: func(w map[string]any) any { return map[string]any{"and": w} }},
	{name: "inline single object for the list and", inline: func(lit string) string { return "{and: " + lit + "}" }},
	{name: "nested or/not/not", wrap: func(w map[string]any) any {
		return map[string]any{"or": []any{map[string]any{"not": map[string]any{"not": w}}}}
	}},
	{name: "fragment and alias", wrap: func(w map[string]any) any { return w }, fragment: true},
}

// forms runs the matrix's filters and sort keys for u on p's entity in every form.
func (mx *pmMatrix) forms(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	cases := mx.filterCases(u, p)
	cases = append(cases, mx.relationCases(u, p)...)
	for _, form := range pmForms {
		var batch []pmFilter
		for _, f := range cases {
			if f.refuse || f.mixed {
				mx.oneForm(t, rep, s, p, f, form)
			} else {
				batch = append(batch, f)
			}
		}
		mx.batchForm(t, rep, s, p, batch, form)
	}
	mx.orderForms(t, rep, s, u, p)
}

// relationCases are filters through every relation of p's entity with a has<Rel>With argument: each
// filter of the related entity, given as a single object (GraphQL coerces it to the list the argument
// takes). A row matches when a related row the user may read matches, on a row that shows the relation.
func (mx *pmMatrix) relationCases(u *pmUser, p *pmPlan) []pmFilter {
	w := mx.w
	var out []pmFilter
	readsAny := u.all
	for _, perm := range w.perms(u, p.e.Name) {
		readsAny = readsAny || pmGranted(perm.Read)
	}
	for _, rel := range p.rels {
		has := "has" + metamodel.Pascal(rel.GraphQLName()) + "With"
		tp := mx.plans[rel.To]
		if !p.where[has] || tp == nil || !tp.hasQuery {
			continue
		}
		hidden := w.unsearchable(u, p.e.Name, rel.Name)
		mixed := !readsAny
		for _, r := range w.rows[p.e.Name] {
			if w.readable(u, r) && !w.shown(u, r, rel.Name, false) {
				mixed = true
			}
		}
		refusedSeen := map[string]bool{}
		for _, ft := range mx.filterCases(u, tp) {
			if strings.HasPrefix(ft.what, "where {has") {
				continue // one level of relations: the related entity's own relations are its own cases
			}
			if ft.refuse || hidden {
				if refusedSeen[ft.member] {
					continue // one refused filter per member is enough to show the refusal
				}
				refusedSeen[ft.member] = true
			}
			matched := map[*pmRow]bool{}
			for _, x := range ft.want {
				matched[x] = true
			}
			var want []*pmRow
			for _, r := range w.rows[p.e.Name] {
				if !w.readable(u, r) || !w.shown(u, r, rel.Name, false) {
					continue
				}
				for _, x := range pmRelated(r, rel) {
					if matched[x] && w.readable(u, x) {
						want = append(want, r)
						break
					}
				}
			}
			out = append(out, pmFilter{
				what:   fmt.Sprintf("where {%s: %s}", has, strings.TrimPrefix(ft.what, "where ")),
				where:  map[string]any{has: ft.where},
				member: pmRefusedMember(ft, rel, hidden),
				want:   want, refuse: ft.refuse || hidden, mixed: ft.mixed || mixed,
			})
		}
	}
	return out
}

// pmRefusedMember is the member a refusal of a relation case names: the relation when it is hidden, else
// the related entity's member.
func pmRefusedMember(ft pmFilter, rel *metamodel.Relation, relHidden bool) string {
	if relHidden {
		return rel.Name
	}
	return ft.member
}

// pmRelated are the rows related to r through rel, as the data has them.
func pmRelated(r *pmRow, rel *metamodel.Relation) []*pmRow {
	switch rel.Kind {
	case metamodel.BelongsTo:
		if r.refs[rel.Name] != nil {
			return []*pmRow{r.refs[rel.Name]}
		}
		return nil
	case metamodel.HasOne:
		if r.one[rel.Name] != nil {
			return []*pmRow{r.one[rel.Name]}
		}
		return nil
	}
	return r.many[rel.Name]
}

// formQuery renders one where value in form as a query with its variables: the list under alias.
func (mx *pmMatrix) formQuery(p *pmPlan, form pmForm, items []pmFilter) (string, map[string]any) {
	var params, body strings.Builder
	vars := map[string]any{}
	for i, f := range items {
		arg := ""
		if form.inline != nil {
			arg = form.inline(pmLiteral(mx.m, p.e, f.where))
		} else {
			name := fmt.Sprintf("w%d", i)
			fmt.Fprintf(&params, "$%s: %sWhereInput, ", name, p.e.Name)
			vars[name] = form.wrap(f.where)
			arg = "$" + name
		}
		fmt.Fprintf(&body, " f%d: %s(where: %s, first: %d) { totalCount edges { node { id } } }", i, p.qf, arg, pmBig)
	}
	head := "query"
	if params.Len() > 0 {
		head += "(" + strings.TrimSuffix(params.String(), ", ") + ")"
	}
	if form.fragment {
		return head + " { ...F } fragment F on Query {" + body.String() + " }", vars
	}
	return head + " {" + body.String() + " }", vars
}

func (mx *pmMatrix) batchForm(t *testing.T, rep *pmReport, s *apptest.Server, p *pmPlan, batch []pmFilter, form pmForm) {
	const chunk = 20
	for lo := 0; lo < len(batch); lo += chunk {
		part := batch[lo:min(lo+chunk, len(batch))]
		q, vars := mx.formQuery(p, form, part)
		resp := s.GraphQL(t, q, vars)
		data, errs := pmData(resp), pmErrors(resp)
		for i, f := range part {
			mx.count("filter form answered")
			alias := fmt.Sprintf("f%d", i)
			e, ok := errs[alias]
			if whole, failed := errs[""]; failed {
				e, ok = whole, true
			}
			if ok {
				rep.add("a filter on a visible field fails in another form", "%s as %s: %s", f.what, form.name, pmDescribe(e))
				continue
			}
			mx.checkFiltered(rep, pmFilter{what: f.what + " as " + form.name, want: f.want}, data[alias])
		}
	}
}

func (mx *pmMatrix) oneForm(t *testing.T, rep *pmReport, s *apptest.Server, p *pmPlan, f pmFilter, form pmForm) {
	q, vars := mx.formQuery(p, form, []pmFilter{f})
	resp := s.GraphQL(t, q, vars)
	what := f.what + " as " + form.name
	if f.refuse {
		mx.count("filter form refused (FORBIDDEN_FIELD)")
	}
	if len(resp.Errors) > 0 {
		e := resp.Errors[0]
		if pmCode(e) != "FORBIDDEN_FIELD" {
			rep.add("a filter on a field hidden on some or all rows fails without FORBIDDEN_FIELD in another form", "%s: %s", what, pmDescribe(e))
		} else if !strings.Contains(e.Message, f.member) {
			rep.add("FORBIDDEN_FIELD does not name the field in another form", "%s: %s", what, pmDescribe(e))
		}
		return
	}
	if f.refuse {
		rep.add("a filter on a field the user may not see is answered in another form", "%s answered %d rows", what,
			len(list(t, pmData(resp), "f0.edges")))
		return
	}
	mx.checkFiltered(rep, pmFilter{what: what, want: f.want}, pmData(resp)["f0"])
}

// orderForms sends every sort key inline as a list, in a variable as a list and as a single object, and
// in a nested connection: a key the user may not sort by is refused in every form, any other answers.
func (mx *pmMatrix) orderForms(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	readsAny := u.all
	for _, perm := range w.perms(u, p.e.Name) {
		readsAny = readsAny || pmGranted(perm.Read)
	}
	if !readsAny {
		return // no row to order: refusing and answering nothing are both right
	}
	parent, parentRel := mx.nestingOf(p)
	for _, v := range p.orders {
		member := p.orderMember(v)
		if member == "" {
			continue
		}
		refuse := w.unsearchable(u, p.e.Name, member)
		for _, r := range w.rows[p.e.Name] {
			if w.readable(u, r) && !w.shown(u, r, member, true) {
				refuse = true
			}
		}
		type shape struct {
			name, query string
			vars        map[string]any
		}
		order := map[string]any{"field": v, "direction": "DESC"}
		shapes := []shape{
			{"inline list", fmt.Sprintf(`{ r: %s(orderBy: [{field: %s, direction: DESC}]) { totalCount } }`, p.qf, v), nil},
			{"variable list", fmt.Sprintf(`query($o: [%sOrder!]) { r: %s(orderBy: $o) { totalCount } }`, p.e.Name, p.qf),
				map[string]any{"o": []any{order}}},
			{"variable single object", fmt.Sprintf(`query($o: [%sOrder!]) { r: %s(orderBy: $o) { totalCount } }`, p.e.Name, p.qf),
				map[string]any{"o": order}},
		}
		if parent != nil {
			shapes = append(shapes, shape{"nested connection", fmt.Sprintf(`{ r: %s(first: 20) { edges { node { id %s(orderBy: {field: %s}, first: 5) { totalCount } } } } }`,
				parent.qf, parentRel.GraphQLName(), v), nil})
		}
		for _, sh := range shapes {
			resp := s.GraphQL(t, sh.query, sh.vars)
			what := fmt.Sprintf("orderBy %s as %s", v, sh.name)
			var forbidden bool
			for _, e := range resp.Errors {
				if pmCode(e) != "FORBIDDEN_FIELD" {
					rep.add("a sort fails without FORBIDDEN_FIELD", "%s: %s", what, pmDescribe(e))
				}
				forbidden = true
			}
			switch {
			case refuse && !forbidden && sh.name != "nested connection":
				rep.add("a sort by a field the user may not see (on some or all rows) is answered", "%s", what)
			case refuse && !forbidden && pmAnyNested(pmData(resp)):
				rep.add("a sort by a field the user may not see (on some or all rows) is answered in a nested connection", "%s", what)
			case !refuse && forbidden:
				rep.add("a sort by a field the user sees is refused", "%s", what)
			}
			if refuse {
				mx.count("sort form refused (FORBIDDEN_FIELD)")
			} else {
				mx.count("sort form answered")
			}
		}
	}
}

// pmAnyNested reports whether a nested-order answer holds any parent row with a nested connection: only
// then could a sort that must be refused have been answered.
func pmAnyNested(data map[string]any) bool {
	r, _ := data["r"].(map[string]any)
	edges, _ := r["edges"].([]any)
	for _, e := range edges {
		node, _ := e.(map[string]any)["node"].(map[string]any)
		for k, v := range node {
			if k != "id" && v != nil {
				return true
			}
		}
	}
	return false
}

// nestingOf finds an entity with a connection of p's entity (to sort a nested list), or nil.
func (mx *pmMatrix) nestingOf(p *pmPlan) (*pmPlan, *metamodel.Relation) {
	names := make([]string, 0, len(mx.plans))
	for n := range mx.plans {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pp := mx.plans[n]
		if !pp.hasQuery {
			continue
		}
		for _, r := range pp.rels {
			if r.To == p.e.Name && pp.relKind[r.Name] == "connection" {
				return pp, r
			}
		}
	}
	return nil, nil
}

// pmLiteral renders a where value of entity e as a GraphQL literal: enum values bare, ids and other
// strings quoted.
func pmLiteral(m *metamodel.Model, e *metamodel.Entity, v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+": "+pmLiteralValue(m, e, k, x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		var parts []string
		for _, item := range x {
			parts = append(parts, pmLiteral(m, e, item))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return jsonString(v)
}

// pmLiteralValue renders the value of where key k of entity e.
func pmLiteralValue(m *metamodel.Model, e *metamodel.Entity, k string, v any) string {
	switch k {
	case "and", "or", "not":
		return pmLiteral(m, e, v)
	}
	for _, r := range e.Relations {
		if k == "has"+metamodel.Pascal(r.GraphQLName())+"With" {
			return pmLiteral(m, r.Target, v)
		}
	}
	enum := false
	for _, f := range e.Fields {
		g := f.GraphQLName()
		if f.Type == metamodel.TypeEnum && (k == g || k == g+"NEQ" || k == g+"In" || k == g+"NotIn") {
			enum = true
		}
	}
	var scalar func(v any) string
	scalar = func(v any) string {
		switch x := v.(type) {
		case string:
			if enum {
				return x
			}
			return strconv.Quote(x)
		case []any:
			var parts []string
			for _, item := range x {
				parts = append(parts, scalar(item))
			}
			return "[" + strings.Join(parts, ", ") + "]"
		}
		return jsonString(v)
	}
	return scalar(v)
}
