package e2e

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// The tobacco example's analysis (examples/tobacco/reports.yaml) on its demo data, on SQLite and Postgres.
// Every expected number is worked out here from the records the API lists to the same reader — orders,
// lines, returns, retailers — by plain counting (the basket rules by enumerating every pair and triple, not
// by Apriori), so a report that counts a row twice, drops one, buckets a day into the wrong month or reads
// rows its reader may not read disagrees with its own list.

func tobacco(t *testing.T) *apptest.App { return built(t, "examples/tobacco", "tobacco") }

func TestExampleTobacco(t *testing.T) {
	a := tobacco(t)
	m := a.Model
	runSteps(t, a, []step{
		{"DemoData", func(t *testing.T, s *apptest.Server) {
			checkDemoData(t, s, m, []string{"Feedback", "Order", "OrderLine", "Retailer", "ReturnRecord", "Task"})
		}},
		{"SalesByMonth", func(t *testing.T, s *apptest.Server) {
			tobaccoSalesByMonth(t, s)
			tobaccoSalesByMonth(t, s.As(t, "wangfang", "cm123")) // a customer manager: her own retailers' orders
		}},
		{"PriceTypesAndReturns", func(t *testing.T, s *apptest.Server) { tobaccoMixAndReturns(t, s) }},
		{"BasketRules", func(t *testing.T, s *apptest.Server) { tobaccoBasket(t, s) }},
		{"ValueMatrixAndActivity", func(t *testing.T, s *apptest.Server) {
			tobaccoCustomers(t, s)
			tobaccoCustomers(t, s.As(t, "liqiang", "manager123")) // a district manager: the east office's
		}},
		{"DeclineDrivers", func(t *testing.T, s *apptest.Server) { tobaccoTree(t, s) }},
		{"Automations", func(t *testing.T, s *apptest.Server) { tobaccoAutomations(t, s, m) }},
	})
}

// mustReport reads a report as the server's user, failing the test on a refusal.
func mustReport(t *testing.T, s *apptest.Server, name string, params map[string]any) *apiReport {
	t.Helper()
	r, refused := reportAs(t, s, name, params)
	if refused != "" {
		t.Fatalf("report %s: %s", name, refused)
	}
	return r
}

// day10 is the day of a date the API returns, in the examples' zone (app.timezone Asia/Shanghai), where a
// date is stored as its midnight.
func day10(t *testing.T, v any, path string) string {
	t.Helper()
	s := str(t, v, path)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s = %q, want a date", path, s)
	}
	return at.In(exampleZone(t)).Format("2006-01-02")
}

// exampleZone is the examples' app.timezone.
func exampleZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// money rounds to cents, as the reports' decimals are compared.
func money(f float64) string { return fmt.Sprintf("%.2f", f) }

func tobaccoSalesByMonth(t *testing.T, s *apptest.Server) {
	type agg struct {
		count, cartons int
		total          float64
	}
	want := map[string]*agg{}
	for _, o := range pageAll(t, s, "orders", "", "orderedAt total cartons status", 1000) {
		if str(t, o, "status") == "cancelled" {
			continue
		}
		month := day10(t, o, "orderedAt")[:7] + "-01"
		a := want[month]
		if a == nil {
			a = &agg{}
			want[month] = a
		}
		a.count++
		a.cartons += int(num(t, o, "cartons"))
		a.total += num(t, o, "total")
	}
	if len(want) < 20 {
		t.Fatalf("orders span %d months, want the demo's two years", len(want))
	}
	r := mustReport(t, s, "salesByMonth", nil)
	if len(r.Rows) != len(want) {
		t.Errorf("salesByMonth has %d months, the orders %d", len(r.Rows), len(want))
	}
	prev := ""
	for _, row := range r.Rows {
		month := fmt.Sprint(row["orderedAt"])
		if month <= prev {
			t.Errorf("months out of order: %s after %s", month, prev)
		}
		prev = month
		w := want[month]
		if w == nil {
			t.Errorf("salesByMonth has month %s, which no order the reader sees is in", month)
			continue
		}
		if int(num(t, row, "count")) != w.count || int(num(t, row, "sum_cartons")) != w.cartons || money(num(t, row, "sum_total")) != money(w.total) {
			t.Errorf("salesByMonth %s: %v orders, %v cartons, %v; the orders list: %d, %d, %s", month,
				row["count"], row["sum_cartons"], row["sum_total"], w.count, w.cartons, money(w.total))
		}
	}
}

func tobaccoMixAndReturns(t *testing.T, s *apptest.Server) {
	type agg struct {
		count, qty int
		amount     float64
	}
	byType := map[string]*agg{}
	for _, l := range pageAll(t, s, "orderLines", "", "priceType quantity amount", 1000) {
		k := str(t, l, "priceType")
		if byType[k] == nil {
			byType[k] = &agg{}
		}
		byType[k].count++
		byType[k].qty += int(num(t, l, "quantity"))
		byType[k].amount += num(t, l, "amount")
	}
	if len(byType) != 5 {
		t.Errorf("the demo's lines use %d price types, want all 5", len(byType))
	}
	r := mustReport(t, s, "priceTypeMix", nil)
	if len(r.Rows) != len(byType) {
		t.Errorf("priceTypeMix has %d rows, the lines %d price types", len(r.Rows), len(byType))
	}
	for _, row := range r.Rows {
		w := byType[fmt.Sprint(row["priceType"])]
		if w == nil || int(num(t, row, "count")) != w.count || int(num(t, row, "sum_quantity")) != w.qty || money(num(t, row, "sum_amount")) != money(w.amount) {
			t.Errorf("priceTypeMix %v, the lines: %+v", row, w)
		}
	}

	// Problem retailers: returns per retailer and reason.
	returns := map[string]*agg{}
	perRetailer := map[string]int{}
	for _, x := range pageAll(t, s, "returnRecords", "", "retailer { id } reason quantity amount", 1000) {
		k := str(t, x, "retailer.id") + "/" + str(t, x, "reason")
		if returns[k] == nil {
			returns[k] = &agg{}
		}
		returns[k].count++
		returns[k].qty += int(num(t, x, "quantity"))
		returns[k].amount += num(t, x, "amount")
		perRetailer[str(t, x, "retailer.id")]++
	}
	r = mustReport(t, s, "problemRetailers", nil)
	if len(r.Rows) != len(returns) {
		t.Errorf("problemRetailers has %d rows, the returns %d retailer/reason pairs", len(r.Rows), len(returns))
	}
	for _, row := range r.Rows {
		w := returns[str(t, row, "retailer.id")+"/"+fmt.Sprint(row["reason"])]
		if w == nil || int(num(t, row, "count")) != w.count || int(num(t, row, "sum_quantity")) != w.qty || money(num(t, row, "sum_amount")) != money(w.amount) {
			t.Errorf("problemRetailers %v, the returns: %+v", row, w)
		}
	}
	// The demo's five problem retailers return four to seven times; nobody else more than once.
	var problem int
	for _, n := range perRetailer {
		if n >= 4 {
			problem++
		} else if n > 1 {
			t.Errorf("a retailer outside the planted problem retailers returned %d times", n)
		}
	}
	if problem != 5 {
		t.Errorf("%d retailers returned four times or more, want the demo's 5 problem retailers", problem)
	}
}

// tobaccoBasket checks the association rules against every rule of one or two items ⇒ the rest of a pair
// or triple, counted directly over the orders' lines.
func tobaccoBasket(t *testing.T, s *apptest.Server) {
	baskets := map[string]map[string]bool{}
	for _, l := range pageAll(t, s, "orderLines", "", "order { id } product { name }", 1000) {
		o := str(t, l, "order.id")
		if baskets[o] == nil {
			baskets[o] = map[string]bool{}
		}
		baskets[o][str(t, l, "product.name")] = true
	}
	n := float64(len(baskets))
	count := map[string]int{} // itemset (names sorted, joined by "|") → baskets holding it
	for _, b := range baskets {
		items := make([]string, 0, len(b))
		for it := range b {
			items = append(items, it)
		}
		sort.Strings(items)
		for i := range items {
			count[items[i]]++
			for j := i + 1; j < len(items); j++ {
				count[items[i]+"|"+items[j]]++
				for k := j + 1; k < len(items); k++ {
					count[items[i]+"|"+items[j]+"|"+items[k]]++
				}
			}
		}
	}
	const minSupport, minConfidence = 0.05, 0.6
	set := func(items []string) string {
		c := append([]string(nil), items...)
		sort.Strings(c)
		return strings.Join(c, "|")
	}
	type rule struct{ support, confidence, lift float64 }
	want := map[string]rule{}
	for k, c := range count {
		items := strings.Split(k, "|")
		if len(items) < 2 || float64(c)/n < minSupport {
			continue
		}
		// every way of splitting the itemset into a non-empty antecedent and consequent
		for mask := 1; mask < 1<<len(items)-1; mask++ {
			var ante, cons []string
			for i, it := range items {
				if mask&(1<<i) != 0 {
					ante = append(ante, it)
				} else {
					cons = append(cons, it)
				}
			}
			conf := float64(c) / float64(count[set(ante)])
			if conf < minConfidence {
				continue
			}
			want[set(ante)+" => "+set(cons)] = rule{float64(c) / n, conf, conf / (float64(count[set(cons)]) / n)}
		}
	}
	r := mustReport(t, s, "basket", nil)
	got := map[string]bool{}
	for _, row := range r.Rows {
		var ante, cons []string
		for _, v := range list(t, row, "antecedent") {
			ante = append(ante, fmt.Sprint(v))
		}
		for _, v := range list(t, row, "consequent") {
			cons = append(cons, fmt.Sprint(v))
		}
		k := set(ante) + " => " + set(cons)
		got[k] = true
		w, ok := want[k]
		if !ok {
			t.Errorf("basket rule %s: not a rule of the orders (support ≥ %v, confidence ≥ %v)", k, minSupport, minConfidence)
			continue
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"support", num(t, row, "support"), w.support}, {"confidence", num(t, row, "confidence"), w.confidence}, {"lift", num(t, row, "lift"), w.lift}} {
			if math.Abs(c.got-c.want) > 1e-5 {
				t.Errorf("basket rule %s: %s %v, counted %v", k, c.name, c.got, c.want)
			}
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("basket misses the rule %s (%+v)", k, want[k])
		}
	}
	// The patterns the demo data plants.
	for _, k := range []string{"黄鹤楼(硬珍品) => 黄鹤楼(软蓝)", "利群(新版) => 玉溪(软)", "利群(新版)|玉溪(软) => 芙蓉王(硬)"} {
		if !got[k] {
			t.Errorf("basket lacks the planted rule %s", k)
		}
	}
}

// tobaccoCustomers checks the value matrix (rfm) and activity (recency) against each retailer's orders:
// frequency, monetary and last order exactly; scores in the order of the values they score.
func tobaccoCustomers(t *testing.T, s *apptest.Server) {
	type stats struct {
		n     int
		sum   float64
		last  string
		title string
	}
	per := map[string]*stats{}
	for _, r := range pageAll(t, s, "retailers", "", "id name", 1000) {
		per[str(t, r, "id")] = &stats{title: str(t, r, "name")}
	}
	for _, o := range pageAll(t, s, "orders", "", "retailer { id } orderedAt total", 1000) {
		st := per[str(t, o, "retailer.id")]
		if st == nil {
			t.Fatalf("an order of retailer %s, whom the reader cannot list", str(t, o, "retailer.id"))
		}
		st.n++
		st.sum += num(t, o, "total")
		if d := day10(t, o, "orderedAt"); d > st.last {
			st.last = d
		}
	}
	rfm := mustReport(t, s, "retailerValue", nil)
	if len(rfm.Rows) != len(per) {
		t.Errorf("retailerValue scores %d retailers, the reader lists %d", len(rfm.Rows), len(per))
	}
	type scored struct {
		r, f, m  int
		recency  int
		freq     int
		monetary float64
	}
	var all []scored
	for _, row := range rfm.Rows {
		st := per[str(t, row, "record.id")]
		if st == nil {
			t.Errorf("retailerValue scores %v, whom the reader cannot list", row["record"])
			continue
		}
		if str(t, row, "record.title") != st.title || int(num(t, row, "frequency")) != st.n || money(num(t, row, "monetary")) != money(st.sum) {
			t.Errorf("retailerValue %v: frequency %v, monetary %v; the orders: %s, %d, %s", row["record"], row["frequency"], row["monetary"], st.title, st.n, money(st.sum))
		}
		all = append(all, scored{int(num(t, row, "r")), int(num(t, row, "f")), int(num(t, row, "m")), int(num(t, row, "recencyDays")), st.n, st.sum})
	}
	for _, a := range all {
		for _, b := range all {
			if a.freq > b.freq && a.f < b.f || a.monetary > b.monetary+0.005 && a.m < b.m || a.recency < b.recency && a.r < b.r {
				t.Fatalf("scores out of order: %+v against %+v", a, b)
			}
		}
	}
	activity := mustReport(t, s, "retailerActivity", nil)
	if len(activity.Rows) != len(per) {
		t.Errorf("retailerActivity has %d retailers, the reader lists %d", len(activity.Rows), len(per))
	}
	today := time.Now().In(exampleZone(t)).Format("2006-01-02")
	for _, row := range activity.Rows {
		st := per[str(t, row, "record.id")]
		if st == nil {
			t.Errorf("retailerActivity lists %v, whom the reader cannot list", row["record"])
			continue
		}
		if fmt.Sprint(row["lastEventAt"]) != st.last {
			t.Errorf("retailerActivity %v: last order %v, the orders say %s", row["record"], row["lastEventAt"], st.last)
		}
		last, _ := time.Parse("2006-01-02", st.last)
		now, _ := time.Parse("2006-01-02", today)
		status := "churned"
		if days := now.Sub(last).Hours() / 24; days <= 30 {
			status = "active"
		} else if days <= 90 {
			status = "dormant"
		}
		if got := fmt.Sprint(row["status"]); got != status && !nearBoundary(last, now) {
			t.Errorf("retailerActivity %v: %s, want %s (last order %s)", row["record"], got, status, st.last)
		}
	}
}

// nearBoundary reports whether a last order is within a day of a bucket's edge, where the report's clock
// (an instant) and the test's (a day) may disagree.
func nearBoundary(last, now time.Time) bool {
	days := now.Sub(last).Hours() / 24
	return math.Abs(days-30) <= 1 || math.Abs(days-90) <= 1
}

// tobaccoTree checks the decision tree's leaves: they partition the retailers, each says how many it holds
// and how often its prediction is right, and the planted driver — competitors on the shelf — is the first
// split.
func tobaccoTree(t *testing.T, s *apptest.Server) {
	retailers := pageAll(t, s, "retailers", "", "declining competitorShelf", 1000)
	var declining, shelf, shelfDeclining int
	for _, r := range retailers {
		d, c := at(t, r, "declining") == true, at(t, r, "competitorShelf") == true
		if d {
			declining++
		}
		if c {
			shelf++
			if d {
				shelfDeclining++
			}
		}
	}
	r := mustReport(t, s, "declineDrivers", nil)
	var samples, right int
	var shelfSamples int
	for _, row := range r.Rows {
		n := int(num(t, row, "samples"))
		samples += n
		right += int(math.Round(num(t, row, "accuracy") * float64(n)))
		rule := str(t, row, "rule")
		switch {
		case strings.HasPrefix(rule, "竞品上柜 为 是"):
			shelfSamples += n
		case !strings.HasPrefix(rule, "竞品上柜 为 否"):
			t.Errorf("leaf %q does not start with the competitor-shelf split", rule)
		}
		if strings.Contains(rule, "不为 否") || strings.Contains(rule, "不为 是") {
			t.Errorf("leaf %q says a yes/no field is not one value instead of the other", rule)
		}
	}
	if samples != len(retailers) {
		t.Errorf("the tree's leaves hold %d retailers, the reader lists %d", samples, len(retailers))
	}
	if shelfSamples != shelf {
		t.Errorf("leaves under 竞品上柜 为 是 hold %d retailers, %d have competitors on the shelf", shelfSamples, shelf)
	}
	// The tree may not do worse than predicting the majority, and the shelf predicts the decline.
	if majority := max(declining, len(retailers)-declining); right < majority {
		t.Errorf("the tree is right on %d retailers, predicting the majority would be right on %d", right, majority)
	}
	if shelf == 0 || float64(shelfDeclining)/float64(shelf) < 0.5 {
		t.Errorf("%d of %d retailers with competitors on the shelf decline: the demo data lost its pattern", shelfDeclining, shelf)
	}
}

// tobaccoAutomations runs the example's automations as its users would: a quality return sends the
// customer manager to the shop; dispatching feedback needs a handler and gives them a task.
func tobaccoAutomations(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	cm := s.As(t, "wangfang", "cm123")
	retailer := str(t, pageAll(t, cm, "retailers", "", "id", 1000)[0], "id")
	product := lookup(t, s, m, "Product", map[string]any{"code": "6901028001"})
	tasksOf := func(who *apptest.Server) int {
		return int(num(t, query(t, who, `{ tasks(where: {status: open}) { totalCount } }`, nil), "tasks.totalCount"))
	}
	before := tasksOf(cm)
	create(t, cm, m, "ReturnRecord", map[string]any{"retailer": retailer, "product": product, "returnedAt": "2026-11-30T00:00:00Z",
		"quantity": 2, "amount": 900.0, "reason": "quality"}, "id")
	if got := tasksOf(cm); got != before+1 {
		t.Errorf("after a quality return the customer manager has %d open tasks, want %d", got, before+1)
	}
	create(t, cm, m, "ReturnRecord", map[string]any{"retailer": retailer, "product": product, "returnedAt": "2026-11-30T00:00:00Z",
		"quantity": 1, "amount": 450.0, "reason": "damaged"}, "id")
	if got := tasksOf(cm); got != before+1 {
		t.Errorf("a small damaged return made a task: %d open tasks, want %d", got, before+1)
	}

	desk := s.As(t, "liuxin", "service123")
	fb := create(t, desk, m, "Feedback", map[string]any{"retailer": retailer, "category": "supply",
		"content": "希望增加中华(硬)的供货量", "receivedAt": "2026-12-01T09:30:00+08:00"}, "id")
	id := str(t, fb, "id")
	refused := mustFail(t, desk, `mutation($id: ID!) { transitionFeedback(id: $id, transition: "dispatch") { id } }`, map[string]any{"id": id})
	if refused.Extensions["code"] != "VALIDATION" || refused.Extensions["field"] != "handler" {
		t.Errorf("dispatch without a handler: %v, want VALIDATION naming the field handler", refused.Extensions)
	}
	wangfang := lookup(t, s, m, "User", map[string]any{"username": "wangfang"})
	update(t, desk, "Feedback", id, map[string]any{"handlerID": wangfang}, "id")
	query(t, desk, `mutation($id: ID!) { transitionFeedback(id: $id, transition: "dispatch") { id } }`, map[string]any{"id": id})
	if got := tasksOf(cm); got != before+2 {
		t.Errorf("after dispatching feedback to her the customer manager has %d open tasks, want %d", got, before+2)
	}
	// The handler now reads the feedback dispatched to her.
	if n := total(t, cm, m, "Feedback", map[string]any{"id": id}); n != 1 {
		t.Errorf("the handler sees %d of the feedback dispatched to her, want 1", n)
	}
}
