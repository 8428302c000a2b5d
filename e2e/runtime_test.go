package e2e

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/audit"
	"github.com/crmgen/crmgen/platform/database"
)

// runtimeApp is the app of testdata/runtime: the runtime's rules on every write path (see the model's
// header).
func runtimeApp(t *testing.T) *apptest.App { return built(t, "e2e/testdata/runtime", "runtime") }

const billFields = `id number amount paidAmount outstanding vendorCity size status
	workflowHistory { from to transition user }
	history { op username changes { field old new } }`

// billByNumber reads the bill numbered number as s sees it.
func billByNumber(t *testing.T, s *apptest.Server, number string) map[string]any {
	t.Helper()
	d := query(t, s, `query($n: String!) { bills(first: 5, where: {number: $n}) { edges { node { `+billFields+` } } } }`, map[string]any{"n": number})
	edges := list(t, d, "bills.edges")
	if len(edges) != 1 {
		t.Fatalf("bill %s: %d found", number, len(edges))
	}
	return at(t, edges[0], "node").(map[string]any)
}

// idOf returns the id of the one record of a connection query field matching where, as s sees it.
func idOf(t *testing.T, s *apptest.Server, field, where string) string {
	t.Helper()
	d := query(t, s, "{ "+field+"(where: "+where+") { edges { node { id } } } }", nil)
	return str(t, d, field+".edges.0.node.id")
}

// text renders a JSON value for comparison: numbers without exponents (ids are large), null as "null".
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return jsonString(v)
}

// TestStoredComputedFields checks that a stored computed field is computed on every write of its record:
// data loading, create and update through the API (also over a related record, and cleared when an input
// is cleared), a transition's `set` and an automation's `set`.
func TestStoredComputedFields(t *testing.T) {
	onEachDB(t, runtimeApp(t), func(t *testing.T, admin *apptest.Server) {
		clerk := admin.As(t, "clerk1", "clerk123")
		want := func(what string, b map[string]any, outstanding, city, size any) {
			t.Helper()
			got := []string{text(b["outstanding"]), text(b["vendorCity"]), text(b["size"])}
			if w := []string{text(outstanding), text(city), text(size)}; !slices.Equal(got, w) {
				t.Errorf("%s: outstanding, vendorCity, size = %v, want %v", what, got, w)
			}
		}
		want("seeded B-1", billByNumber(t, admin, "B-1"), 70.0, "Hangzhou", "small")
		want("seeded B-2", billByNumber(t, admin, "B-2"), 0.0, nil, "small")

		c := at(t, query(t, clerk, `mutation { createBill(input: {number: "C-1", amount: 250.5, paidAmount: 50}) { `+billFields+` } }`, nil),
			"createBill").(map[string]any)
		want("created", c, 200.5, nil, "small")
		update := func(input map[string]any) map[string]any {
			t.Helper()
			d := query(t, clerk, `mutation($id: ID!, $in: UpdateBillInput!) { updateBill(id: $id, input: $in) { `+billFields+` } }`,
				map[string]any{"id": c["id"], "in": input})
			return at(t, d, "updateBill").(map[string]any)
		}
		vendor := idOf(t, admin, "vendors", `{name: "Acme"}`)
		want("paid in part, with a vendor", update(map[string]any{"paidAmount": 100, "vendorID": vendor}), 150.5, "Hangzhou", "small")
		want("amount raised", update(map[string]any{"amount": 1250.5}), 1150.5, "Hangzhou", "large")
		want("vendor cleared", update(map[string]any{"clearVendor": true}), 1150.5, nil, "large")
		want("amount cleared", update(map[string]any{"clearAmount": true}), nil, nil, nil)
		want("amount set again", update(map[string]any{"amount": 400}), 300.0, nil, "small")

		// The transition pay sets paidAmount to the amount.
		d := query(t, clerk, `mutation($id: ID!) { transitionBill(id: $id, transition: "pay") { `+billFields+` } }`, map[string]any{"id": c["id"]})
		paid := at(t, d, "transitionBill").(map[string]any)
		want("paid by the transition", paid, 0.0, nil, "small")
		if paid["status"] != "paid" {
			t.Errorf("status after pay: %v", paid["status"])
		}
		// The automation deposit sets paidAmount of a large bill to a tenth of it.
		big := at(t, query(t, clerk, `mutation { createBill(input: {number: "C-2", amount: 2000}) { id } }`, nil), "createBill.id")
		b := billByNumber(t, clerk, "C-2")
		want("deposit by the automation", b, 1800.0, nil, "large")
		if text(b["paidAmount"]) != "200" || b["id"] != big {
			t.Errorf("automation's set: paidAmount %v, want 200", b["paidAmount"])
		}
		// The history shows the computed value changing with its inputs.
		hist := list(t, paid, "history")
		last := at(t, hist[len(hist)-1], "changes")
		if s := jsonString(last); !strings.Contains(s, `{"field":"outstanding","new":0,"old":300}`) {
			t.Errorf("history of the transition's update: %s, want outstanding 300 → 0", s)
		}
	})
}

// TestTransitionRefusalOfUnreadableAndMissingRecords runs a transition on a record the user may not read
// and on an id no record has: the answers are the same, so they tell nothing about the other record.
func TestTransitionRefusalOfUnreadableAndMissingRecords(t *testing.T) {
	onEachDB(t, runtimeApp(t), func(t *testing.T, admin *apptest.Server) {
		clerk1, clerk2 := admin.As(t, "clerk1", "clerk123"), admin.As(t, "clerk2", "clerk123")
		id := str(t, query(t, clerk1, `mutation { createBill(input: {number: "T-1", amount: 5}) { id } }`, nil), "createBill.id")
		n, err := strconv.Atoi(id)
		if err != nil {
			t.Fatal(err)
		}
		missing := strconv.Itoa(n + 1000)
		refusal := func(s *apptest.Server, id string) (string, apptest.Error) {
			t.Helper()
			e := mustFail(t, s, `mutation($id: ID!) { transitionBill(id: $id, transition: "pay") { id } }`, map[string]any{"id": id})
			return jsonString(map[string]any{"message": e.Message, "extensions": e.Extensions}), e
		}
		unreadable, e := refusal(clerk2, id)
		gone, _ := refusal(clerk2, missing)
		goneToOwner, _ := refusal(clerk1, missing)
		if unreadable != gone || gone != goneToOwner {
			t.Errorf("refusals differ:\n unreadable record: %s\n missing record:    %s\n missing, to the owner: %s", unreadable, gone, goneToOwner)
		}
		if e.Extensions["code"] != "NOT_FOUND" || e.Extensions["check"] != "read" || strings.Contains(e.Message, id) {
			t.Errorf("refusal %s, want NOT_FOUND on the read check, without the id", unreadable)
		}
	})
}

// TestAutomationCycleCountsOnlyAutomationsThatRun creates a task whose automation creates a follow-up
// task: the automation's `when` does not hold for the follow-up, so it does not run again and there is
// no cycle.
func TestAutomationCycleCountsOnlyAutomationsThatRun(t *testing.T) {
	onEachDB(t, runtimeApp(t), func(t *testing.T, admin *apptest.Server) {
		clerk := admin.As(t, "clerk1", "clerk123")
		r := clerk.GraphQL(t, `mutation { createTask(input: {name: "Checkup"}) { id } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("creating a task whose automation creates a follow-up: %+v", r.Errors)
		}
		d := query(t, admin, `{ tasks(orderBy: [{field: NAME}]) { edges { node { name kind } } } }`, nil)
		var got []string
		for _, e := range list(t, d, "tasks.edges") {
			got = append(got, str(t, e, "node.name")+"/"+str(t, e, "node.kind"))
		}
		if want := []string{"Checkup/visit", "Follow up: Checkup/followUp"}; !slices.Equal(got, want) {
			t.Errorf("tasks %v, want %v", got, want)
		}
	})
}

// TestUniqueViolationsNameTheirFields writes values another record holds already: a unique field is named,
// a composite unique index names all its fields, and nothing else about the other record (which this user
// may not read) is told: not its id, not its other values.
func TestUniqueViolationsNameTheirFields(t *testing.T) {
	onEachDB(t, runtimeApp(t), func(t *testing.T, admin *apptest.Server) {
		clerk2 := admin.As(t, "clerk2", "clerk123")
		other := idOf(t, admin, "patients", `{name: "Zhang San"}`)
		before := count(t, admin, "patients", "")
		fields := func(e apptest.Error) []string {
			var out []string
			for _, f := range e.Extensions["fields"].([]any) {
				out = append(out, str(t, f, "field")+":"+str(t, f, "rule"))
			}
			return out
		}
		leaks := func(e apptest.Error, secrets ...string) {
			t.Helper()
			s := jsonString(e)
			for _, x := range append(secrets, other, "Key (") {
				if strings.Contains(s, x) {
					t.Errorf("the refusal tells %q about the other record: %s", x, s)
				}
			}
		}

		e := mustFail(t, clerk2, `mutation { createPatient(input: {name: "Li Si", idCard: "110101199003078888"}) { id } }`, nil)
		if got := fields(e); e.Extensions["code"] != "VALIDATION" || !slices.Equal(got, []string{"idCard:unique"}) || !strings.Contains(e.Message, "idCard") {
			t.Errorf("duplicate idCard: %+v (fields %v), want idCard named as unique", e, got)
		}
		leaks(e, "Zhang San", "13900000001")

		e = mustFail(t, clerk2, `mutation { createPatient(input: {name: "Zhang San", phone: "13900000001"}) { id } }`, nil)
		if got := fields(e); !slices.Equal(got, []string{"name:unique", "phone:unique"}) ||
			!strings.Contains(e.Message, "name") || !strings.Contains(e.Message, "phone") {
			t.Errorf("duplicate name and phone: %+v (fields %v), want both named as unique together", e, got)
		}
		leaks(e, "110101199003078888")

		if n := count(t, admin, "patients", ""); n != before {
			t.Errorf("%d patients after the refusals, want %d", n, before)
		}
	})
}

// TestAuditOfDeletes deletes records for good: the deleted record's history keeps its last values, and
// each record that referred to it through an onDelete: setNull relation records the null, by the user
// who deleted, with its stored computed fields recomputed.
func TestAuditOfDeletes(t *testing.T) {
	onEachDSN(t, runtimeApp(t), func(t *testing.T, admin *apptest.Server, dsn string) {
		boss := admin.As(t, "boss", "manager123")
		vendor := idOf(t, admin, "vendors", `{name: "Acme"}`)
		team := idOf(t, admin, "teams", `{name: "North"}`)
		patient := idOf(t, admin, "patients", `{name: "Zhang San"}`)
		query(t, boss, `mutation($id: ID!) { deleteVendor(id: $id) }`, map[string]any{"id": vendor})
		query(t, boss, `mutation($id: ID!) { deleteTeam(id: $id) }`, map[string]any{"id": team})

		lastChange := func(what string, hist []any, field, old string) {
			t.Helper()
			if len(hist) == 0 {
				t.Fatalf("%s: no history", what)
			}
			e := hist[len(hist)-1]
			var got []string
			for _, c := range list(t, e, "changes") {
				got = append(got, str(t, c, "field")+":"+text(at(t, c, "old"))+"→"+text(at(t, c, "new")))
			}
			if at(t, e, "op") != "update" || at(t, e, "username") != "boss" || !slices.Contains(got, field+":"+old+"→null") {
				t.Errorf("%s: last history entry %s, want an update by boss with %s: %s → null", what, jsonString(e), field, old)
			}
		}
		b := billByNumber(t, admin, "B-1")
		lastChange("bill B-1", list(t, b, "history"), "vendor", vendor)
		if b["vendorCity"] != nil {
			t.Errorf("bill B-1's vendorCity %v after its vendor was deleted, want null", b["vendorCity"])
		}
		p := query(t, admin, `query($id: ID!) { node(id: $id) { ... on Patient { history { op username changes { field old new } } } } }`,
			map[string]any{"id": patient})
		lastChange("patient", list(t, p, "node.history"), "department", team)

		// The deleted vendor's own history is in the database only: no record is left to ask.
		db, err := database.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		id, _ := strconv.Atoi(vendor)
		entries, err := audit.History(context.Background(), db.SQL, db.Dialect, "Vendor", id)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Fatal("the deleted vendor has no history")
		}
		last := entries[len(entries)-1]
		var got []string
		for _, c := range last.Changes {
			got = append(got, c.Field+":"+text(c.Old)+"→"+text(c.New))
		}
		if last.Op != audit.OpDelete || last.Username != "boss" || !slices.Contains(got, "name:Acme→null") || !slices.Contains(got, "city:Hangzhou→null") {
			t.Errorf("the vendor's delete entry: %s by %s with %v, want its name and city as old values", last.Op, last.Username, got)
		}
	})
}

// TestTimerStepsAndSeededHistory lets timers fire: one that only notifies and one whose transition its
// guard refuses leave the workflow history as it was, a timer transition that runs is a step; records
// loaded with the model's data are seeded (not created) in the workflow history, the audit history and
// the admin's timeline and history, in both languages.
func TestTimerStepsAndSeededHistory(t *testing.T) {
	a := runtimeApp(t)
	each := func(t *testing.T, admin *apptest.Server) {
		clerk, boss := proc{t, admin.As(t, "clerk1", "clerk123")}, proc{t, admin.As(t, "boss", "manager123")}
		due := stamp(time.Now().Add(time.Second))
		create := func(input string) string {
			return str(t, query(t, clerk.s, `mutation($due: Time) { createBill(input: {dueAt: $due, `+input+`}) { id } }`, map[string]any{"due": due}),
				"createBill.id")
		}
		unpaid := create(`number: "D-1", amount: 100`)
		settled := create(`number: "D-2", amount: 50, paidAmount: 50`)
		reminded := func() bool {
			for _, it := range list(t, query(t, boss.s, `{ inbox(first: 50) { title link } }`, nil), "inbox") {
				if str(t, it, "title") == "Bill due" && strings.HasSuffix(str(t, it, "link"), "/"+unpaid) {
					return true
				}
			}
			return false
		}
		closed := func() bool { return billByNumber(t, boss.s, "D-2")["status"] == "closed" }
		if !waitFor(20*time.Second, func() bool { return reminded() && closed() }) {
			t.Fatalf("the timers did not fire: reminded %v, D-2 closed %v", reminded(), closed())
		}
		time.Sleep(time.Second) // several more timer rounds
		if got, want := steps(t, billByNumber(t, boss.s, "D-1")), []string{">open:(created)@clerk1"}; !slices.Equal(got, want) {
			t.Errorf("D-1 (reminded, settle refused) history %v, want %v", got, want)
		}
		if got, want := steps(t, billByNumber(t, boss.s, "D-2")), []string{">open:(created)@clerk1", "open>closed:settle@system"}; !slices.Equal(got, want) {
			t.Errorf("D-2 (settled by its timer, id %s) history %v, want %v", settled, got, want)
		}

		for number, state := range map[string]string{"B-1": "open", "B-2": "paid"} {
			b := billByNumber(t, admin, number)
			if got, want := steps(t, b), []string{">" + state + ":(seeded)@system"}; !slices.Equal(got, want) {
				t.Errorf("seeded %s: workflow history %v, want %v", number, got, want)
			}
			if h := list(t, b, "history"); len(h) == 0 || at(t, h[0], "op") != "seed" {
				t.Errorf("seeded %s: audit history %s, want it to start with a seed", number, jsonString(h))
			}
		}
		id := str(t, billByNumber(t, admin, "B-1"), "id")
		for _, l := range []struct{ lang, seeded, created string }{{"zh", "初始化", "创建"}, {"en", "seeded", "created"}} {
			code, body := fetchPage(t, admin, "/e/Bill/"+id, l.lang)
			if code != http.StatusOK {
				t.Fatalf("%s: detail of B-1: %d", l.lang, code)
			}
			for _, part := range []string{"timeline", "history"} {
				s := between(body, `id="`+part+`"`, "</ol>")
				if !strings.Contains(s, l.seeded) || strings.Contains(s, l.created) {
					t.Errorf("%s: the %s of a seeded record says %q, want %q and not %q", l.lang, part, s, l.seeded, l.created)
				}
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		each(t, a.Start(t, apptest.SQLitePath(t), fastTimers...).As(t, "admin", "admin123"))
	})
	t.Run("postgres", func(t *testing.T) { each(t, a.Start(t, pgtest.DSN(t), fastTimers...).As(t, "admin", "admin123")) })
}

// TestAdminTeamFollowsRoles signs in as a clerk, whose roles grant nothing on Team while the manager's do:
// Team is not on the clerk's home and its screens answer 403, as for any entity the user may not read,
// while the manager sees it. User, which no role mentions, stays readable by everyone.
func TestAdminTeamFollowsRoles(t *testing.T) {
	onEachDB(t, runtimeApp(t), func(t *testing.T, admin *apptest.Server) {
		clerk, boss := admin.As(t, "clerk1", "clerk123"), admin.As(t, "boss", "manager123")
		_, home := fetchPage(t, clerk, "/", "en")
		if strings.Contains(home, `data-entity="Team"`) || !strings.Contains(home, `data-entity="User"`) {
			t.Errorf("the clerk's home lists Team or not User:\n%s", between(home, "<main", "</main>"))
		}
		team := idOf(t, admin, "teams", `{name: "North"}`)
		for _, path := range []string{"/e/Team", "/e/Team/new", "/e/Team/tree", "/e/Team/" + team, "/e/Team/" + team + "/edit"} {
			if code, _ := fetchPage(t, clerk, path, "en"); code != http.StatusForbidden {
				t.Errorf("the clerk opens %s: %d, want 403", path, code)
			}
		}
		_, home = fetchPage(t, boss, "/", "en")
		if !strings.Contains(home, `data-entity="Team"`) {
			t.Errorf("the manager's home does not list Team")
		}
		if code, _ := fetchPage(t, boss, "/e/Team", "en"); code != http.StatusOK {
			t.Errorf("the manager opens the list of teams: %d, want 200", code)
		}
	})
}

// fetchPage GETs a path of the app as s's user, in lang (Accept-Language; "" for none), and returns the
// status and body.
func fetchPage(t *testing.T, s *apptest.Server, path, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// between returns the part of page from the first from up to the next to after it, "" when from is
// absent: enough to look for words in one section of a page.
func between(page, from, to string) string {
	start := strings.Index(page, from)
	if start < 0 {
		return ""
	}
	rest := page[start:]
	if end := strings.Index(rest, to); end >= 0 {
		return rest[:end]
	}
	return rest
}
