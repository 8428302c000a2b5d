package e2e

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// TestWorkflowMatrixExamples checks every transition of every workflow of the example models, for every
// user of their data, on a seeded record in each state: a transition a user is offered must pass the
// state, role and read checks; one that fails them is refused with that check (in METAMODEL.md's order)
// when the user runs it anyway; one that passes them but is not offered is refused by its requires or
// guard. Then each transition is run once by a user it is offered to, and the record moves to its state.
func TestWorkflowMatrixExamples(t *testing.T) {
	for _, ex := range []struct{ dir, name string }{{"examples/hospital", "hospital"}, {"examples/b2b-sales", "b2b-sales"}, {"examples/tobacco", "tobacco"}, {"examples/bank", "bank"}} {
		t.Run(ex.name, func(t *testing.T) {
			a := built(t, ex.dir, ex.name)
			if len(a.Model.Workflows) == 0 {
				t.Fatalf("%s has no workflows", ex.dir)
			}
			world := newPMWorld(t, a.Model)
			onEachDB(t, a, func(t *testing.T, admin *apptest.Server) {
				tally := workflowMatrix(t, admin, a.Model, world.users)
				t.Logf("%s: %v", ex.name, tally)
				for _, k := range []string{"offered", "read", "state", "role", "ran"} {
					if tally[k] == 0 {
						t.Errorf("no check of kind %q: one side of the transition rules is untested", k)
					}
				}
			})
		})
	}
}

// holdsOneOf reports whether u may run a transition limited to roles: a superuser may, a transition
// without roles is anyone's, and otherwise u holds one of them directly or through inheritance.
func holdsOneOf(m *metamodel.Model, u *pmUser, roles []string) bool {
	if u.all || len(roles) == 0 {
		return true
	}
	seen := map[string]bool{}
	var walk func(name string) bool
	walk = func(name string) bool {
		if seen[name] {
			return false
		}
		seen[name] = true
		if slices.Contains(roles, name) {
			return true
		}
		r := m.Role(name)
		if r == nil {
			return false
		}
		if r.Superuser {
			return true
		}
		for _, in := range r.Inherits {
			if walk(in) {
				return true
			}
		}
		return false
	}
	for _, name := range u.roleNames {
		if walk(name) {
			return true
		}
	}
	return false
}

type wfSample struct {
	w     *metamodel.Workflow
	state string
	id    string
}

func workflowMatrix(t *testing.T, admin *apptest.Server, m *metamodel.Model, users []*pmUser) map[string]int {
	tally := map[string]int{}
	// A seeded record in each state of each workflow, the lowest id first.
	var samples []*wfSample
	all := map[*metamodel.Workflow]map[string][]string{} // workflow → state → ids, lowest first
	for _, w := range m.Workflows {
		e := w.EntityRef
		field := e.Field(w.Field).GraphQLName()
		d := query(t, admin, fmt.Sprintf(`{ c: %s(first: 1000) { edges { node { id %s } } } }`, e.QueryField(), field), nil)
		byState := map[string][]string{}
		for _, n := range nodesAt(t, d, "c") {
			s := str(t, n, field)
			byState[s] = append(byState[s], str(t, n, "id"))
		}
		all[w] = byState
		for _, st := range w.States {
			ids := byState[st.Name]
			if len(ids) == 0 {
				continue
			}
			sort.Slice(ids, func(i, j int) bool { return idNum(t, ids[i]) < idNum(t, ids[j]) })
			samples = append(samples, &wfSample{w: w, state: st.Name, id: ids[0]})
		}
	}
	type offer struct {
		u *pmUser
		s *apptest.Server
		x *wfSample
	}
	offers := map[*metamodel.Transition][]offer{}
	ranRefusal := map[string]bool{}
	sessions := map[*pmUser]*apptest.Server{}
	for _, u := range users {
		if !u.active {
			continue
		}
		s := admin.As(t, u.name, u.password)
		sessions[u] = s
		for _, x := range samples {
			w := x.w
			r := s.GraphQL(t, fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on %s { id availableTransitions { name } } } }`, w.Entity),
				map[string]any{"id": x.id})
			var d map[string]any
			if len(r.Errors) == 1 && r.Errors[0].Extensions["code"] == "NOT_FOUND" {
				r.Errors = nil // a row the user may not read does not exist for them
			}
			r.Decode(t, &d)
			node, readable := d["node"].(map[string]any)
			var offered []string
			if readable {
				for _, tr := range list(t, node, "availableTransitions") {
					offered = append(offered, str(t, tr, "name"))
				}
			}
			for _, tr := range w.Transitions {
				inFrom := slices.Contains(tr.From, x.state)
				roleOK := holdsOneOf(m, u, tr.Roles)
				where := fmt.Sprintf("%s %s %s (%s) by %s", w.Name, tr.Name, x.id, x.state, u)
				if slices.Contains(offered, tr.Name) {
					tally["offered"]++
					if !inFrom || !roleOK {
						t.Errorf("%s: offered, but state ok %v, role ok %v", where, inFrom, roleOK)
					}
					offers[tr] = append(offers[tr], offer{u, s, x})
					continue
				}
				want := ""
				switch {
				case !readable:
					want = "read"
				case !inFrom:
					want = "state"
				case !roleOK:
					want = "role"
				}
				key := fmt.Sprintf("%s/%s/%s/%s", u.name, w.Name, tr.Name, want)
				if want != "" && ranRefusal[key] {
					tally[want]++ // the same refusal, already run once for this user and transition
					continue
				}
				ranRefusal[key] = true
				r := s.GraphQL(t, fmt.Sprintf(`mutation($id: ID!, $t: String!) { transition%s(id: $id, transition: $t, comment: "e2e") { id } }`, w.Entity),
					map[string]any{"id": x.id, "t": tr.Name})
				if len(r.Errors) == 0 {
					t.Fatalf("%s: not offered, but running it succeeded", where)
				}
				got, _ := r.Errors[0].Extensions["check"].(string)
				switch {
				case want != "" && got != want:
					t.Errorf("%s: refused by %q (%s), want the %s check", where, got, r.Errors[0].Message, want)
				case want == "" && got != "requires" && got != "guard":
					t.Errorf("%s: passes state, role and read but is not offered; running it: %q %s, want a requires or guard refusal",
						where, got, r.Errors[0].Message)
				}
				if want == "" {
					want = got
				}
				tally[want]++
			}
		}
	}
	// Run each transition once, by a user it is offered to, on a record no earlier run has moved: one of
	// the samples where it was offered, else another record in one of its from states.
	used := map[string]bool{}
	offeredOn := func(u *pmUser, entity, id, name string) bool {
		r := sessions[u].GraphQL(t, fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on %s { availableTransitions { name } } } }`, entity),
			map[string]any{"id": id})
		if len(r.Errors) > 0 {
			return false
		}
		var d map[string]any
		r.Decode(t, &d)
		for _, tr := range list(t, d, "node.availableTransitions") {
			if at(t, tr, "name") == name {
				return true
			}
		}
		return false
	}
	var never []string
	for _, w := range m.Workflows {
		for _, tr := range w.Transitions {
			var pick *offer
			for _, o := range offers[tr] {
				if !used[o.x.id] {
					pick = &o
					break
				}
			}
			for _, from := range tr.From {
				for _, id := range all[w][from] {
					if pick != nil {
						break
					}
					if used[id] {
						continue
					}
					for _, u := range users {
						if sessions[u] != nil && holdsOneOf(m, u, tr.Roles) && offeredOn(u, w.Entity, id, tr.Name) {
							pick = &offer{u, sessions[u], &wfSample{w: w, state: from, id: id}}
							break
						}
					}
				}
			}
			if pick == nil {
				never = append(never, w.Name+"."+tr.Name)
				continue
			}
			used[pick.x.id] = true
			field := w.EntityRef.Field(w.Field).GraphQLName()
			query(t, pick.s, fmt.Sprintf(`mutation($id: ID!, $t: String!) { r: transition%s(id: $id, transition: $t, comment: "e2e") { id } }`, w.Entity),
				map[string]any{"id": pick.x.id, "t": tr.Name})
			after := query(t, admin, fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on %s { %s workflowHistory { to transition user } } } }`, w.Entity, field),
				map[string]any{"id": pick.x.id})
			hist := list(t, after, "node.workflowHistory")
			last := hist[len(hist)-1]
			if str(t, after, "node."+field) != tr.To || at(t, last, "transition") != tr.Name || at(t, last, "user") != pick.u.name {
				t.Errorf("%s %s on %s by %s: now %v, last step %v; want %s", w.Name, tr.Name, pick.x.id, pick.u, at(t, after, "node."+field), last, tr.To)
			}
			tally["ran"]++
		}
	}
	if len(never) > 0 {
		t.Logf("transitions no seeded record offers to anyone (their requires or guard fail on every record): %v", never)
	}
	return tally
}
