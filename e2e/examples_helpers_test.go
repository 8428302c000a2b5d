package e2e

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Helpers for the example models' end-to-end tests (examples_test.go). They read what they can from the
// model the app was generated from (entities, fields, rules, demo data), so the checks follow the example.

// step is one part of an example's end-to-end test.
type step struct {
	name string
	fn   func(t *testing.T, s *apptest.Server)
}

// runSteps starts the app once per database (seeding the demo data takes a while) and runs the steps in
// order as subtests against that server. Steps that read the demo data as loaded come first; later steps
// create what they need and look records up by unique values, so they do not depend on one another.
func runSteps(t *testing.T, a *apptest.App, steps []step) {
	onEachDB(t, a, func(t *testing.T, s *apptest.Server) {
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) { st.fn(t, s) })
		}
	})
}

// call posts one GraphQL operation and returns the response, errors included. The example tests send
// every request whose errors they inspect through here (the rest through query and mustFail), so a change
// to how tests reach the API (a principal, a header) is made in one place.
func call(t *testing.T, s *apptest.Server, q string, vars map[string]any) *apptest.Response {
	t.Helper()
	return s.GraphQL(t, q, vars)
}

// entity returns the model's entity, failing the test when the model lacks it.
func entity(t *testing.T, m *metamodel.Model, name string) *metamodel.Entity {
	t.Helper()
	e := m.Entity(name)
	if e == nil {
		t.Fatalf("the model has no entity %s", name)
	}
	return e
}

// input turns values keyed by model names (fields, relations) into a GraphQL input object: fields by
// Field.GraphQLName, belongsTo relations by their foreign-key name (an ID), many-to-many relations by
// "<singular>IDs" (a list of IDs).
func input(t *testing.T, e *metamodel.Entity, vals map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range vals {
		switch {
		case e.Field(k) != nil:
			out[e.Field(k).GraphQLName()] = v
		case e.Relation(k) != nil && e.Relation(k).Kind == metamodel.BelongsTo:
			out[e.Relation(k).GraphQLFKName()] = v
		case e.Relation(k) != nil && e.Relation(k).Many():
			out[idsKey(e.Relation(k))] = v
		default:
			t.Fatalf("%s has no field or relation %q", e.Name, k)
		}
	}
	return out
}

// idsKey is entgql's input name of a to-many edge: the edge's singular name followed by IDs ("tags" →
// "tagIDs", "opportunities" → "opportunityIDs"). The examples' to-many names are regular English plurals.
func idsKey(r *metamodel.Relation) string {
	name := r.GraphQLName()
	if s, ok := strings.CutSuffix(name, "ies"); ok {
		return s + "yIDs"
	}
	return strings.TrimSuffix(name, "s") + "IDs"
}

// create runs create<Entity> with vals (model names) and returns the selected fields of the new record.
func create(t *testing.T, s *apptest.Server, m *metamodel.Model, name string, vals map[string]any, sel string) map[string]any {
	t.Helper()
	e := entity(t, m, name)
	d := query(t, s, fmt.Sprintf(`mutation($in: Create%sInput!) { r: create%s(input: $in) { id %s } }`, name, name, sel),
		map[string]any{"in": input(t, e, vals)})
	return at(t, d, "r").(map[string]any)
}

// advance runs transitions on a record of entity one after the other, as the server's user, and
// returns the record after the last one (its stage or status and probability).
func advance(t *testing.T, s *apptest.Server, entity, id string, transitions ...string) map[string]any {
	t.Helper()
	var out map[string]any
	for _, tr := range transitions {
		d := query(t, s, fmt.Sprintf(`mutation($id: ID!, $t: String!) { r: transition%s(id: $id, transition: $t) { id __typename } }`, entity),
			map[string]any{"id": id, "t": tr})
		out = at(t, d, "r").(map[string]any)
	}
	d := query(t, s, `query($id: ID!) { node(id: $id) { ... on Opportunity { stage probability } ... on Contract { status } } }`, map[string]any{"id": id})
	if n, ok := d["node"].(map[string]any); ok {
		for k, v := range n {
			out[k] = v
		}
	}
	return out
}

// createID is create returning only the new record's id.
func createID(t *testing.T, s *apptest.Server, m *metamodel.Model, name string, vals map[string]any) string {
	t.Helper()
	return str(t, create(t, s, m, name, vals, ""), "id")
}

// update runs update<Entity>(id, input) with a GraphQL input given as is (so it may hold clearX, addXIDs,
// version) and returns the selected fields.
func update(t *testing.T, s *apptest.Server, name, id string, in map[string]any, sel string) map[string]any {
	t.Helper()
	d := query(t, s, fmt.Sprintf(`mutation($id: ID!, $in: Update%sInput!) { r: update%s(id: $id, input: $in) { id %s } }`, name, name, sel),
		map[string]any{"id": id, "in": in})
	return at(t, d, "r").(map[string]any)
}

// remove runs delete<Entity>(id) and returns the response (errors included).
func remove(t *testing.T, s *apptest.Server, name, id string) *apptest.Response {
	t.Helper()
	return call(t, s, fmt.Sprintf(`mutation($id: ID!) { delete%s(id: $id) }`, name), map[string]any{"id": id})
}

// mustRemove deletes a record, failing the test on an error.
func mustRemove(t *testing.T, s *apptest.Server, name, id string) {
	t.Helper()
	var out map[string]any
	remove(t, s, name, id).Decode(t, &out)
	if out["delete"+name] != id {
		t.Errorf("delete%s(%s) returned %v", name, id, out["delete"+name])
	}
}

// node reads a record through Query.node with the selection inside "... on <Entity>".
func node(t *testing.T, s *apptest.Server, name, id, sel string) map[string]any {
	t.Helper()
	d := query(t, s, fmt.Sprintf(`query($id: ID!) { node(id: $id) { __typename id ... on %s { %s } } }`, name, sel), map[string]any{"id": id})
	n, ok := at(t, d, "node").(map[string]any)
	if !ok || n["__typename"] != name {
		t.Fatalf("node(%s) = %s, want a %s", id, jsonString(d), name)
	}
	return n
}

// notFound asserts that node(id) reports NOT_FOUND.
func notFound(t *testing.T, s *apptest.Server, id string) {
	t.Helper()
	e := mustFail(t, s, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
	if e.Extensions["code"] != "NOT_FOUND" {
		t.Errorf("node(%s): %+v, want NOT_FOUND", id, e)
	}
}

// lookup returns the id of the one record of entity matching where (a <Entity>WhereInput).
func lookup(t *testing.T, s *apptest.Server, m *metamodel.Model, name string, where map[string]any) string {
	t.Helper()
	e := entity(t, m, name)
	d := query(t, s, fmt.Sprintf(`query($w: %sWhereInput) { r: %s(where: $w) { edges { node { id } } } }`, name, e.QueryField()),
		map[string]any{"w": where})
	edges := list(t, d, "r.edges")
	if len(edges) != 1 {
		t.Fatalf("%s where %s: %d records, want 1", name, jsonString(where), len(edges))
	}
	return str(t, edges[0], "node.id")
}

// total returns totalCount of entity's list with an optional where (a <Entity>WhereInput).
func total(t *testing.T, s *apptest.Server, m *metamodel.Model, name string, where map[string]any) int {
	t.Helper()
	e := entity(t, m, name)
	d := query(t, s, fmt.Sprintf(`query($w: %sWhereInput) { r: %s(where: $w) { totalCount } }`, name, e.QueryField()),
		map[string]any{"w": where})
	return int(num(t, d, "r.totalCount"))
}

// counts returns the row count of every entity of the model, in one request.
func counts(t *testing.T, s *apptest.Server, m *metamodel.Model) map[string]int {
	t.Helper()
	var q strings.Builder
	q.WriteString("{")
	for _, e := range m.Entities {
		fmt.Fprintf(&q, " %s: %s { totalCount }", e.Name, e.QueryField())
	}
	q.WriteString(" }")
	d := query(t, s, q.String(), nil)
	out := map[string]int{}
	for _, e := range m.Entities {
		out[e.Name] = int(num(t, d, e.Name+".totalCount"))
	}
	return out
}

// sameCounts reports, as test errors, the entities whose row count differs between two counts.
func sameCounts(t *testing.T, what string, before, after map[string]int) {
	t.Helper()
	for name, n := range before {
		if after[name] != n {
			t.Errorf("%s: %s count changed from %d to %d", what, name, n, after[name])
		}
	}
}

// expectCounts checks after == before changed by delta, for every entity.
func expectCounts(t *testing.T, what string, before, after map[string]int, delta map[string]int) {
	t.Helper()
	for name, n := range before {
		if want := n + delta[name]; after[name] != want {
			t.Errorf("%s: %s count = %d, want %d (before %d)", what, name, after[name], want, n)
		}
	}
}

// pageAll pages through a connection with first/after and returns the nodes, checking totalCount on
// every page and the number of pages.
func pageAll(t *testing.T, s *apptest.Server, field, args, sel string, size int) []any {
	t.Helper()
	var nodes []any
	var after any
	pages, totalCount := 0, -1
	for {
		d := query(t, s, fmt.Sprintf(`query($after: Cursor) { r: %s(first: %d, after: $after, %s) {
			totalCount pageInfo { hasNextPage endCursor } edges { node { %s } } } }`, field, size, args, sel), map[string]any{"after": after})
		tc := int(num(t, d, "r.totalCount"))
		if totalCount >= 0 && tc != totalCount {
			t.Fatalf("totalCount changed between pages: %d, then %d", totalCount, tc)
		}
		totalCount = tc
		edges := list(t, d, "r.edges")
		for _, e := range edges {
			nodes = append(nodes, at(t, e, "node"))
		}
		pages++
		if at(t, d, "r.pageInfo.hasNextPage") != true {
			break
		}
		if len(edges) != size {
			t.Fatalf("page %d has %d rows and a next page, want %d", pages, len(edges), size)
		}
		if pages > 100 {
			t.Fatal("more than 100 pages: the cursor does not advance")
		}
		after = at(t, d, "r.pageInfo.endCursor")
	}
	if len(nodes) != totalCount {
		t.Errorf("paging returned %d rows, totalCount says %d", len(nodes), totalCount)
	}
	if want := (totalCount + size - 1) / size; pages != want && !(totalCount == 0 && pages == 1) {
		t.Errorf("%d pages for %d rows of %d, want %d", pages, totalCount, size, want)
	}
	return nodes
}

// ids returns the id of each node.
func ids(t *testing.T, nodes []any) []string {
	t.Helper()
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = str(t, n, "id")
	}
	return out
}

// idNum orders ids (entgql breaks ties in every order by id, ascending).
func idNum(t *testing.T, id string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatalf("id %q is not a number", id)
	}
	return n
}

// timeAt parses an RFC 3339 time at path.
func timeAt(t *testing.T, v any, path string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, str(t, v, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tm
}

// day returns the midnight of the date years, months and days from today in the examples' zone
// (app.timezone: Asia/Shanghai), in the API's Time format: "n days from today" as the app counts days, and
// for a date field the day itself (a midnight of any offset is the day written; platform/database.Day).
func day(years, months, days int) string {
	now := time.Now().In(examplesZone)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, examplesZone).AddDate(years, months, days).Format(time.RFC3339)
}

// examplesZone is the examples' app.timezone.
var examplesZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// yearsSince is the model's `years(now - t)`: whole days divided by 365.
func yearsSince(t time.Time) int { return int(time.Since(t)/(24*time.Hour)) / 365 }

// near reports whether two money amounts are equal to the cent.
func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }

// longString returns a string of n runes.
func longString(n int) string { return strings.Repeat("长", n) }

// nestedStatements runs q and returns how many SQL statements it sent, and its data.
func nestedStatements(t *testing.T, s *apptest.Server, q string) (int64, map[string]any) {
	t.Helper()
	before := s.Statements(t)
	d := query(t, s, q, nil)
	return s.Statements(t) - before, d
}

// nodesAt returns the nodes of the connection at path.
func nodesAt(t *testing.T, v any, path string) []any {
	t.Helper()
	var out []any
	for _, e := range list(t, v, path+".edges") {
		out = append(out, at(t, e, "node"))
	}
	return out
}

// countNodes counts every object under v whose key is "node" (all levels of a nested connection).
func countNodes(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "node" {
				n++
			}
			n += countNodes(c)
		}
	case []any:
		for _, c := range x {
			n += countNodes(c)
		}
	}
	return n
}
