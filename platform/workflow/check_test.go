package workflow_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/workflow"
)

func TestMain(m *testing.M) {
	defer pgtest.Stop()
	m.Run()
}

const modelYAML = `
app: {name: t}
roles:
  admin: {superuser: true}
  clerk:
    permissions:
      Ticket: {read: all, update: all, create: true}
  manager:
    inherits: [clerk]
    permissions:
      Ticket: {read: all}
  viewer:
    permissions:
      Ticket: {read: all}
entities:
  Customer:
    fields:
      name: {type: string}
  Ticket:
    fields:
      title: {type: string}
      amount: {type: decimal, precision: 12, scale: 2}
      qty: {type: int}
      result: {type: text}
      closedAt: {type: datetime}
      dueAt: {type: datetime}
      total: {type: decimal, precision: 12, scale: 2}
      days: {type: int}
    relations:
      customer: {to: Customer, kind: belongsTo}
      handler: {to: User, kind: belongsTo}
workflows:
  TicketFlow:
    entity: Ticket
    field: status
    initial: open
    states: {open: {}, assigned: {}, done: {}, closed: {final: true}}
    transitions:
      assign: {from: open, to: assigned, roles: [clerk], requires: [customer, title]}
      finish:
        from: assigned
        to: done
        roles: [manager]
        requires: [result]
        guard: 'record.amount > 100.0'
        set: {closedAt: now, total: 'record.amount * double(record.qty) * 0.85', handler: user.id, days: 'record.qty + 2'}
      close: {from: [done, assigned], to: closed, roles: [manager], comment: required}
      reopen: {from: [done, closed], to: open, roles: [viewer], set: {customer: record.customer}}
    timers:
      - {state: assigned, after: 72h, notify: {roles: [manager], message: late}}
      - {state: assigned, at: 'record.dueAt - duration("24h")', notify: {roles: [manager], message: due soon}}
      - {state: done, after: 30m, notify: {roles: [manager], message: close it}}
`

func testModel(t testing.TB) (*metamodel.Model, *metamodel.Workflow) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(strings.TrimPrefix(modelYAML, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := metamodel.Load(dir)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	m, err := metamodel.Build(spec)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	w := m.Workflow("TicketFlow")
	if w == nil {
		t.Fatal("no workflow TicketFlow")
	}
	return m, w
}

func transition(t testing.TB, w *metamodel.Workflow, name string) *metamodel.Transition {
	t.Helper()
	for _, tr := range w.Transitions {
		if tr.Name == name {
			return tr
		}
	}
	t.Fatalf("no transition %q", name)
	return nil
}

// ticket returns a complete record in state, changed by edit.
func ticket(state string, edit func(map[string]any)) map[string]any {
	rec := map[string]any{
		"id": int64(1), "status": state, "title": "printer jam", "amount": 150.0, "qty": int64(3),
		"result": "fixed", "closedAt": nil, "dueAt": nil, "total": nil, "days": nil,
		"customer": map[string]any{"id": int64(5), "name": "ACME"}, "handler": nil,
	}
	if edit != nil {
		edit(rec)
	}
	return rec
}

var (
	admin   = &auth.Principal{ID: 1, Username: "admin", Roles: []string{"admin"}}
	clerk   = &auth.Principal{ID: 2, Username: "clerk1", Roles: []string{"clerk"}}
	manager = &auth.Principal{ID: 3, Username: "boss", Roles: []string{"manager"}}
	viewer  = &auth.Principal{ID: 4, Username: "eve", Roles: []string{"viewer"}}
	nobody  = &auth.Principal{ID: 5, Username: "nobody", Roles: []string{}}
)

func TestCheck(t *testing.T) {
	m, w := testModel(t)
	for _, tc := range []struct {
		name       string
		transition string
		rec        map[string]any
		user       *auth.Principal
		unreadable bool
		comment    string
		want       error  // nil, or a zero value of the expected error type
		wantFields error  // when set, the refusal must equal it
		wantText   string // when set, the message must contain it
	}{
		{name: "allowed", transition: "assign", rec: ticket("open", nil), user: clerk},
		{name: "wrong state", transition: "assign", rec: ticket("assigned", nil), user: clerk,
			wantFields: &workflow.StateError{Workflow: "TicketFlow", Transition: "assign", Current: "assigned", From: []string{"open"}},
			wantText:   `the record is in state "assigned", want "open"`},
		{name: "multi-from first", transition: "close", rec: ticket("done", nil), user: manager, comment: "ok"},
		{name: "multi-from second", transition: "close", rec: ticket("assigned", nil), user: manager, comment: "ok"},
		{name: "multi-from refused", transition: "close", rec: ticket("open", nil), user: manager, comment: "ok",
			wantFields: &workflow.StateError{Workflow: "TicketFlow", Transition: "close", Current: "open", From: []string{"done", "assigned"}},
			wantText:   `want "done" or "assigned"`},
		{name: "role refused", transition: "finish", rec: ticket("assigned", nil), user: clerk,
			wantFields: &workflow.RoleError{Workflow: "TicketFlow", Transition: "finish", Roles: []string{"manager"}},
			wantText:   `only role "manager" may run it`},
		{name: "role without any roles refused", transition: "assign", rec: ticket("open", nil), user: nobody,
			want: &workflow.RoleError{}},
		{name: "role inherited", transition: "assign", rec: ticket("open", nil), user: manager},
		{name: "superuser holds every role", transition: "finish", rec: ticket("assigned", nil), user: admin},
		{name: "system holds every role", transition: "finish", rec: ticket("assigned", nil), user: nil},
		{name: "unreadable", transition: "assign", rec: ticket("open", nil), user: clerk, unreadable: true,
			wantFields: &workflow.NotFoundError{Entity: "Ticket"}, wantText: "Ticket not found"},
		{name: "unreadable says nothing of the state", transition: "assign", rec: ticket("closed", nil), user: clerk,
			unreadable: true, want: &workflow.NotFoundError{}},
		{name: "requires all missing named", transition: "assign", user: clerk,
			rec:        ticket("open", func(r map[string]any) { r["customer"] = nil; r["title"] = "  " }),
			wantFields: &workflow.RequiresError{Workflow: "TicketFlow", Transition: "assign", Missing: []string{"customer", "title"}},
			wantText:   `requires "customer" and "title"`},
		{name: "requires one missing", transition: "finish", user: manager,
			rec:        ticket("assigned", func(r map[string]any) { delete(r, "result") }),
			wantFields: &workflow.RequiresError{Workflow: "TicketFlow", Transition: "finish", Missing: []string{"result"}}},
		{name: "guard false", transition: "finish", user: manager,
			rec:        ticket("assigned", func(r map[string]any) { r["amount"] = 99.5 }),
			wantFields: &workflow.GuardError{Workflow: "TicketFlow", Transition: "finish", Guard: "record.amount > 100.0"},
			wantText:   "guard record.amount > 100.0 does not hold"},
		{name: "guard on null refuses", transition: "finish", user: manager,
			rec:  ticket("assigned", func(r map[string]any) { r["amount"] = nil }),
			want: &workflow.GuardError{}, wantText: "record.amount > 100.0"},
		{name: "comment missing", transition: "close", rec: ticket("done", nil), user: manager, comment: " ",
			wantFields: &workflow.CommentError{Workflow: "TicketFlow", Transition: "close"}, wantText: "requires a comment"},
		{name: "comment present", transition: "close", rec: ticket("done", nil), user: manager, comment: "duplicate"},
		{name: "state is checked before role", transition: "finish", rec: ticket("open", nil), user: clerk,
			want: &workflow.StateError{}},
		{name: "role is checked before requires", transition: "finish", user: viewer,
			rec: ticket("assigned", func(r map[string]any) { r["result"] = nil }), want: &workflow.RoleError{}},
		{name: "requires are checked before guard", transition: "finish", user: manager,
			rec:  ticket("assigned", func(r map[string]any) { r["result"] = nil; r["amount"] = 1.0 }),
			want: &workflow.RequiresError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := workflow.Check(m, w, transition(t, w, tc.transition), tc.rec, tc.user, !tc.unreadable, tc.comment)
			want := tc.want
			if tc.wantFields != nil {
				want = tc.wantFields
			}
			if want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check = nil, want %T", want)
			}
			if reflect.TypeOf(err) != reflect.TypeOf(want) {
				t.Fatalf("Check = %T (%v), want %T", err, err, want)
			}
			if tc.wantFields != nil && !reflect.DeepEqual(err, tc.wantFields) {
				t.Errorf("Check = %#v, want %#v", err, tc.wantFields)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.wantText)
			}
		})
	}
}

func TestGuardErrorUnwraps(t *testing.T) {
	m, w := testModel(t)
	err := workflow.Check(m, w, transition(t, w, "finish"), ticket("assigned", func(r map[string]any) { r["amount"] = nil }), manager, true, "")
	var ge *workflow.GuardError
	if !errors.As(err, &ge) || ge.Err == nil || ge.Guard != "record.amount > 100.0" {
		t.Fatalf("err = %#v, want a GuardError with the evaluation error", err)
	}
}

func names(ts []*metamodel.Transition) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestAvailable(t *testing.T) {
	m, w := testModel(t)
	for _, tc := range []struct {
		name       string
		rec        map[string]any
		user       *auth.Principal
		unreadable bool
		want       []string
	}{
		{"clerk on open", ticket("open", nil), clerk, false, []string{"assign"}},
		{"clerk on open without customer", ticket("open", func(r map[string]any) { r["customer"] = nil }), clerk, false, []string{}},
		{"manager on assigned, comment not asked", ticket("assigned", nil), manager, false, []string{"finish", "close"}},
		{"manager on assigned, guard false", ticket("assigned", func(r map[string]any) { r["amount"] = 10.0 }), manager, false, []string{"close"}},
		{"clerk on assigned", ticket("assigned", nil), clerk, false, []string{}},
		{"viewer on done", ticket("done", nil), viewer, false, []string{"reopen"}},
		{"admin on done, model order", ticket("done", nil), admin, false, []string{"close", "reopen"}},
		{"unreadable", ticket("open", nil), admin, true, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := names(workflow.Available(m, w, tc.rec, tc.user, !tc.unreadable))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Available = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	m, w := testModel(t)
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	rec := ticket("assigned", func(r map[string]any) { r["amount"] = 19.99 })
	got, err := workflow.ApplyAs(m, w, transition(t, w, "finish"), rec, manager, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"status":   "done",
		"closedAt": now,
		"total":    50.97, // 19.99 × 3 × 0.85 = 50.9745, rounded to the field's scale
		"handler":  int64(3),
		"days":     int64(5),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ApplyAs = %#v, want %#v", got, want)
	}

	got, err = workflow.Apply(m, w, transition(t, w, "reopen"), ticket("closed", nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"status": "open", "customer": int64(5)}; !reflect.DeepEqual(got, want) {
		t.Errorf("Apply reopen = %#v, want %#v", got, want)
	}
	got, err = workflow.Apply(m, w, transition(t, w, "reopen"), ticket("closed", func(r map[string]any) { r["customer"] = nil }))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"status": "open", "customer": nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("Apply reopen without customer = %#v, want %#v", got, want)
	}

	// Apply without a time uses the current one.
	before := time.Now()
	got, err = workflow.Apply(m, w, transition(t, w, "finish"), rec)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := got["closedAt"].(time.Time); !ok || at.Before(before) {
		t.Errorf("closedAt = %v, want the current time", got["closedAt"])
	}
	if got["handler"] != int64(0) {
		t.Errorf("handler = %v, want the system (0)", got["handler"])
	}

	_, err = workflow.Apply(m, w, transition(t, w, "finish"), ticket("assigned", func(r map[string]any) { r["qty"] = nil }))
	if err == nil || !strings.Contains(err.Error(), "set total") && !strings.Contains(err.Error(), "set days") {
		t.Errorf("Apply with a null input = %v, want an error naming the assignment", err)
	}
}

func TestFindAndIsRefusal(t *testing.T) {
	m, w := testModel(t)
	if workflow.Find(w, "close") == nil || workflow.Find(w, "nope") != nil {
		t.Error("Find")
	}
	err := workflow.Check(m, w, workflow.Find(w, "close"), ticket("done", nil), manager, true, "")
	if !workflow.IsRefusal(fmt.Errorf("run transition: %w", err)) || workflow.IsRefusal(errors.New("disk full")) {
		t.Errorf("IsRefusal(%v)", err)
	}
}
