package e2e

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// processApp is the app of testdata/process: one workflow with every kind of check, timers and
// automations (see the model's header).
func processApp(t *testing.T) *apptest.App { return built(t, "e2e/testdata/process", "process") }

// ticketFields are the fields the process tests read back.
const ticketFields = `id title status escalated closedAt
	availableTransitions { name label to toLabel comment requires }
	workflowHistory { from to transition user comment }`

// proc is one user's view of a running process app.
type proc struct {
	t *testing.T
	s *apptest.Server
}

func (p proc) createTicket(input map[string]any) map[string]any {
	p.t.Helper()
	d := query(p.t, p.s, `mutation($in: CreateTicketInput!) { createTicket(input: $in) { `+ticketFields+` } }`, map[string]any{"in": input})
	return at(p.t, d, "createTicket").(map[string]any)
}

func (p proc) update(id any, input map[string]any) map[string]any {
	p.t.Helper()
	d := query(p.t, p.s, `mutation($id: ID!, $in: UpdateTicketInput!) { updateTicket(id: $id, input: $in) { `+ticketFields+` } }`,
		map[string]any{"id": id, "in": input})
	return at(p.t, d, "updateTicket").(map[string]any)
}

func (p proc) transition(id any, name string, comment ...string) *apptest.Response {
	p.t.Helper()
	vars := map[string]any{"id": id, "t": name}
	if len(comment) > 0 {
		vars["c"] = comment[0]
	}
	return p.s.GraphQL(p.t, `mutation($id: ID!, $t: String!, $c: String) { transitionTicket(id: $id, transition: $t, comment: $c) { `+ticketFields+` } }`, vars)
}

// run runs a transition that must succeed and returns the ticket after it.
func (p proc) run(id any, name string, comment ...string) map[string]any {
	p.t.Helper()
	var out struct{ TransitionTicket map[string]any }
	p.transition(id, name, comment...).Decode(p.t, &out)
	if out.TransitionTicket == nil {
		p.t.Fatalf("transition %s answered no ticket", name)
	}
	return out.TransitionTicket
}

// refused runs a transition that must fail with the given extensions.check and returns the error.
func (p proc) refused(id any, name, check string, comment ...string) apptest.Error {
	p.t.Helper()
	r := p.transition(id, name, comment...)
	if len(r.Errors) == 0 {
		p.t.Fatalf("transition %s succeeded, want it refused by the %s check: %s", name, check, r.Data)
	}
	if got := r.Errors[0].Extensions["check"]; got != check {
		p.t.Fatalf("transition %s refused with %+v, want check %q", name, r.Errors[0], check)
	}
	return r.Errors[0]
}

func (p proc) ticket(id any) map[string]any {
	p.t.Helper()
	d := query(p.t, p.s, `query($id: ID!) { node(id: $id) { ... on Ticket { `+ticketFields+` } } }`, map[string]any{"id": id})
	n, _ := d["node"].(map[string]any)
	return n
}

func (p proc) me() string {
	p.t.Helper()
	return str(p.t, query(p.t, p.s, `{ me { id } }`, nil), "me.id")
}

// inbox returns the titles of the user's notifications, newest first.
func (p proc) inbox() []string {
	p.t.Helper()
	var out []string
	for _, it := range list(p.t, query(p.t, p.s, `{ inbox(first: 500) { title body link readAt } }`, nil), "inbox") {
		out = append(out, str(p.t, it, "title"))
	}
	return out
}

func transitionNames(t *testing.T, ticket map[string]any) []string {
	t.Helper()
	var out []string
	for _, tr := range list(t, ticket, "availableTransitions") {
		out = append(out, str(t, tr, "name"))
	}
	return out
}

func steps(t *testing.T, ticket map[string]any) []string {
	t.Helper()
	var out []string
	for _, s := range list(t, ticket, "workflowHistory") {
		from, _ := at(t, s, "from").(string)
		out = append(out, fmt.Sprintf("%s>%s:%s@%v", from, str(t, s, "to"), str(t, s, "transition"), at(t, s, "user")))
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// TestProcessTransitions drives the ticket workflow through GraphQL as each role: every check refuses in
// the documented order with its own error, available transitions follow role, state, requires and
// guard, and each step is in the history.
func TestProcessTransitions(t *testing.T) {
	onEachDB(t, processApp(t), func(t *testing.T, admin *apptest.Server) {
		agent1 := proc{t, admin.As(t, "agent1", "agent123")}
		agent2 := proc{t, admin.As(t, "agent2", "agent123")}
		boss := proc{t, admin.As(t, "boss", "manager123")}
		watcher := proc{t, admin.As(t, "watcher", "viewer123")}

		tk := agent1.createTicket(map[string]any{"title": "printer on fire", "amount": 500})
		id := tk["id"]
		if tk["status"] != "open" || !slices.Equal(steps(t, tk), []string{">open:(created)@agent1"}) {
			t.Fatalf("new ticket: status %v, history %v; want open, created by agent1", tk["status"], steps(t, tk))
		}

		// The state field is not writable: not through create, not through update.
		for _, q := range []string{
			`mutation { createTicket(input: {title: "x", status: closed}) { id } }`,
			fmt.Sprintf(`mutation { updateTicket(id: %v, input: {status: closed}) { id } }`, id),
		} {
			e := mustFail(t, agent1.s, q, nil)
			if !strings.Contains(e.Message, `"status"`) {
				t.Errorf("direct write of status: %q, want an error naming the field", e.Message)
			}
		}

		// Checks in order: read (before anything else), state, role, requires, guard, comment.
		e := agent2.refused(id, "assign", "read")
		if e.Extensions["code"] != "NOT_FOUND" || strings.Contains(e.Message, "open") {
			t.Errorf("unreadable ticket: %+v, want NOT_FOUND revealing nothing", e)
		}
		if e := agent1.refused(id, "close", "state"); e.Extensions["code"] != "CONFLICT" || !strings.Contains(e.Message, `"open"`) {
			t.Errorf("wrong state: %+v", e)
		}
		if e := watcher.refused(id, "assign", "role"); e.Extensions["code"] != "FORBIDDEN" || !strings.Contains(e.Message, "agent") {
			t.Errorf("wrong role: %+v", e)
		}
		if e := agent1.refused(id, "assign", "requires"); e.Extensions["field"] != "assignee" {
			t.Errorf("missing assignee: %+v, want the field named", e)
		}
		r := agent1.s.GraphQL(t, `mutation { transitionTicket(id: 1, transition: "explode") { id } }`, nil)
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "assign, resolve, escalate, approve, close, reopen") {
			t.Errorf("unknown transition: %+v, want the known ones listed", r.Errors)
		}

		agent1.update(id, map[string]any{"assigneeID": agent1.me()})
		if got := transitionNames(t, agent1.ticket(id)); !slices.Equal(got, []string{"assign"}) {
			t.Errorf("agent1 may run %v on an open ticket, want [assign]", got)
		}
		if got := transitionNames(t, watcher.ticket(id)); len(got) != 0 {
			t.Errorf("the viewer may run %v, want none", got)
		}
		tk = agent1.run(id, "assign")
		if tk["status"] != "assigned" {
			t.Fatalf("after assign: %v", tk["status"])
		}
		// resolve requires a resolution; with one, the guard (amount < 1000) decides between resolve and escalate.
		if got := transitionNames(t, tk); len(got) != 0 {
			t.Errorf("without a resolution agent1 may run %v, want none", got)
		}
		agent1.refused(id, "resolve", "requires")
		agent1.update(id, map[string]any{"resolution": "replaced the toner", "amount": 2500})
		if got := transitionNames(t, agent1.ticket(id)); !slices.Equal(got, []string{"escalate"}) {
			t.Errorf("amount 2500: agent1 may run %v, want [escalate]", got)
		}
		if e := agent1.refused(id, "resolve", "guard"); e.Extensions["guard"] != "record.amount < 1000.0" || !strings.Contains(e.Message, "record.amount < 1000.0") {
			t.Errorf("guard false: %+v, want the guard's text", e)
		}
		tk = agent1.run(id, "escalate")
		if tk["status"] != "approval" || len(transitionNames(t, tk)) != 0 {
			t.Errorf("after escalate: %v, transitions %v", tk["status"], transitionNames(t, tk))
		}
		approve := boss.ticket(id)
		if got := transitionNames(t, approve); !slices.Equal(got, []string{"approve"}) {
			t.Errorf("the manager may run %v on a ticket awaiting approval, want [approve]", got)
		} else if tr := list(t, approve, "availableTransitions")[0]; at(t, tr, "comment") != "required" || at(t, tr, "toLabel") != "Resolved" {
			t.Errorf("approve button: %v", tr)
		}
		boss.refused(id, "approve", "comment")
		boss.refused(id, "approve", "comment", "   ")
		tk = boss.run(id, "approve", "fine, this once")
		if tk["status"] != "resolved" || tk["closedAt"] == nil {
			t.Errorf("after approve: status %v closedAt %v, want resolved with closedAt set", tk["status"], tk["closedAt"])
		}
		want := []string{">open:(created)@agent1", "open>assigned:assign@agent1", "assigned>approval:escalate@agent1",
			"approval>resolved:approve@boss"}
		if got := steps(t, tk); !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		if c := at(t, tk, "workflowHistory.3.comment"); c != "fine, this once" {
			t.Errorf("approve comment %v", c)
		}
		// The transition's notify reached the assignee; its automation created a note by the approver.
		if got := agent1.inbox(); countOf(got, "Approved") != 1 {
			t.Errorf("agent1's inbox %v, want one Approved", got)
		}
		notes := query(t, agent1.s, `{ notes { edges { node { body ticket { id } } } } }`, nil)
		if got := names(t, at(t, notes, "notes"), "body"); !slices.Equal(got, []string{"approved by boss"}) {
			t.Errorf("notes %v, want the automation's note", got)
		}
		// reopen needs a comment and comes from two states.
		boss.refused(id, "reopen", "comment")
		boss.run(id, "close")
		if tk = boss.run(id, "reopen", "customer called back"); tk["status"] != "assigned" {
			t.Errorf("reopen from closed: %v", tk["status"])
		}
		// A role that may not see the state sees no buttons, no workflow history, and no state in a refusal.
		auditor := proc{t, admin.As(t, "auditor", "auditor123")}
		seen := query(t, auditor.s, `query($id: ID!) { node(id: $id) { ... on Ticket { status availableTransitions { name } workflowHistory { to } } } }`, map[string]any{"id": id})
		if got := jsonString(seen["node"]); got != `{"availableTransitions":[],"status":null,"workflowHistory":[]}` {
			t.Errorf("the auditor (status hidden) sees %s", got)
		}
		if e := auditor.refused(id, "close", "state"); strings.Contains(e.Message, "assigned") {
			t.Errorf("a refusal shows the hidden state: %s", e.Message)
		}

		// A localized label.
		d := query(t, agent1.s, `query($id: ID!) { node(id: $id) { ... on Ticket { availableTransitions(locale: "zh") { name toLabel } } } }`, map[string]any{"id": id})
		if got := jsonString(at(t, d, "node.availableTransitions")); got != `[{"name":"escalate","toLabel":"待审批"}]` {
			t.Errorf("zh transitions %s", got)
		}
	})
}

// TestProcessConcurrentTransitions runs the same transition on one record from many clients at once:
// exactly one wins, the others are told the record left the state, and one step is recorded.
func TestProcessConcurrentTransitions(t *testing.T) {
	onEachDB(t, processApp(t), func(t *testing.T, admin *apptest.Server) {
		agent1 := proc{t, admin.As(t, "agent1", "agent123")}
		boss := proc{t, admin.As(t, "boss", "manager123")}
		for round := range 3 {
			tk := agent1.createTicket(map[string]any{"title": fmt.Sprintf("race %d", round), "amount": 10,
				"resolution": "done", "assigneeID": agent1.me()})
			id := tk["id"]
			agent1.run(id, "assign")
			agent1.run(id, "resolve")
			const n = 8
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				won    int
				losses []apptest.Error
			)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := boss.s.GraphQL(t, `mutation($id: ID!) { transitionTicket(id: $id, transition: "close") { status } }`, map[string]any{"id": id})
					mu.Lock()
					defer mu.Unlock()
					if len(r.Errors) == 0 {
						won++
					} else {
						losses = append(losses, r.Errors[0])
					}
				}()
			}
			wg.Wait()
			if won != 1 || len(losses) != n-1 {
				t.Fatalf("round %d: %d won, %d lost, want exactly one winner", round, won, len(losses))
			}
			for _, e := range losses {
				if e.Extensions["code"] != "CONFLICT" || e.Extensions["check"] != "state" {
					t.Errorf("loser: %+v, want CONFLICT on the state check", e)
				}
			}
			if got := countOf(steps(t, boss.ticket(id)), "resolved>closed:close@boss"); got != 1 {
				t.Errorf("round %d: %d close steps recorded, want 1", round, got)
			}
		}
	})
}

// TestProcessAutomations checks automations on create, update, delete and transition: a `set` on the
// created record, notifications, a create that is invalid rolling the triggering change back with the
// reason, and automations that set each other off reported as a cycle with nothing saved.
func TestProcessAutomations(t *testing.T) {
	onEachDB(t, processApp(t), func(t *testing.T, admin *apptest.Server) {
		agent1 := proc{t, admin.As(t, "agent1", "agent123")}
		boss := proc{t, admin.As(t, "boss", "manager123")}

		small := agent1.createTicket(map[string]any{"title": "small", "amount": 100})
		big := agent1.createTicket(map[string]any{"title": "big", "amount": 9000})
		if small["escalated"] != false || big["escalated"] != true {
			t.Errorf("escalated: small %v, big %v; want false, true (the create automation's set)", small["escalated"], big["escalated"])
		}
		if got := boss.inbox(); countOf(got, "Big ticket") != 1 {
			t.Errorf("boss's inbox %v, want one Big ticket", got)
		}
		if got := agent1.inbox(); countOf(got, "Big ticket") != 0 {
			t.Errorf("agent1 (not a manager) got %v", got)
		}
		if n := int(num(t, query(t, boss.s, `{ unreadCount }`, nil), "unreadCount")); n != 1 {
			t.Errorf("boss unreadCount %d, want 1", n)
		}
		item := str(t, query(t, boss.s, `{ inbox { id } }`, nil), "inbox.0.id")
		query(t, boss.s, `mutation($id: ID!) { markRead(id: $id) }`, map[string]any{"id": item})
		if n := int(num(t, query(t, boss.s, `{ unreadCount }`, nil), "unreadCount")); n != 0 {
			t.Errorf("boss unreadCount after markRead %d, want 0", n)
		}
		if e := mustFail(t, agent1.s, `mutation($id: ID!) { markRead(id: $id) }`, map[string]any{"id": item}); e.Extensions["code"] != "NOT_FOUND" {
			t.Errorf("marking another user's item read: %+v, want NOT_FOUND", e)
		}

		// The update automation's create is invalid: the update is rolled back and the error says why.
		r := agent1.s.GraphQL(t, `mutation($id: ID!) { updateTicket(id: $id, input: {title: "break", amount: 7}) { title } }`, map[string]any{"id": small["id"]})
		if len(r.Errors) == 0 {
			t.Fatal("an update whose automation creates an invalid note succeeded")
		}
		e := r.Errors[0]
		if e.Extensions["code"] != "VALIDATION" || e.Extensions["field"] != "body" || e.Extensions["source"] != "automation brokenNote" ||
			!strings.Contains(e.Message, "automation brokenNote") || !strings.Contains(e.Message, "Note.body") {
			t.Errorf("rolled-back update: %+v", e)
		}
		if tk := agent1.ticket(small["id"]); tk["title"] != "small" {
			t.Errorf("title after the failed update: %v, want it unchanged", tk["title"])
		}
		if n := count(t, admin, "notes", ""); n != 0 {
			t.Errorf("%d notes after the rollback, want 0", n)
		}

		// A cycle is an error naming the chain; nothing is saved.
		r = agent1.s.GraphQL(t, `mutation { createPing(input: {name: "hello"}) { id } }`, nil)
		if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "AUTOMATION_CYCLE" ||
			!strings.Contains(r.Errors[0].Message, "pingMakesPong → pongMakesPing → pingMakesPong") {
			t.Errorf("automation cycle: %+v", r.Errors)
		}
		if p, q := count(t, admin, "pings", ""), count(t, admin, "pongs", ""); p+q != 0 {
			t.Errorf("after the cycle: %d pings, %d pongs; want none", p, q)
		}

		// Delete automations see the record as it was; the managers who could read it are told.
		query(t, boss.s, `mutation($id: ID!) { deleteTicket(id: $id) }`, map[string]any{"id": big["id"]})
		if got := boss.inbox(); countOf(got, "Ticket deleted") != 1 {
			t.Errorf("boss's inbox after a delete: %v", got)
		}
	})
}

// TestProcessDocumentChain ships goods only against a confirmed receipt: the guard reads the related
// record (record.receipt.state), so the later document cannot move before the earlier one.
func TestProcessDocumentChain(t *testing.T) {
	onEachDB(t, processApp(t), func(t *testing.T, admin *apptest.Server) {
		agent := admin.As(t, "agent1", "agent123")
		rid := str(t, query(t, agent, `mutation { createReceipt(input: {number: "R-1"}) { id } }`, nil), "createReceipt.id")
		did := str(t, query(t, agent, `mutation($r: ID!) { createDelivery(input: {number: "D-1", receiptID: $r}) { id state } }`,
			map[string]any{"r": rid}), "createDelivery.id")
		ship := `mutation($id: ID!) { transitionDelivery(id: $id, transition: "ship") { state } }`
		if e := mustFail(t, agent, ship, map[string]any{"id": did}); e.Extensions["check"] != "guard" ||
			!strings.Contains(e.Message, `record.receipt.state == "confirmed"`) {
			t.Errorf("shipping against a draft receipt: %+v, want the guard refusal", e)
		}
		if e := mustFail(t, agent, `mutation($id: ID!) { transitionReceipt(id: $id, transition: "confirm") { state } }`,
			map[string]any{"id": rid}); e.Extensions["check"] != "requires" || e.Extensions["field"] != "amount" {
			t.Errorf("confirming a receipt without an amount: %+v", e)
		}
		query(t, agent, `mutation($id: ID!) { updateReceipt(id: $id, input: {amount: 120.5}) { id } }`, map[string]any{"id": rid})
		query(t, agent, `mutation($id: ID!) { transitionReceipt(id: $id, transition: "confirm") { state } }`, map[string]any{"id": rid})
		if got := str(t, query(t, agent, ship, map[string]any{"id": did}), "transitionDelivery.state"); got != "shipped" {
			t.Errorf("delivery after the receipt was confirmed: %s", got)
		}
		// A delivery cannot exist without its receipt at all.
		if e := mustFail(t, agent, `mutation { createDelivery(input: {number: "D-2"}) { id } }`, nil); !strings.Contains(e.Message, "receipt") {
			t.Errorf("delivery without a receipt: %+v", e)
		}
	})
}
