package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Checks shared by the example models' end-to-end tests: the schema, the demo data, trees, invalid input and
// the rules it breaks, restricted deletes, many-to-many links, cycles and optimistic locking, each read from
// the model the app was generated from.

// checkSchema checks, by introspection, that every entity of the model has its object type with every
// (non-secret) field and relation, the connection query field, the create/update/delete mutations, and
// the create input with every writable field and belongsTo relation; that versioned entities, and only
// those, expose a version.
func checkSchema(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	d := query(t, s, `{ __schema { queryType { fields { name } } mutationType { fields { name } }
		types { name fields { name } inputFields { name } } } }`, nil)
	has := map[string]bool{}
	for _, f := range list(t, d, "__schema.queryType.fields") {
		has["Query."+str(t, f, "name")] = true
	}
	for _, f := range list(t, d, "__schema.mutationType.fields") {
		has["Mutation."+str(t, f, "name")] = true
	}
	for _, ty := range list(t, d, "__schema.types") {
		name := str(t, ty, "name")
		has[name] = true
		for _, key := range []string{"fields", "inputFields"} {
			if fs, ok := at(t, ty, key).([]any); ok {
				for _, f := range fs {
					has[name+"."+str(t, f, "name")] = true
				}
			}
		}
	}
	if len(m.Entities) == 0 {
		t.Fatal("the model has no entities")
	}
	for _, e := range m.Entities {
		want := []string{e.Name, e.Name + "Connection", e.Name + "WhereInput", e.Name + "Order",
			"Create" + e.Name + "Input", "Update" + e.Name + "Input",
			"Query." + e.QueryField(), "Mutation.create" + e.Name, "Mutation.update" + e.Name, "Mutation.delete" + e.Name}
		for _, f := range e.Fields {
			if f.Secret {
				if has[e.Name+"."+f.GraphQLName()] {
					t.Errorf("secret field %s.%s is in the schema", e.Name, f.Name)
				}
				continue
			}
			want = append(want, e.Name+"."+f.GraphQLName())
			if !f.System && !f.Readonly && f.AutoNumber == "" && f.Computed.Src == "" {
				want = append(want, "Create"+e.Name+"Input."+f.GraphQLName(), "Update"+e.Name+"Input."+f.GraphQLName())
			} else if has["Create"+e.Name+"Input."+f.GraphQLName()] {
				t.Errorf("Create%sInput lets clients write %s, which is set by the system", e.Name, f.GraphQLName())
			}
		}
		for _, r := range e.Relations {
			want = append(want, e.Name+"."+r.GraphQLName())
			if r.Kind == metamodel.BelongsTo && !r.System {
				want = append(want, "Create"+e.Name+"Input."+r.GraphQLFKName(), "Update"+e.Name+"Input."+r.GraphQLFKName())
			}
		}
		if e.Has(metamodel.TraitVersioned) {
			want = append(want, e.Name+".version", "Update"+e.Name+"Input.version")
		} else if has[e.Name+".version"] {
			t.Errorf("%s is not versioned but has a version field", e.Name)
		}
		for _, w := range want {
			if !has[w] {
				t.Errorf("schema lacks %s", w)
			}
		}
	}
}

// dataCounts returns the number of records the model's demo data holds per entity (users for User).
func dataCounts(m *metamodel.Model) map[string]int {
	out := map[string]int{}
	if m.Data == nil {
		return out
	}
	for _, set := range m.Data.Sets {
		out[set.Entity] += len(set.Records)
	}
	out["User"] += len(m.Data.Users)
	return out
}

// checkDemoData checks that every entity holds exactly the records of the model's data (none for an entity
// without data), and that the main entities — those with at least 20 records in the data — are wantMain.
func checkDemoData(t *testing.T, s *apptest.Server, m *metamodel.Model, wantMain []string) {
	want := dataCounts(m)
	got := counts(t, s, m)
	var main []string
	for _, e := range m.Entities {
		if got[e.Name] != want[e.Name] {
			t.Errorf("%s: totalCount %d, want %d records from the demo data", e.Name, got[e.Name], want[e.Name])
		}
		if want[e.Name] >= 20 {
			main = append(main, e.Name)
			if got[e.Name] < 20 {
				t.Errorf("main entity %s has %d records, want at least 20", e.Name, got[e.Name])
			}
		}
	}
	sort.Strings(main)
	sort.Strings(wantMain)
	if fmt.Sprint(main) != fmt.Sprint(wantMain) {
		t.Errorf("entities with at least 20 demo records: %v, want %v", main, wantMain)
	}
	t.Logf("demo data: %v", got)
}

// value returns a data record's value for name, or nil.
func value(r *metamodel.Record, name string) any {
	for _, v := range r.Values {
		if v.Name == name {
			return v.Value
		}
	}
	return nil
}

// records returns the demo data records of an entity.
func records(m *metamodel.Model, name string) []*metamodel.Record {
	var out []*metamodel.Record
	if m.Data != nil {
		for _, set := range m.Data.Sets {
			if set.Entity == name {
				out = append(out, set.Records...)
			}
		}
	}
	return out
}

// dataTree returns the demo data of a tree entity as child → parent, both named by labelField ("" for a
// root).
func dataTree(t *testing.T, m *metamodel.Model, name, labelField string) map[string]string {
	t.Helper()
	byKey := map[string]string{}
	recs := records(m, name)
	for _, r := range recs {
		byKey[r.Key] = fmt.Sprint(value(r, labelField))
	}
	out := map[string]string{}
	for _, r := range recs {
		parent := ""
		if p := value(r, "parent"); p != nil {
			var ok bool
			if parent, ok = byKey[fmt.Sprint(p)]; !ok {
				t.Fatalf("%s %s: parent %v is not a _key of the data", name, byKey[r.Key], p)
			}
		}
		out[byKey[r.Key]] = parent
	}
	if len(out) < 3 {
		t.Fatalf("the demo data has only %d %s records: too few for a tree", len(out), name)
	}
	return out
}

// checkTree compares the whole tree as the API returns it (every node's parent and children, and the
// roots) with the demo data's tree.
func checkTree(t *testing.T, s *apptest.Server, m *metamodel.Model, name, labelField string) {
	t.Helper()
	want := dataTree(t, m, name, labelField)
	wantKids := map[string][]string{}
	var wantRoots []string
	for child, parent := range want {
		if parent == "" {
			wantRoots = append(wantRoots, child)
		} else {
			wantKids[parent] = append(wantKids[parent], child)
		}
	}
	qf := entity(t, m, name).QueryField()
	d := query(t, s, fmt.Sprintf(`{ all: %s(first: 200) { edges { node { %s parent { %s } children(first: 50) { totalCount edges { node { %s } } } } } }
		roots: %s(where: {not: {hasParent: true}}) { edges { node { %s } } } }`, qf, labelField, labelField, labelField, qf, labelField), nil)
	gotRoots := names(t, at(t, d, "roots"), labelField)
	if sorted(gotRoots) != sorted(wantRoots) {
		t.Errorf("%s roots = %v, want %v", name, gotRoots, wantRoots)
	}
	seen := 0
	for _, e := range list(t, d, "all.edges") {
		label := str(t, e, "node."+labelField)
		parent, ok := want[label]
		if !ok {
			t.Errorf("%s %q is not in the demo data", name, label)
			continue
		}
		seen++
		gotParent := ""
		if p, ok := at(t, e, "node.parent").(map[string]any); ok {
			gotParent = str(t, p, labelField)
		}
		if gotParent != parent {
			t.Errorf("parent of %s %q = %q, want %q", name, label, gotParent, parent)
		}
		kids := names(t, at(t, e, "node.children"), labelField)
		if sorted(kids) != sorted(wantKids[label]) || int(num(t, e, "node.children.totalCount")) != len(wantKids[label]) {
			t.Errorf("children of %s %q = %v, want %v", name, label, kids, wantKids[label])
		}
	}
	if seen != len(want) {
		t.Errorf("the API lists %d of the %d %s records of the data", seen, len(want), name)
	}
}

// sorted returns a sorted copy of ss, printed (for order-independent comparison).
func sorted(ss []string) string {
	c := append([]string(nil), ss...)
	sort.Strings(c)
	return fmt.Sprint(c)
}

// invalid is one mutation that breaks exactly one rule.
type invalid struct {
	entity string
	id     string         // update this record; "" to create
	vals   map[string]any // model names; for an update, the GraphQL input as is
	field  string         // the field or relation the error must name (model name)
	rule   string         // the rule it must name
}

// checkInvalid runs each mutation and checks it fails with extensions.code VALIDATION naming the entity,
// field and rule, and that no entity's row count changed; it returns the rules it saw.
func checkInvalid(t *testing.T, s *apptest.Server, m *metamodel.Model, cases []invalid) map[string]bool {
	t.Helper()
	rules := map[string]bool{}
	for _, c := range cases {
		before := counts(t, s, m)
		var r *apptest.Response
		if c.id == "" {
			r = call(t, s, fmt.Sprintf(`mutation($in: Create%sInput!) { create%s(input: $in) { id } }`, c.entity, c.entity),
				map[string]any{"in": input(t, entity(t, m, c.entity), c.vals)})
		} else {
			r = call(t, s, fmt.Sprintf(`mutation($id: ID!, $in: Update%sInput!) { update%s(id: $id, input: $in) { id } }`, c.entity, c.entity),
				map[string]any{"id": c.id, "in": c.vals})
		}
		what := fmt.Sprintf("%s %s with %s", map[bool]string{true: "create", false: "update"}[c.id == ""], c.entity, jsonString(c.vals))
		if len(r.Errors) == 0 {
			t.Errorf("%s: accepted (data %s), want a %s error on %s", what, r.Data, c.rule, c.field)
			continue
		}
		e := r.Errors[0]
		if e.Extensions["code"] != "VALIDATION" || e.Extensions["field"] != c.field || e.Extensions["rule"] != c.rule {
			t.Errorf("%s: error %q %v, want code VALIDATION field %s rule %s", what, e.Message, e.Extensions, c.field, c.rule)
		} else {
			rules[c.rule] = true
		}
		if !strings.Contains(e.Message, c.entity+"."+c.field) {
			t.Errorf("%s: message %q does not name %s.%s", what, e.Message, c.entity, c.field)
		}
		sameCounts(t, what, before, counts(t, s, m))
	}
	return rules
}

// modelRules returns the kinds of validation rule the model's writable fields and relations carry, each
// with one field that has it.
func modelRules(m *metamodel.Model) map[string]string {
	out := map[string]string{}
	add := func(rule string, e *metamodel.Entity, name string) {
		if _, ok := out[rule]; !ok {
			out[rule] = e.Name + "." + name
		}
	}
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if f.System || f.Secret || f.Readonly || f.AutoNumber != "" || f.Computed.Src != "" {
				continue
			}
			stringy := f.Type == metamodel.TypeString || f.Type == metamodel.TypeText || f.Type == metamodel.TypeEmail ||
				f.Type == metamodel.TypePhone || f.Type == metamodel.TypeURL
			if f.Required && stringy {
				add("required", e, f.Name)
			}
			if f.Unique {
				add("unique", e, f.Name)
			}
			if f.MinLen != nil {
				add("minLen", e, f.Name)
			}
			if f.MaxLen != nil {
				add("maxLen", e, f.Name)
			}
			if f.Pattern != "" {
				add("pattern", e, f.Name)
			}
			if f.Min != nil {
				add("min", e, f.Name)
			}
			if f.Max != nil {
				add("max", e, f.Name)
			}
			switch f.Type {
			case metamodel.TypeEmail, metamodel.TypePhone, metamodel.TypeURL:
				add(string(f.Type), e, f.Name)
			case metamodel.TypeDecimal:
				if f.Scale > 0 {
					add("scale", e, f.Name)
				}
				if f.Precision > 0 {
					add("precision", e, f.Name)
				}
			case metamodel.TypeEnum:
				add("enum", e, f.Name)
			}
		}
		for _, r := range e.Relations {
			if (r.Kind == metamodel.BelongsTo || r.Kind == metamodel.ManyToMany) && !r.System {
				add("exists", e, r.Name)
			}
		}
	}
	return out
}

// checkRuleCoverage fails for each kind of rule the model has that no case exercised.
func checkRuleCoverage(t *testing.T, m *metamodel.Model, seen map[string]bool) {
	t.Helper()
	for rule, where := range modelRules(m) {
		if !seen[rule] {
			t.Errorf("the model has %s rules (e.g. %s) but no validation case checked one", rule, where)
		}
	}
}

// checkBadEnum checks that a value outside an enum is refused before anything is written. GraphQL enum
// types reject it while the request is validated, so the code is GRAPHQL_VALIDATION_FAILED, not the
// platform's VALIDATION.
func checkBadEnum(t *testing.T, s *apptest.Server, m *metamodel.Model, name string, vals map[string]any, field string) {
	t.Helper()
	e := entity(t, m, name)
	f := e.Field(field)
	if f == nil || f.Type != metamodel.TypeEnum {
		t.Fatalf("%s.%s is not an enum field", name, field)
	}
	in := input(t, e, vals)
	in[f.GraphQLName()] = "noSuchValue"
	before := counts(t, s, m)
	r := call(t, s, fmt.Sprintf(`mutation($in: Create%sInput!) { create%s(input: $in) { id } }`, name, name), map[string]any{"in": in})
	if len(r.Errors) == 0 {
		t.Fatalf("%s.%s = noSuchValue was accepted: %s", name, field, r.Data)
	}
	if c := r.Errors[0].Extensions["code"]; c != "GRAPHQL_VALIDATION_FAILED" && c != "VALIDATION" {
		t.Errorf("bad enum value: %+v, want a validation error", r.Errors[0])
	}
	if !strings.Contains(r.Errors[0].Message, "noSuchValue") {
		t.Errorf("bad enum value: message %q does not name the value", r.Errors[0].Message)
	}
	sameCounts(t, "bad enum value", before, counts(t, s, m))
}

// checkRestricted deletes a record that others still refer to with onDelete: restrict, and checks the
// delete is refused with code RESTRICTED naming the relation, changes no count, and leaves the record.
func checkRestricted(t *testing.T, s *apptest.Server, m *metamodel.Model, name, id, relation string) {
	t.Helper()
	before := counts(t, s, m)
	r := remove(t, s, name, id)
	if len(r.Errors) == 0 {
		t.Errorf("delete%s(%s) succeeded, want it refused because of %s (onDelete: restrict)", name, id, relation)
		return
	}
	e := r.Errors[0]
	rels, _ := e.Extensions["relations"].([]any)
	found := false
	for _, x := range rels {
		found = found || x == relation
	}
	if e.Extensions["code"] != "RESTRICTED" || !found || !strings.Contains(e.Message, relation) {
		t.Errorf("delete%s refused with %q %v, want code RESTRICTED naming %s", name, e.Message, e.Extensions, relation)
	}
	sameCounts(t, "refused delete of "+name, before, counts(t, s, m))
	node(t, s, name, id, "id")
}

// checkManyToMany links and unlinks record id of entity through its many-to-many relation rel, from its
// own side and from the other, and checks both sides after each change. targets are three records of
// the relation's target entity, none linked to id at first.
func checkManyToMany(t *testing.T, s *apptest.Server, m *metamodel.Model, name, id, rel string, targets [3]string) {
	t.Helper()
	r := entity(t, m, name).Relation(rel)
	if r == nil || r.Kind != metamodel.ManyToMany || r.InverseRel == nil {
		t.Fatalf("%s.%s is not a many-to-many relation", name, rel)
	}
	inv := r.InverseRel
	linked := func() string {
		return sorted(ids(t, nodesAt(t, node(t, s, name, id, r.GraphQLName()+" { edges { node { id } } }"), r.GraphQLName())))
	}
	// seen reports whether target lists id on its side.
	seen := func(target string) bool {
		d := query(t, s, fmt.Sprintf(`query($t: ID!, $id: ID!) { node(id: $t) { ... on %s { r: %s(where: {id: $id}) { totalCount } } } }`, r.To, inv.GraphQLName()),
			map[string]any{"t": target, "id": id})
		return num(t, d, "node.r.totalCount") == 1
	}
	want := func(what string, set ...int) {
		t.Helper()
		var w []string
		in := map[int]bool{}
		for _, i := range set {
			w = append(w, targets[i])
			in[i] = true
		}
		if got := linked(); got != sorted(w) {
			t.Errorf("%s: %s.%s = %s, want %s", what, name, rel, got, sorted(w))
		}
		for i, tg := range targets {
			if seen(tg) != in[i] {
				t.Errorf("%s: %s %s lists the %s in %s: %v, want %v", what, r.To, tg, name, inv.Name, seen(tg), in[i])
			}
		}
	}
	want("at first")
	key := metamodel.Pascal(idsKey(r))
	invKey := metamodel.Pascal(idsKey(inv))
	update(t, s, name, id, map[string]any{"add" + key: []string{targets[0], targets[1]}}, "id")
	want("after adding two", 0, 1)
	update(t, s, name, id, map[string]any{"remove" + key: []string{targets[0]}}, "id")
	want("after removing the first", 1)
	update(t, s, r.To, targets[2], map[string]any{"add" + invKey: []string{id}}, "id")
	want("after adding from the other side", 1, 2)
	update(t, s, r.To, targets[1], map[string]any{"remove" + invKey: []string{id}}, "id")
	want("after removing from the other side", 2)
	update(t, s, name, id, map[string]any{"clear" + metamodel.Pascal(r.GraphQLName()): true}, "id")
	want("after clearing")
}

// checkNoCycle tries to move a tree's root under one of its children, and under itself; both must be
// refused. When the API accepts one, the test reports the bug and puts the root back.
func checkNoCycle(t *testing.T, s *apptest.Server, m *metamodel.Model, name, root, child string) {
	t.Helper()
	for _, parent := range []string{child, root} {
		r := call(t, s, fmt.Sprintf(`mutation($id: ID!, $p: ID!) { update%s(id: $id, input: {parentID: $p}) { id } }`, name),
			map[string]any{"id": root, "p": parent})
		if len(r.Errors) == 0 {
			t.Errorf("BUG: update%s(id: <root>, input: {parentID: <%s>}) is accepted and makes a cycle in the %s tree "+
				"(no root left: %s where {not: {hasParent: true}} is empty); want a VALIDATION error on field parent",
				name, map[bool]string{true: "the root itself", false: "its child"}[parent == root], name, entity(t, m, name).QueryField())
			update(t, s, name, root, map[string]any{"clearParent": true}, "id")
			continue
		}
		if e := r.Errors[0]; e.Extensions["code"] != "VALIDATION" || e.Extensions["field"] != "parent" {
			t.Errorf("cycle in the %s tree refused with %q %v, want code VALIDATION on field parent", name, e.Message, e.Extensions)
		}
	}
}

// removeRestricting deletes the records that refer to entity id through a relation with onDelete:
// restrict, so that id itself can be deleted.
func removeRestricting(t *testing.T, s *apptest.Server, m *metamodel.Model, name, id string) {
	t.Helper()
	for _, r := range entity(t, m, name).Relations {
		if (r.Kind != metamodel.HasMany && r.Kind != metamodel.HasOne) || r.InverseRel.OnDelete != metamodel.OnDeleteRestrict {
			continue
		}
		d := query(t, s, fmt.Sprintf(`query($w: %sWhereInput) { r: %s(where: $w) { edges { node { id } } } }`, r.Target.Name, r.Target.QueryField()),
			map[string]any{"w": map[string]any{r.InverseRel.GraphQLFKName(): id}})
		for _, e := range list(t, d, "r.edges") {
			removeRestricting(t, s, m, r.Target.Name, str(t, e, "node.id"))
			mustRemove(t, s, r.Target.Name, str(t, e, "node.id"))
		}
	}
}

// checkVersioned updates a versioned record from version v (first), then from the same, now stale,
// version (stale: refused with CONFLICT, nothing changes), then from the current version (last), and
// without a version; ok checks the record's final fields (sel).
func checkVersioned(t *testing.T, s *apptest.Server, name, id string, v int, first, stale, last map[string]any, sel string, ok func(map[string]any) bool) {
	t.Helper()
	if n := node(t, s, name, id, "version"); int(num(t, n, "version")) != v {
		t.Fatalf("%s version = %v, want %d", name, at(t, n, "version"), v)
	}
	with := func(in map[string]any, version int) map[string]any {
		out := map[string]any{"version": version}
		for k, x := range in {
			out[k] = x
		}
		return out
	}
	if d := update(t, s, name, id, with(first, v), "version"); int(num(t, d, "version")) != v+1 {
		t.Errorf("%s version after an update from version %d = %v, want %d", name, v, at(t, d, "version"), v+1)
	}
	before := node(t, s, name, id, sel+" version updatedAt")
	e := mustFail(t, s, fmt.Sprintf(`mutation($id: ID!, $in: Update%sInput!) { update%s(id: $id, input: $in) { id } }`, name, name),
		map[string]any{"id": id, "in": with(stale, v)})
	if e.Extensions["code"] != "CONFLICT" || !strings.Contains(e.Message, name) {
		t.Errorf("stale update of %s: %q %v, want code CONFLICT", name, e.Message, e.Extensions)
	}
	if after := node(t, s, name, id, sel+" version updatedAt"); jsonString(after) != jsonString(before) {
		t.Errorf("a stale update changed the %s:\nbefore %s\n after %s", name, jsonString(before), jsonString(after))
	}
	if d := update(t, s, name, id, with(last, v+1), sel+" version"); int(num(t, d, "version")) != v+2 || !ok(d) {
		t.Errorf("%s after an update from the current version: %s, want version %d", name, jsonString(d), v+2)
	}
	// Without a version the update is not checked, but still counts.
	if d := update(t, s, name, id, map[string]any{}, "version"); int(num(t, d, "version")) != v+3 {
		t.Errorf("%s version after an update without a version = %v, want %d", name, at(t, d, "version"), v+3)
	}
}
