package e2e

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// FuzzWhere builds random where arguments and sort keys from the permission matrix's filters (every field
// and relation of testdata/secure, with values of rows the user reads and rows they do not), nests them in
// and/or/not, sends them as variables — lists or single objects — as a random user, and checks the answer
// against the model: FORBIDDEN_FIELD when any part names a field the user may not see (or sorts by one
// shown on some of their rows only), else exactly the readable rows the filter selects in SQL's
// three-valued logic, on the rows as the user sees them, with their totalCount. It runs its seed corpus
// with every `go test`, and explores further under `go test -fuzz FuzzWhere ./e2e/`.
func FuzzWhere(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03", "\x05\x01\x00\x07\x02", "\xff\x10\x20\x30\x40\x50",
		"\x03\x03\x03\x03\x03\x03\x03", "\x02\x09\x01\x04\x08\x00\x06\x03\x07\x05", "\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env := fuzzWhereEnv(t)
		g := &pmGen{data: data}
		u := env.users[g.next(len(env.users))]
		p := env.plans[g.next(len(env.plans))]
		cases := env.cases(u, p)
		if len(cases) == 0 {
			return
		}
		tree := g.tree(cases, 0)
		var order []any
		orderRefused := false
		if len(p.orders) > 0 && g.next(2) == 1 {
			v := p.orders[g.next(len(p.orders))]
			member := p.orderMember(v)
			order = append(order, map[string]any{"field": v, "direction": []string{"ASC", "DESC"}[g.next(2)]})
			orderRefused = env.mx.w.unsearchable(u, p.e.Name, member)
			for _, r := range env.mx.w.rows[p.e.Name] {
				if env.mx.w.readable(u, r) && !env.mx.w.shown(u, r, member, true) {
					orderRefused = true
				}
			}
		}
		vars := map[string]any{"w": tree.where}
		if len(order) == 1 && g.next(2) == 1 {
			vars["o"] = order[0] // a single object for the list orderBy takes
		} else if len(order) > 0 {
			vars["o"] = order
		}
		q := fmt.Sprintf(`query($w: %sWhereInput, $o: [%sOrder!]) { r: %s(where: $w, orderBy: $o, first: %d) { totalCount edges { node { id } } } }`,
			p.e.Name, p.e.Name, p.qf, pmBig)
		if len(p.orders) == 0 {
			q = fmt.Sprintf(`query($w: %sWhereInput) { r: %s(where: $w, first: %d) { totalCount edges { node { id } } } }`, p.e.Name, p.qf, pmBig)
			delete(vars, "o")
		}
		resp := env.servers[u.name].GraphQL(t, q, vars)
		what := fmt.Sprintf("%s as %s: where %s orderBy %s", p.e.Name, u, jsonString(tree.where), jsonString(vars["o"]))
		if len(resp.Errors) > 0 {
			e := resp.Errors[0]
			switch {
			case pmCode(e) != "FORBIDDEN_FIELD":
				t.Fatalf("%s: fails without FORBIDDEN_FIELD: %s", what, pmDescribe(e))
			case !tree.refuse && !tree.mixed && !orderRefused:
				t.Fatalf("%s: refused, but every field it names is one the user sees: %s", what, pmDescribe(e))
			}
			return
		}
		if tree.refuse || orderRefused {
			t.Fatalf("%s: answered, but it names a field the user may not see (or sorts by one shown on some rows only)", what)
		}
		var want []string
		for _, r := range env.mx.w.rows[p.e.Name] {
			if env.mx.w.readable(u, r) && tree.eval(r) == pmTrue {
				want = append(want, r.id)
			}
		}
		pmSortIDs(want)
		conn := pmData(resp)["r"]
		got, ok := pmNodeIDs(conn)
		if !ok {
			t.Fatalf("%s: no connection: %s", what, jsonString(conn))
		}
		pmSortIDs(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: rows %s, want %s", what, env.mx.labels(got), env.mx.labels(want))
		}
		if tc := conn.(map[string]any)["totalCount"]; tc != float64(len(want)) {
			t.Fatalf("%s: totalCount %v, want %d", what, tc, len(want))
		}
	})
}

// pmGen draws choices from fuzz input; past its end every choice is the first.
type pmGen struct {
	data []byte
	pos  int
}

func (g *pmGen) next(n int) int {
	if n <= 1 || g.pos >= len(g.data) {
		return 0
	}
	b := g.data[g.pos]
	g.pos++
	return int(b) % n
}

// pmTree is a where value with its oracle.
type pmTree struct {
	where         map[string]any
	eval          func(*pmRow) pmTri
	refuse, mixed bool
}

// tree draws a where value: a filter of the matrix, or and/or/not of smaller ones (lists sent as lists or
// as single objects).
func (g *pmGen) tree(cases []pmFilter, depth int) pmTree {
	kind := 0
	if depth < 3 {
		kind = g.next(6)
	}
	switch kind {
	case 3: // not
		in := g.tree(cases, depth+1)
		return pmTree{where: map[string]any{"not": in.where}, refuse: in.refuse, mixed: in.mixed,
			eval: func(r *pmRow) pmTri {
				switch in.eval(r) {
				case pmTrue:
					return pmFalse
				case pmFalse:
					return pmTrue
				}
				return pmUnknown
			}}
	case 4, 5: // and, or
		n := 1 + g.next(3)
		var kids []pmTree
		for range n {
			kids = append(kids, g.tree(cases, depth+1))
		}
		out := pmTree{}
		var items []any
		for _, k := range kids {
			items = append(items, k.where)
			out.refuse = out.refuse || k.refuse
			out.mixed = out.mixed || k.mixed
		}
		and := kind == 4
		key := "or"
		if and {
			key = "and"
		}
		var v any = items
		if len(items) == 1 && g.next(2) == 1 {
			v = items[0] // a single object for the list and/or take
		}
		out.where = map[string]any{key: v}
		out.eval = func(r *pmRow) pmTri {
			// Kleene's logic, as SQL: and is false if any part is, or is unknown if any part is; or is
			// true if any part is, or is unknown if any part is.
			decisive, other := pmFalse, pmTrue
			if !and {
				decisive, other = pmTrue, pmFalse
			}
			res := other
			for _, k := range kids {
				switch k.eval(r) {
				case decisive:
					return decisive
				case pmUnknown:
					res = pmUnknown
				}
			}
			return res
		}
		return out
	}
	c := cases[g.next(len(cases))]
	return pmTree{where: c.where, eval: c.eval, refuse: c.refuse, mixed: c.mixed}
}

// fuzzEnv is testdata/secure running on SQLite, with the matrix's world and a session per user, made once
// per test process.
type fuzzEnv struct {
	mx      *pmMatrix
	users   []*pmUser
	plans   []*pmPlan
	servers map[string]*apptest.Server
	mu      sync.Mutex
	byUser  map[string][]pmFilter
}

var (
	fuzzOnce sync.Once
	fuzzE    *fuzzEnv
)

func fuzzWhereEnv(t *testing.T) *fuzzEnv {
	fuzzOnce.Do(func() {
		a := built(t, "e2e/testdata/secure", "secure")
		// The server outlives the test that starts it: it serves every input of this process.
		s := a.StartDetached(t, noTimers)
		w := newPMWorld(t, a.Model)
		mx := &pmMatrix{w: w, m: a.Model, plans: map[string]*pmPlan{}, byID: map[string]*pmRow{}, order: map[string][]string{},
			tally: map[string]int{}}
		mx.admin = s.As(t, w.super.name, w.super.password)
		mx.types = pmIntrospect(t, mx.admin)
		for _, e := range a.Model.Entities {
			mx.plans[e.Name] = pmPlanOf(t, mx.types, e, 100)
		}
		mx.mapRows(t)
		env := &fuzzEnv{mx: mx, servers: map[string]*apptest.Server{}, byUser: map[string][]pmFilter{}}
		for _, u := range w.users {
			if u.password != "" && u.active {
				env.users = append(env.users, u)
				env.servers[u.name] = s.As(t, u.name, u.password)
			}
		}
		names := make([]string, 0, len(mx.plans))
		for n, p := range mx.plans {
			if p.hasQuery {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			env.plans = append(env.plans, mx.plans[n])
		}
		fuzzE = env
	})
	if fuzzE == nil {
		t.Fatal("the fuzz environment could not be made (see the first failure)")
	}
	return fuzzE
}

// cases are the matrix's filters for u on p, with an oracle each, computed once.
func (env *fuzzEnv) cases(u *pmUser, p *pmPlan) []pmFilter {
	env.mu.Lock()
	defer env.mu.Unlock()
	key := u.name + " " + p.e.Name
	if fs, ok := env.byUser[key]; ok {
		return fs
	}
	var fs []pmFilter
	for _, f := range env.mx.filterCases(u, p) {
		if f.eval != nil {
			fs = append(fs, f)
		}
	}
	env.byUser[key] = fs
	return fs
}
