package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

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
	refused = append(refused, pmSample(byOutcome["LOCKED"], mx.opt.sample)...)
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
		if f.System || f.Type.Attachment() {
			continue // an attachment is written by uploading a file (TestAdminAttachments), not by a value
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
			} else if rel == pmOwnerField(p.e) && !u.all {
				target = u.row // a record one creates is one's own (creating one for someone else: see creates)
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
	mx.createFor(t, rep, u, p, in, run)
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
		if w.outcome(u, x, w.updatable) == "" {
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
		if f.Type.Attachment() && r.vals[g] != nil {
			continue // the matrix reads a file as its hash; writes of references: TestAdminAttachmentsAPIReferences
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

// pmOwnerField is the User relation that makes a record someone's: the entity's ownerField (the owner
// trait's relation by default), or nil.
func pmOwnerField(e *metamodel.Entity) *metamodel.Relation {
	name := e.OwnerField
	if name == "" && e.Has(metamodel.TraitOwner) {
		name = "owner"
	}
	if r := e.Relation(name); r != nil && r.Kind == metamodel.BelongsTo && r.To == "User" {
		return r
	}
	return nil
}

// createFor creates a record for another user (the owner relation set to them): allowed when the new
// record would be within the creator's update scope (they may hand records over), else refused with
// VALIDATION rule owner. The input in is one u may create for themselves.
func (mx *pmMatrix) createFor(t *testing.T, rep *pmReport, u *pmUser, p *pmPlan, in map[string]any, run func(map[string]any) apptest.Error) {
	w := mx.w
	rel := pmOwnerField(p.e)
	if rel == nil || !p.create[rel.GraphQLFKName()] || w.hiddenEverywhere(u, p.e.Name, rel.Name) {
		return
	}
	var other *pmRow
	for _, x := range w.rows["User"] {
		if x != u.row && w.readable(u, x) {
			other = x
			break
		}
	}
	if other == nil {
		return
	}
	fake := &pmRow{e: p.e, label: p.e.Name + " for " + other.label, refs: map[string]*pmRow{}}
	for _, r := range p.e.Relations {
		if r.Kind != metamodel.BelongsTo {
			continue
		}
		if id, ok := in[r.GraphQLFKName()]; ok {
			fake.refs[r.Name] = mx.byID[fmt.Sprint(id)]
		}
	}
	fake.refs[rel.Name] = other
	if rel.Name != "owner" && p.e.Has(metamodel.TraitOwner) {
		fake.refs["owner"] = u.row // stamped with the creator
	}
	for2 := map[string]any{}
	for k, v := range in {
		for2[k] = v
	}
	for2[rel.GraphQLFKName()] = other.id
	got := run(for2)
	if u.all || w.updatable(u, fake) {
		mx.count("create for another user allowed")
		if got.Message != "" {
			rep.add(fmt.Sprintf("create%s for another user within the update scope: want allowed", p.e.Name), "for %s: %s", other.label, pmDescribe(got))
		}
		return
	}
	mx.count("create for another user refused (owner)")
	if !pmNamesFieldRule(got, rel.Name, "owner") {
		rep.add(fmt.Sprintf("create%s for another user outside the update scope: want VALIDATION rule owner naming %s", p.e.Name, rel.Name), "for %s: %s", other.label, pmDescribe(got))
	}
}
