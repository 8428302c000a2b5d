package e2e

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
)

// Scenario tests of the example models' processes (examples/*/processes.yaml), driven through GraphQL as
// the examples' demo users: each workflow walked from its first state to a final one, its refusals
// (extensions.check, the field named), the history of every step, the notifications in the users' inboxes,
// the automations and, with the timer loop on, the timers. The hospital's are in
// process_flows_hospital_test.go, the b2b-sales ones in process_flows_b2b_test.go; the helpers are here.

// actor is one demo user signed in to a running example app.
type actor struct {
	t    *testing.T
	s    *apptest.Server
	name string
}

func signIn(t *testing.T, admin *apptest.Server, username, password string) actor {
	t.Helper()
	return actor{t, admin.As(t, username, password), username}
}

// transition runs transition<entity>(id, tr, comment) and returns the response, errors included.
func (a actor) transition(entity, id, tr string, comment ...string) *apptest.Response {
	a.t.Helper()
	vars := map[string]any{"id": id, "t": tr}
	if len(comment) > 0 {
		vars["c"] = comment[0]
	}
	return a.s.GraphQL(a.t, fmt.Sprintf(`mutation($id: ID!, $t: String!, $c: String) { r: transition%s(id: $id, transition: $t, comment: $c) { id } }`, entity), vars)
}

// run runs a transition that must succeed.
func (a actor) run(entity, id, tr string, comment ...string) {
	a.t.Helper()
	var out map[string]any
	a.transition(entity, id, tr, comment...).Decode(a.t, &out)
	if at(a.t, out, "r.id") != id {
		a.t.Fatalf("%s ran %s on %s %s: answered %v", a.name, tr, entity, id, out)
	}
}

// refused runs a transition that must be refused by check, and returns the error.
func (a actor) refused(entity, id, tr, check string, comment ...string) apptest.Error {
	a.t.Helper()
	r := a.transition(entity, id, tr, comment...)
	if len(r.Errors) == 0 {
		a.t.Fatalf("%s ran %s on %s %s, want it refused by the %s check", a.name, tr, entity, id, check)
	}
	if got := r.Errors[0].Extensions["check"]; got != check {
		a.t.Fatalf("%s running %s on %s %s: refused with %+v, want the %s check", a.name, tr, entity, id, r.Errors[0], check)
	}
	return r.Errors[0]
}

// get reads a record through node(id) as this user with sel.
func (a actor) get(entity, id, sel string) map[string]any {
	a.t.Helper()
	return node(a.t, a.s, entity, id, sel)
}

// history returns the record's workflow steps as from>to:transition@user.
func (a actor) history(entity, id string) []string {
	a.t.Helper()
	return steps(a.t, a.get(entity, id, "workflowHistory { from to transition user comment }"))
}

// offered returns the transitions this user may run on the record now, sorted.
func (a actor) offered(entity, id string) []string {
	a.t.Helper()
	var out []string
	for _, tr := range list(a.t, a.get(entity, id, "availableTransitions { name }"), "availableTransitions") {
		out = append(out, str(a.t, tr, "name"))
	}
	sort.Strings(out)
	return out
}

// inboxAbout returns the titles of the user's notifications about one record, newest first. Other
// records' notifications (demo data timers firing when the timer loop is on) are left out.
func (a actor) inboxAbout(entity, id string) []string {
	a.t.Helper()
	link := fmt.Sprintf("/%s/%s", entity, id)
	var out []string
	for _, it := range list(a.t, query(a.t, a.s, `{ inbox(first: 500) { title body link readAt } }`, nil), "inbox") {
		if at(a.t, it, "link") == link {
			out = append(out, str(a.t, it, "title"))
		}
	}
	return out
}

// wantSteps fails the test unless the record's history is exactly want.
func wantSteps(t *testing.T, a actor, entity, id string, want ...string) {
	t.Helper()
	if got := a.history(entity, id); !slices.Equal(got, want) {
		t.Errorf("%s %s history\n got %v\nwant %v", entity, id, got, want)
	}
}

// wantFields fails the test unless a requires refusal names want (the first in extensions.field, all in
// extensions.fields).
func wantFields(t *testing.T, e apptest.Error, want ...string) {
	t.Helper()
	var got []string
	if fs, ok := e.Extensions["fields"].([]any); ok {
		for _, f := range fs {
			got = append(got, fmt.Sprint(f))
		}
	}
	if e.Extensions["code"] != "VALIDATION" || e.Extensions["field"] != want[0] || !slices.Equal(got, want) {
		t.Errorf("requires refusal %+v, want field %q and fields %v", e, want[0], want)
	}
	for _, f := range want {
		if !strings.Contains(e.Message, f) {
			t.Errorf("requires refusal %q does not name %s", e.Message, f)
		}
	}
}

// within reports whether the datetime at path is within d of want.
func within(t *testing.T, v any, path string, want time.Time, d time.Duration) bool {
	t.Helper()
	got := timeAt(t, v, path)
	return got.Sub(want).Abs() <= d
}
