package report_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/deal"
	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/report"
)

// The fixture's data (internal/fixture/model/fixture.yaml), by hand:
//   Accounts: Acme (gold, 1000, East, rep1), Beta (silver, 500, East, mgr), Gamma (bronze, 2000, West, rep2),
//             Delta (bronze, no limit, West, rep2).
//   Deals:    Acme renewal 300 (Acme, rep1), Beta pilot 0 (Beta, mgr), Gamma rollout 900 (Gamma, rep2),
//             Cross sale 50 (Gamma, rep1). All open.
// Expected numbers below are computed from that, not from a run.

func run(t *testing.T, env *fixture.Env, ctx context.Context, name string, params map[string]any) *report.Result {
	t.Helper()
	res, err := env.Reports.Run(ctx, name, params, "en")
	if err != nil {
		t.Fatalf("report %s: %v", name, err)
	}
	return res
}

// byKey indexes rows by the string form of one column (a record cell by its title).
func byKey(res *report.Result, col string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, row := range res.Data {
		k := fmt.Sprint(row[col])
		if m, ok := row[col].(map[string]any); ok {
			k = fmt.Sprint(m["title"])
		}
		out[k] = row
	}
	return out
}

func TestGroupByCountsAndMeasures(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		res := run(t, env, env.As(t, "admin"), "dealsByAccount", nil)
		want := map[string][4]float64{ // count, sum, avg, max
			"Acme": {1, 300, 300, 300}, "Beta": {1, 0, 0, 0}, "Gamma": {2, 950, 475, 900},
		}
		got := byKey(res, "account")
		if len(got) != len(want) {
			t.Fatalf("groups %v, want %v", res.Data, want)
		}
		for k, w := range want {
			row := got[k]
			for i, col := range []string{"count", "sum_amount", "avg_amount", "max_amount"} {
				if fmt.Sprint(row[col]) != fmt.Sprint(w[i]) {
					t.Errorf("%s %s = %v, want %v", k, col, row[col], w[i])
				}
			}
		}
		if cols := res.Columns; len(cols) != 5 || cols[0].Type != "record" || cols[1].Name != "count" || cols[2].Name != "sum_amount" {
			t.Errorf("columns %+v", cols)
		}

		// rep1 reads their own deals only: Acme renewal and Cross sale, whose account (Gamma) they may
		// not read, so it is titled by label and id.
		res = run(t, env, env.As(t, "rep1"), "dealsByAccount", nil)
		got = byKey(res, "account")
		if len(got) != 2 || fmt.Sprint(got["Acme"]["sum_amount"]) != "300" {
			t.Fatalf("rep1 groups %v", res.Data)
		}
		var other map[string]any
		for k, row := range got {
			if k != "Acme" {
				other = row
				if !strings.HasPrefix(k, "Account #") {
					t.Errorf("rep1 sees the title %q of an account they may not read", k)
				}
			}
		}
		if fmt.Sprint(other["sum_amount"]) != "50" || fmt.Sprint(other["count"]) != "1" {
			t.Errorf("rep1's other group %v, want Cross sale's 50", other)
		}

		// The manager of East reads East's accounts: Acme (gold, 1000) and Beta (silver, 500).
		res = run(t, env, env.As(t, "mgr"), "creditByTier", nil)
		got = byKey(res, "tier")
		if len(got) != 2 || fmt.Sprint(got["gold"]["sum_creditLimit"]) != "1000" || fmt.Sprint(got["silver"]["count"]) != "1" {
			t.Errorf("mgr creditByTier %v", res.Data)
		}
	})
}

// TestAggregatesAgreeWithLists: for every user, a report counts exactly the records the user's own list
// holds (the same enforcement point decides both).
func TestAggregatesAgreeWithLists(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		for _, user := range []string{"admin", "mgr", "rep1", "rep2", "view", "mix"} {
			ctx := env.As(t, user)
			deals, err := env.Client.Deal.Query().All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			sums := map[string]float64{}
			for _, d := range deals {
				k := fmt.Sprint(d.AccountID)
				want[k]++
				if d.Amount != nil {
					sums[k] += *d.Amount
				}
			}
			res := run(t, env, ctx, "dealsByAccount", nil)
			got := map[string]int{}
			for _, row := range res.Data {
				k := fmt.Sprint(row["account"].(map[string]any)["id"])
				got[k] = row["count"].(int)
				if fmt.Sprint(row["sum_amount"]) != fmt.Sprint(sums[k]) {
					t.Errorf("%s: account %s sum %v, list says %v", user, k, row["sum_amount"], sums[k])
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: report counts %v, list counts %v", user, got, want)
			}
		}
	})
}

func TestRefusesFieldsTheReaderMayNotSee(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		for _, c := range []struct{ user, report, field string }{
			{"rep1", "marginByStage", "margin"},     // hidden from reps
			{"view", "creditByTier", "creditLimit"}, // hidden from viewers
			{"rep1", "byTaxNo", "taxNo"},            // sensitive, not visible to reps
			{"view", "byTaxNo", "taxNo"},
		} {
			_, err := env.Reports.Run(env.As(t, c.user), c.report, nil, "zh")
			var re *report.Error
			if !errors.As(err, &re) || re.Code != "FORBIDDEN_FIELD" || re.Field != c.field {
				t.Errorf("%s %s: %v, want FORBIDDEN_FIELD on %s", c.user, c.report, err, c.field)
				continue
			}
			if !strings.Contains(re.Msg, "报表") {
				t.Errorf("%s %s: message not in Chinese: %s", c.user, c.report, re.Msg)
			}
		}
		// Those who may see the field run the report.
		for _, c := range []struct{ user, report string }{{"mgr", "byTaxNo"}, {"mgr", "marginByStage"}, {"admin", "creditByTier"}} {
			if _, err := env.Reports.Run(env.As(t, c.user), c.report, nil, "en"); err != nil {
				t.Errorf("%s %s: %v", c.user, c.report, err)
			}
		}
		_, err := env.Reports.Run(env.As(t, "admin"), "noSuchReport", nil, "en")
		var re *report.Error
		if !errors.As(err, &re) || re.Code != "NOT_FOUND" {
			t.Errorf("unknown report: %v", err)
		}
		// Someone signed out runs nothing.
		if _, err := env.Reports.Run(env.Context(context.Background()), "dealsByAccount", nil, "en"); !errors.As(err, &re) || re.Code != "NOT_FOUND" {
			t.Errorf("signed out: %v", err)
		}
	})
}

func TestParamsWhereAndTimeBuckets(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		ctx := env.As(t, "admin")
		month := time.Now().UTC().Format("2006-01") + "-01"
		res := run(t, env, ctx, "bigDeals", map[string]any{"min": 100})
		if len(res.Data) != 1 || res.Data[0]["createdAt"] != month || fmt.Sprint(res.Data[0]["count"]) != "2" ||
			fmt.Sprint(res.Data[0]["sum_amount"]) != "1200" {
			t.Errorf("bigDeals min 100: %v, want one row %s with 2 deals, 1200", res.Data, month)
		}
		// A parameter left empty drops its comparison.
		res = run(t, env, ctx, "bigDeals", nil)
		if len(res.Data) != 1 || fmt.Sprint(res.Data[0]["count"]) != "4" || fmt.Sprint(res.Data[0]["sum_amount"]) != "1250" {
			t.Errorf("bigDeals without min: %v, want 4 deals, 1250", res.Data)
		}
		for _, bad := range []map[string]any{{"min": "lots"}, {"max": 5}} {
			_, err := env.Reports.Run(ctx, "bigDeals", bad, "en")
			var re *report.Error
			if !errors.As(err, &re) || re.Code != "VALIDATION" {
				t.Errorf("params %v: %v, want VALIDATION", bad, err)
			}
		}
	})
}

func TestFunnelFollowsTransitionsAndTheCacheIsDropped(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		ctx := env.As(t, "mgr")
		counts := func() string {
			res := run(t, env, ctx, "dealStages", nil)
			var parts []string
			for _, row := range res.Data {
				parts = append(parts, fmt.Sprintf("%v=%v/%v", row["state"], row["count"], row["rate"]))
			}
			return strings.Join(parts, " ")
		}
		// mgr (East) reads the deals owned in East: Acme renewal, Beta pilot, Cross sale.
		if got := counts(); got != "open=3/1 won=0/0" {
			t.Fatalf("funnel %s, want open=3/1 won=0/0", got)
		}
		d, err := env.Client.Deal.Query().Where(deal.Title("Acme renewal")).Only(env.System())
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Engine.Transition(ctx, "Deal", d.ID, "win", ""); err != nil {
			t.Fatal(err)
		}
		if got := counts(); got != "open=3/1 won=1/0.333333" {
			t.Errorf("funnel after a win %s, want open=3/1 won=1/0.333333", got)
		}
	})
}

func TestRecencyAndRFM(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		env.Reports.Now = func() time.Time { return time.Now().Add(40 * 24 * time.Hour) }
		res := run(t, env, env.As(t, "admin"), "accountActivity", nil)
		status := map[string]any{}
		for k, row := range byKey(res, "record") {
			status[k] = row["status"]
		}
		if want := "map[Acme:dormant Beta:dormant Delta:none Gamma:dormant]"; fmt.Sprint(status) != want {
			t.Errorf("recency %v, want %s", status, want)
		}
		// rfm: equal recency (r 1 for all); frequency 1, 1, 2; amounts 300, 0, 950. Delta has no deal.
		res = run(t, env, env.As(t, "admin"), "accountValue", nil)
		got := map[string]string{}
		for k, row := range byKey(res, "record") {
			got[k] = fmt.Sprintf("%v%v%v %v", row["r"], row["f"], row["m"], row["segment"])
		}
		if want := "map[Acme:112 lost Beta:111 lost Gamma:144 atRisk]"; fmt.Sprint(got) != want {
			t.Errorf("rfm %v, want %s", got, want)
		}
		// rep2 reads Gamma and Delta, and of Gamma's deals only their own.
		res = run(t, env, env.As(t, "rep2"), "accountActivity", nil)
		if len(res.Data) != 2 {
			t.Errorf("rep2 recency rows %v, want Gamma and Delta", res.Data)
		}
	})
}

func TestDecisionTree(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		res := run(t, env, env.As(t, "admin"), "tierTree", nil)
		// Region East holds gold and silver (a tie: gold, half right); West holds bronze twice.
		var got []string
		for _, row := range res.Data {
			got = append(got, fmt.Sprintf("%v→%v %v %v", row["rule"], row["prediction"], row["samples"], row["accuracy"]))
		}
		if len(got) != 2 || !strings.Contains(got[0], "is East→gold 2 0.5") || !strings.Contains(got[1], "is not East→bronze 2 1") {
			t.Errorf("tree leaves %q", got)
		}
		if res.Accuracy != 0.75 {
			t.Errorf("accuracy %v, want 0.75", res.Accuracy)
		}
	})
}

func TestDashboardsByRole(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		for user, want := range map[string]int{"mgr": 1, "admin": 1, "rep1": 0, "mix": 1} {
			if got := len(env.Reports.Dashboards(env.As(t, user))); got != want {
				t.Errorf("%s sees %d dashboards, want %d", user, got, want)
			}
		}
	})
}

// TestAgeBands ages the four deals (all created when the fixture loads) at four clocks: before they were
// created, the same day, ten days on and forty days on.
func TestAgeBands(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		for _, c := range []struct {
			shift time.Duration
			lang  string
			band  string
		}{
			{-48 * time.Hour, "en", "not yet due"},
			{0, "en", "within 1 day"},
			{10 * 24 * time.Hour, "en", "1–30 days"},
			{40 * 24 * time.Hour, "en", "over 30 days"},
			{40 * 24 * time.Hour, "zh", "30天以上"},
		} {
			env.Reports.Now = func() time.Time { return time.Now().Add(c.shift) }
			res, err := env.Reports.Run(env.As(t, "admin"), "dealAge", nil, c.lang)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Data) != 1 || res.Data[0]["createdAt"] != c.band || fmt.Sprint(res.Data[0]["count"]) != "4" ||
				fmt.Sprint(res.Data[0]["sum_amount"]) != "1250" {
				t.Errorf("dealAge %v on: %v, want one band %q with 4 deals, 1250", c.shift, res.Data, c.band)
			}
			// rep2 reads Gamma rollout (900) and none of rep1's deals.
			res, err = env.Reports.Run(env.As(t, "rep2"), "dealAge", nil, c.lang)
			if err != nil || len(res.Data) != 1 || fmt.Sprint(res.Data[0]["sum_amount"]) != "900" {
				t.Errorf("dealAge as rep2: %v %v, want one band of 900", res, err)
			}
		}
	})
}

// TestFunnelStatesPassed checks which funnel states a record in a state off the funnel must have passed:
// the states on every path from the initial state to its own.
func TestFunnelStatesPassed(t *testing.T) {
	tr := func(to string, from ...string) *metamodel.Transition {
		return &metamodel.Transition{From: from, To: to}
	}
	states := func(names ...string) []*metamodel.State {
		var out []*metamodel.State
		for _, n := range names {
			out = append(out, &metamodel.State{Name: n})
		}
		return out
	}
	sales := &metamodel.Workflow{Initial: "lead", States: states("lead", "qualified", "proposal", "won", "lost", "orphan"),
		Transitions: []*metamodel.Transition{tr("qualified", "lead"), tr("proposal", "qualified"), tr("won", "proposal"),
			tr("lost", "lead", "qualified", "proposal"), tr("qualified", "lost")}}
	approval := &metamodel.Workflow{Initial: "draft", States: states("draft", "submitted", "approved", "rejected"),
		Transitions: []*metamodel.Transition{tr("submitted", "draft"), tr("approved", "submitted"), tr("rejected", "submitted")}}
	for _, c := range []struct {
		wf    *metamodel.Workflow
		state string
		want  string
	}{
		{sales, "lost", "lead"},                   // lost from any open stage: only lead is certain
		{sales, "won", "lead qualified proposal"}, // one way in
		{sales, "qualified", "lead"},              // reopened from lost, or qualified from lead
		{sales, "lead", ""},
		{sales, "orphan", ""}, // no way in: nothing is known
		{approval, "rejected", "draft submitted"},
	} {
		if got := strings.Join(report.MustPass(c.wf)[c.state], " "); got != c.want {
			t.Errorf("%s: passed %q, want %q", c.state, got, c.want)
		}
	}
}
