package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
)

// fastTimers makes an app check its timers five times a second.
var fastTimers = []string{"--timer-interval", "200ms"}

// waitFor polls cond every 100 ms until it holds or timeout passes, and reports whether it held.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// assignedTicket creates a ticket of agent1, assigned to agent1, with remindAt at remind.
func assignedTicket(p proc, title string, remind time.Time) any {
	p.t.Helper()
	tk := p.createTicket(map[string]any{"title": title, "amount": 10, "assigneeID": p.me(), "remindAt": stamp(remind)})
	p.run(tk["id"], "assign")
	return tk["id"]
}

// reminders counts the reminders about a ticket in the user's inbox (a reminder is no step of the
// ticket's workflow history).
func reminders(p proc, id any) int {
	p.t.Helper()
	n := 0
	for _, it := range list(p.t, query(p.t, p.s, `{ inbox(first: 500) { title link } }`, nil), "inbox") {
		if str(p.t, it, "title") == "Ticket reminder" && str(p.t, it, "link") == fmt.Sprintf("/Ticket/%v", id) {
			n++
		}
	}
	return n
}

// TestProcessTimers checks timers at an expression: a reminder fires once, as the system, and is no step
// of the history; a timer follows its date when the record changes; leaving the state cancels it; a
// timer running a transition moves the record.
func TestProcessTimers(t *testing.T) {
	a := processApp(t)
	each := func(t *testing.T, admin *apptest.Server) {
		agent1 := proc{t, admin.As(t, "agent1", "agent123")}
		boss := proc{t, admin.As(t, "boss", "manager123")}
		now := time.Now()

		fires := assignedTicket(agent1, "fires", now.Add(time.Second))
		moved := assignedTicket(agent1, "moved", now.Add(time.Hour))
		left := assignedTicket(agent1, "left", now.Add(2*time.Second))
		agent1.update(left, map[string]any{"resolution": "quick", "amount": 5})
		agent1.run(left, "resolve") // leaves assigned before its reminder
		agent1.update(moved, map[string]any{"remindAt": stamp(now.Add(1500 * time.Millisecond))})

		if !waitFor(20*time.Second, func() bool { return reminders(agent1, fires) == 1 && reminders(agent1, moved) == 1 }) {
			t.Fatalf("reminders did not fire: %v", agent1.inbox())
		}
		time.Sleep(time.Second) // several more timer rounds
		if n, m := reminders(agent1, fires), reminders(agent1, moved); n != 1 || m != 1 {
			t.Errorf("reminders %d and %d, want each exactly once", n, m)
		}
		if got := agent1.inbox(); countOf(got, "Ticket reminder") != 2 {
			t.Errorf("agent1's inbox %v, want two reminders (the ticket that left the state has none)", got)
		}
		for _, id := range []any{fires, moved} {
			if got, want := steps(t, agent1.ticket(id)), []string{">open:(created)@agent1", "open>assigned:assign@agent1"}; !slices.Equal(got, want) {
				t.Errorf("history of a reminded ticket: %v, want %v", got, want)
			}
		}

		// The ticket that left for resolved met that state's timer at the same remindAt: it runs the close
		// transition as the system.
		if !waitFor(20*time.Second, func() bool { return boss.ticket(left)["status"] == "closed" }) {
			t.Fatalf("the close timer did not run: %v", steps(t, boss.ticket(left)))
		}
		hist := steps(t, boss.ticket(left))
		if hist[len(hist)-1] != "resolved>closed:close@system" || reminders(agent1, left) != 0 {
			t.Errorf("history %v, want no reminder and the close by the system last", hist)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		each(t, a.Start(t, apptest.SQLitePath(t), fastTimers...).As(t, "admin", "admin123"))
	})
	t.Run("postgres", func(t *testing.T) { each(t, a.Start(t, pgtest.DSN(t), fastTimers...).As(t, "admin", "admin123")) })
}

// TestProcessTimerSurvivesRestart stops the app before a reminder is due and starts it again after: the
// reminder fires once, and not again after another restart.
func TestProcessTimerSurvivesRestart(t *testing.T) {
	a := processApp(t)
	db := apptest.SQLitePath(t)
	first := a.Start(t, db, fastTimers...)
	agent1 := proc{t, first.As(t, "agent1", "agent123")}
	id := assignedTicket(agent1, "across a restart", time.Now().Add(3*time.Second))
	first.Stop()
	time.Sleep(3500 * time.Millisecond) // due while no instance runs

	for round := range 2 {
		s := a.Start(t, db, fastTimers...)
		agent1 = proc{t, s.As(t, "agent1", "agent123")}
		if !waitFor(20*time.Second, func() bool { return reminders(agent1, id) >= 1 }) {
			t.Fatalf("round %d: the reminder did not fire after the restart: %v", round, agent1.inbox())
		}
		time.Sleep(time.Second)
		if n := reminders(agent1, id); n != 1 {
			t.Errorf("round %d: %d reminders, want 1", round, n)
		}
		s.Stop()
	}
}

// TestProcessTimersTwoInstances runs two app instances on one Postgres database: every timer fires
// exactly once between them.
func TestProcessTimersTwoInstances(t *testing.T) {
	a := processApp(t)
	dsn := pgtest.DSN(t)
	one := a.Start(t, dsn, append(fastTimers, "--instance", "one")...)
	two := a.Start(t, dsn, append(fastTimers, "--instance", "two")...)
	agent1 := proc{t, one.As(t, "agent1", "agent123")}
	const n = 12
	due := time.Now().Add(2 * time.Second)
	ids := make([]any, n)
	for i := range ids {
		ids[i] = assignedTicket(agent1, fmt.Sprintf("shared %d", i), due)
	}
	viaTwo := proc{t, two.As(t, "agent1", "agent123")}
	if !waitFor(30*time.Second, func() bool { return countOf(viaTwo.inbox(), "Ticket reminder") >= n }) {
		t.Fatalf("only %d of %d reminders arrived", countOf(viaTwo.inbox(), "Ticket reminder"), n)
	}
	time.Sleep(time.Second)
	if got := countOf(agent1.inbox(), "Ticket reminder"); got != n {
		t.Errorf("%d reminders, want exactly %d", got, n)
	}
	for _, id := range ids {
		if k := reminders(agent1, id); k != 1 {
			t.Errorf("ticket %v: %d reminders, want 1", id, k)
		}
	}
}
