package e2e

import (
	"fmt"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
)

// The process benchmarks measure what a workflow costs over a plain write, through GraphQL against the
// running process app (bench/process.sh records them in BENCHMARKS.md). Each pair is measured in the same
// run: update vs transition, create vs create that sets off an automation (set + notify).

func benchServer(b *testing.B, db string) *apptest.Server {
	b.Helper()
	a := built(b, "e2e/testdata/process", "process")
	return a.Start(b, dbFor(b, db), noTimers).As(b, "admin", "admin123")
}

func dbFor(b *testing.B, db string) string {
	if db == "postgres" {
		return pgtest.DSN(b)
	}
	return apptest.SQLitePath(b)
}

func mustOK(b *testing.B, r *apptest.Response) {
	if len(r.Errors) > 0 {
		b.Fatalf("%+v", r.Errors)
	}
}

func benchTicket(b *testing.B, s *apptest.Server) string {
	var d struct{ CreateTicket struct{ ID string } }
	s.GraphQL(b, `mutation { createTicket(input: {title: "bench", amount: 10, resolution: "r"}) { id } }`, nil).Decode(b, &d)
	var me struct{ Me struct{ ID string } }
	s.GraphQL(b, `{ me { id } }`, nil).Decode(b, &me)
	mustOK(b, s.GraphQL(b, `mutation($id: ID!, $u: ID!) { updateTicket(id: $id, input: {assigneeID: $u}) { id } }`, map[string]any{"id": d.CreateTicket.ID, "u": me.Me.ID}))
	mustOK(b, s.GraphQL(b, `mutation($id: ID!) { transitionTicket(id: $id, transition: "assign") { id } }`, map[string]any{"id": d.CreateTicket.ID}))
	return d.CreateTicket.ID
}

// statements reports the SQL statements per operation of a sub-benchmark alongside its time.
func statements(b *testing.B, s *apptest.Server, run func(b *testing.B)) func(b *testing.B) {
	return func(b *testing.B) {
		before := s.Statements(b)
		run(b)
		b.ReportMetric(float64(s.Statements(b)-before)/float64(b.N), "stmts/op")
	}
}

func BenchmarkProcess(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			s := benchServer(b, db)
			id := benchTicket(b, s)
			b.Run("update", statements(b, s, func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					mustOK(b, s.GraphQL(b, `mutation($id: ID!, $t: String!) { updateTicket(id: $id, input: {title: $t}) { id status } }`,
						map[string]any{"id": id, "t": fmt.Sprint("bench ", i)}))
				}
			}))
			b.Run("transition", statements(b, s, func(b *testing.B) {
				// assigned → resolved → closed → assigned, round and round (the admin holds every role)
				cycle := []string{"resolve", "close", "reopen"}
				for i := 0; b.Loop(); i++ {
					mustOK(b, s.GraphQL(b, `mutation($id: ID!, $t: String!) { transitionTicket(id: $id, transition: $t, comment: "b") { id status } }`,
						map[string]any{"id": id, "t": cycle[i%3]}))
				}
			}))
			b.Run("create", statements(b, s, func(b *testing.B) {
				for b.Loop() {
					mustOK(b, s.GraphQL(b, `mutation { createTicket(input: {title: "small", amount: 10}) { id } }`, nil))
				}
			}))
			b.Run("create+automation", statements(b, s, func(b *testing.B) {
				for b.Loop() {
					mustOK(b, s.GraphQL(b, `mutation { createTicket(input: {title: "big", amount: 9000}) { id escalated } }`, nil))
				}
			}))
		})
	}
}
