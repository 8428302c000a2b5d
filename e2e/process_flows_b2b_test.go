package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/metamodel"
)

// The b2b-sales processes (examples/b2b-sales/processes.yaml) as the sales team and finance run them.
// Helpers are in process_flows_test.go.

// salesTeam are the demo users of the b2b-sales scenarios.
type salesTeam struct {
	m          *metamodel.Model
	admin      *apptest.Server
	lina       actor // salesperson, East China
	zhou       actor // zhouzhiqiang: salesManager, East China
	huangwei   actor // salesManager, South China
	sun        actor // sunjianhua: salesManager of national sales and salesDirector
	zhaomin    actor // finance
	linaID     string
	customer   string // a customer of lina's, created by the test
	customerNm string
}

func salesTeamOf(t *testing.T, admin *apptest.Server, m *metamodel.Model) salesTeam {
	t.Helper()
	st := salesTeam{
		m: m, admin: admin,
		lina:     signIn(t, admin, "lina", "sales123"),
		zhou:     signIn(t, admin, "zhouzhiqiang", "manager123"),
		huangwei: signIn(t, admin, "huangwei", "manager123"),
		sun:      signIn(t, admin, "sunjianhua", "manager123"),
		zhaomin:  signIn(t, admin, "zhaomin", "finance123"),
		linaID:   lookup(t, admin, m, "User", map[string]any{"username": "lina"}),
	}
	st.customerNm = "E2E 宁波恒达制动系统有限公司 " + t.Name()
	st.customer = createID(t, st.lina.s, m, "Customer", map[string]any{"name": st.customerNm})
	return st
}

// change updates a record as a user, with values keyed by model names; a versioned record's current
// version is read and sent along.
func (st salesTeam) change(a actor, entity, id string, vals map[string]any) {
	a.t.Helper()
	in := input(a.t, st.m.Entity(entity), vals)
	if st.m.Entity(entity).Has(metamodel.TraitVersioned) {
		in["version"] = num(a.t, a.get(entity, id, "version"), "version")
	}
	update(a.t, a.s, entity, id, in, "")
}

// TestFlowB2BOpportunity runs the pipeline as a sales rep: lead → qualified → proposal (amount and
// expected close required, amount positive) → negotiation → won, each stage setting its probability;
// winning tells the rep's managers and drafts a contract for the deal. Another lead is lost, which needs
// a loss reason.
func TestFlowB2BOpportunity(t *testing.T) {
	a := b2bSales(t)
	onEachDB(t, a, func(t *testing.T, admin *apptest.Server) {
		st := salesTeamOf(t, admin, a.Model)
		const o = "Opportunity"
		id := createID(t, st.lina.s, st.m, o, map[string]any{"name": "E2E 盘式制动器年度采购", "customer": st.customer})
		stage := func() (string, float64) {
			got := st.lina.get(o, id, "stage probability")
			return str(t, got, "stage"), num(t, got, "probability")
		}
		if s, p := stage(); s != "lead" || p != 10 {
			t.Fatalf("new opportunity: %s at %v%%, want lead at 10%%", s, p)
		}
		st.huangwei.refused(o, id, "qualify", "read") // South China does not see East China's pipeline
		st.zhaomin.refused(o, id, "qualify", "read")  // nor does finance
		st.lina.refused(o, id, "propose", "state")
		st.lina.run(o, id, "qualify")
		if s, p := stage(); s != "qualified" || p != 25 {
			t.Errorf("after qualify: %s at %v%%, want qualified at 25%%", s, p)
		}
		if got := st.lina.offered(o, id); len(got) != 0 {
			t.Errorf("without amount, expected close or loss reason the rep is offered %v, want nothing", got)
		}
		wantFields(t, st.lina.refused(o, id, "propose", "requires"), "amount", "expectedClose")
		st.change(st.lina, o, id, map[string]any{"amount": 0, "expectedClose": day(0, 2, 0)})
		if e := st.lina.refused(o, id, "propose", "guard"); e.Extensions["guard"] != "record.amount > 0" {
			t.Errorf("a proposal of 0: %+v, want the guard named", e)
		}
		st.change(st.lina, o, id, map[string]any{"amount": 320000})
		if got := st.lina.offered(o, id); !slices.Contains(got, "propose") {
			t.Errorf("with amount and expected close the rep is offered %v, want propose", got)
		}
		st.lina.run(o, id, "propose")
		st.lina.run(o, id, "negotiate")
		if s, p := stage(); s != "negotiation" || p != 75 {
			t.Errorf("after negotiate: %s at %v%%, want negotiation at 75%%", s, p)
		}
		st.lina.refused(o, id, "revise", "comment")
		st.lina.run(o, id, "revise", "客户要求降价5%")
		if s, p := stage(); s != "proposal" || p != 50 {
			t.Errorf("after revise: %s at %v%%, want proposal at 50%%", s, p)
		}
		st.change(st.lina, o, id, map[string]any{"amount": 304000})
		st.lina.run(o, id, "negotiate")
		st.lina.run(o, id, "win")
		if s, p := stage(); s != "won" || p != 100 {
			t.Errorf("after win: %s at %v%%, want won at 100%%", s, p)
		}
		if got := st.lina.offered(o, id); len(got) != 0 {
			t.Errorf("a won opportunity offers %v", got)
		}
		st.lina.refused(o, id, "lose", "state")
		wantSteps(t, st.zhou, o, id,
			">lead:(created)@lina",
			"lead>qualified:qualify@lina",
			"qualified>proposal:propose@lina",
			"proposal>negotiation:negotiate@lina",
			"negotiation>proposal:revise@lina",
			"proposal>negotiation:negotiate@lina",
			"negotiation>won:win@lina")
		// The managers over lina (her regional manager, the national one) are told; South China is not.
		const won = "商机赢单，已生成合同草稿"
		for _, who := range []actor{st.zhou, st.sun} {
			if got := who.inboxAbout(o, id); !slices.Equal(got, []string{won}) {
				t.Errorf("%s's inbox about the won deal: %v, want [%s]", who.name, got, won)
			}
		}
		if got := st.huangwei.inboxAbout(o, id); len(got) != 0 {
			t.Errorf("huangwei (South China) was told: %v", got)
		}
		// wonDealContract: a draft contract for the customer and amount, owned by whoever won the deal.
		d := query(t, st.lina.s, `query($o: ID!) { contracts(where: {hasOpportunityWith: [{id: $o}]}) { edges { node {
			id title amount status customer { id } owner { username } } } } }`, map[string]any{"o": id})
		cs := nodesAt(t, d, "contracts")
		if len(cs) != 1 {
			t.Fatalf("contracts of the won deal: %s, want one", jsonString(d))
		}
		c := cs[0]
		if at(t, c, "title") != "E2E 盘式制动器年度采购购销合同" || num(t, c, "amount") != 304000 || at(t, c, "status") != "draft" ||
			at(t, c, "customer.id") != st.customer || at(t, c, "owner.username") != "lina" {
			t.Errorf("the drafted contract: %s", jsonString(c))
		}
		wantSteps(t, st.lina, "Contract", str(t, c, "id"), ">draft:(created)@lina")

		// Another lead is lost: a loss reason is required, the comment optional.
		lost := createID(t, st.lina.s, st.m, o, map[string]any{"name": "E2E 鼓式制动器询价", "customer": st.customer})
		wantFields(t, st.lina.refused(o, lost, "lose", "requires"), "lossReason")
		st.change(st.lina, o, lost, map[string]any{"lossReason": "价格高于竞争对手"})
		st.lina.run(o, lost, "lose")
		got := st.lina.get(o, lost, "stage probability contracts { totalCount }")
		if got["stage"] != "lost" || num(t, got, "probability") != 0 || num(t, got, "contracts.totalCount") != 0 {
			t.Errorf("after lose: %s, want lost at 0%% with no contract", jsonString(got))
		}
		wantSteps(t, st.lina, o, lost, ">lead:(created)@lina", "lead>lost:lose@lina")
	})
}

// TestFlowB2BContractApproval approves two contracts: one of 500,000 or less by the sales manager, one
// above by the sales director after the manager escalates it (the manager's approve refused by its guard,
// directorApprove refused to a plain sales manager); both are then signed (signedAt required) and closed.
func TestFlowB2BContractApproval(t *testing.T) {
	a := b2bSales(t)
	onEachDB(t, a, func(t *testing.T, admin *apptest.Server) {
		st := salesTeamOf(t, admin, a.Model)
		const k = "Contract"

		// Up to 500,000: the regional manager approves.
		small := createID(t, st.zhou.s, st.m, k, map[string]any{"title": "E2E 制动片框架协议", "customer": st.customer,
			"amount": 500000, "owner": st.linaID})
		if got := st.lina.get(k, small, "status owner { username }"); got["status"] != "draft" || at(t, got, "owner.username") != "lina" {
			t.Fatalf("new contract: %s, want a draft of lina's", jsonString(got))
		}
		wantFields(t, st.lina.refused(k, small, "submit", "requires"), "startDate", "endDate")
		st.change(st.zhou, k, small, map[string]any{"startDate": day(0, 0, 1), "endDate": day(1, 0, 0)})
		st.lina.run(k, small, "submit")
		const submitted = "有合同提交审批"
		for _, who := range []actor{st.zhou, st.sun} {
			if got := who.inboxAbout(k, small); !slices.Equal(got, []string{submitted}) {
				t.Errorf("%s's inbox about the submitted contract: %v", who.name, got)
			}
		}
		if got := st.huangwei.inboxAbout(k, small); len(got) != 0 {
			t.Errorf("huangwei (South China) was told: %v", got)
		}
		st.lina.refused(k, small, "approve", "role")
		st.huangwei.refused(k, small, "approve", "read")
		if got := st.zhou.offered(k, small); !slices.Equal(got, []string{"approve", "reject"}) {
			t.Errorf("the manager is offered %v on a contract of 500,000, want [approve reject]", got)
		}
		if e := st.zhou.refused(k, small, "escalate", "guard"); e.Extensions["guard"] != "record.amount > 500000" {
			t.Errorf("escalating 500,000: %+v, want the guard named", e)
		}
		st.zhou.run(k, small, "approve")
		if got := st.lina.inboxAbout(k, small); !slices.Equal(got, []string{"合同已审批通过，可以签署"}) {
			t.Errorf("lina's inbox about her approved contract: %v", got)
		}
		wantFields(t, st.zhou.refused(k, small, "sign", "requires"), "signedAt")
		st.change(st.zhou, k, small, map[string]any{"signedAt": day(0, 0, 0)})
		st.lina.refused(k, small, "sign", "role")
		st.zhou.run(k, small, "sign")
		st.zhaomin.run(k, small, "close", "合同履行完毕")
		wantSteps(t, st.lina, k, small,
			">draft:(created)@zhouzhiqiang",
			"draft>submitted:submit@lina",
			"submitted>approved:approve@zhouzhiqiang",
			"approved>signed:sign@zhouzhiqiang",
			"signed>closed:close@zhaomin")

		// Above 500,000: the manager's approve is refused by its guard; escalated, only the director approves.
		big := createID(t, st.zhou.s, st.m, k, map[string]any{"title": "E2E 底盘件三年供货合同", "customer": st.customer,
			"amount": 500000.01, "startDate": day(0, 0, 1), "endDate": day(3, 0, 0)})
		st.zhou.run(k, big, "submit")
		if got := st.zhou.offered(k, big); !slices.Equal(got, []string{"escalate", "reject"}) {
			t.Errorf("the manager is offered %v above 500,000, want [escalate reject]", got)
		}
		e := st.zhou.refused(k, big, "approve", "guard")
		if e.Extensions["code"] != "VALIDATION" || e.Extensions["guard"] != "record.amount <= 500000" || !strings.Contains(e.Message, "record.amount <= 500000") {
			t.Errorf("approving above 500,000: %+v, want the guard's text", e)
		}
		st.zhou.run(k, big, "escalate")
		if got := st.sun.inboxAbout(k, big); !slices.Contains(got, "金额超过50万元的合同待您审批") {
			t.Errorf("the director's inbox about the escalated contract: %v", got)
		}
		if e := st.zhou.refused(k, big, "directorApprove", "role"); e.Extensions["code"] != "FORBIDDEN" || !strings.Contains(e.Message, "salesDirector") {
			t.Errorf("a sales manager approving as director: %+v", e)
		}
		st.huangwei.refused(k, big, "directorApprove", "read")
		if got := st.sun.offered(k, big); !slices.Equal(got, []string{"directorApprove", "directorReject"}) {
			t.Errorf("the director is offered %v, want [directorApprove directorReject]", got)
		}
		st.sun.refused(k, big, "directorReject", "comment")
		st.sun.run(k, big, "directorApprove")
		if got := st.zhou.inboxAbout(k, big); !slices.Contains(got, "合同已经总监审批通过，可以签署") {
			t.Errorf("the owner's inbox about the director's approval: %v", got)
		}
		st.change(st.zhou, k, big, map[string]any{"signedAt": day(0, 0, 0)})
		st.zhou.run(k, big, "sign")
		st.zhou.run(k, big, "close")
		wantSteps(t, st.sun, k, big,
			">draft:(created)@zhouzhiqiang",
			"draft>submitted:submit@zhouzhiqiang",
			"submitted>directorReview:escalate@zhouzhiqiang",
			"directorReview>approved:directorApprove@sunjianhua",
			"approved>signed:sign@zhouzhiqiang",
			"signed>closed:close@zhouzhiqiang")
		for _, who := range []actor{st.zhou, st.sun, st.zhaomin} {
			if got := who.offered(k, big); len(got) != 0 {
				t.Errorf("%s is offered %v on a closed contract", who.name, got)
			}
		}
	})
}

// TestFlowB2BPaymentTimers runs the collection timers with the timer loop on (payment dates are days, so
// "due" means the day has begun): a payment due in a week gets its reminder, once, to finance and its
// owner; one due later gets none yet; one past its due date is marked overdue by the system; one more
// than three days past due is also dunned. Finance then records a payment.
func TestFlowB2BPaymentTimers(t *testing.T) {
	a := b2bSales(t)
	each := func(t *testing.T, admin *apptest.Server) {
		st := salesTeamOf(t, admin, a.Model)
		const p = "Payment"
		contract := createID(t, st.zhou.s, st.m, "Contract", map[string]any{"title": "E2E 回款测试合同", "customer": st.customer,
			"amount": 400000, "owner": st.linaID})
		pay := func(installment int, due string) string {
			return createID(t, st.zhaomin.s, st.m, p, map[string]any{"contract": contract, "installment": installment,
				"amount": 100000, "dueDate": due, "owner": st.linaID})
		}
		const remind, dun, dun30 = "回款将于7天后到期，请提醒客户按时付款", "回款已逾期3天，请立即催收", "回款已逾期30天，请升级处理"
		week := pay(1, day(0, 0, 7))  // reminder at the start of today: due
		later := pay(2, day(0, 0, 9)) // reminder in two days
		late := pay(3, day(0, 0, -2)) // markOverdue at the start of yesterday; dunning tomorrow
		dunned := pay(4, day(0, 0, -5))
		status := func(id string) string { return str(t, st.zhaomin.get(p, id, "status"), "status") }

		ok := waitFor(30*time.Second, func() bool {
			return countOf(st.zhaomin.inboxAbout(p, week), remind) >= 1 && status(late) == "overdue" &&
				countOf(st.zhaomin.inboxAbout(p, dunned), dun) >= 1
		})
		if !ok {
			t.Fatalf("the timers did not fire: reminder %v; late %s %v; dunned %v %v", st.zhaomin.inboxAbout(p, week),
				status(late), st.zhaomin.history(p, late), st.zhaomin.inboxAbout(p, dunned), st.zhaomin.history(p, dunned))
		}
		time.Sleep(time.Second) // a few more rounds of the timer loop
		for _, who := range []actor{st.zhaomin, st.lina} {
			if got := who.inboxAbout(p, week); !slices.Equal(got, []string{remind}) {
				t.Errorf("%s's inbox about the payment due in a week: %v, want one reminder", who.name, got)
			}
		}
		wantSteps(t, st.zhaomin, p, week, ">planned:(created)@zhaomin") // a reminder is no step
		if got := st.zhaomin.inboxAbout(p, later); len(got) != 0 || status(later) != "planned" {
			t.Errorf("the payment due in 9 days: %s, inbox %v; want planned, no reminder yet", status(later), got)
		}
		wantSteps(t, st.zhaomin, p, later, ">planned:(created)@zhaomin")

		// Past due: overdue, by the system; its 3-day dunning is tomorrow. Its week-ahead reminder was due
		// too (long ago): it fired once, before the transition.
		wantSteps(t, st.zhaomin, p, late, ">planned:(created)@zhaomin", "planned>overdue:markOverdue@system")
		if got := st.zhaomin.inboxAbout(p, late); !slices.Equal(got, []string{remind}) {
			t.Errorf("finance's inbox about the payment 2 days late: %v, want the reminder only", got)
		}
		wantSteps(t, st.zhaomin, p, dunned, ">planned:(created)@zhaomin", "planned>overdue:markOverdue@system")
		for _, who := range []actor{st.zhaomin, st.lina, st.zhou, st.sun} {
			got := who.inboxAbout(p, dunned)
			if countOf(got, dun) != 1 || countOf(got, dun30) != 0 {
				t.Errorf("%s's inbox about the payment 5 days late: %v, want one 3-day dunning", who.name, got)
			}
		}
		if got := st.huangwei.inboxAbout(p, dunned); len(got) != 0 {
			t.Errorf("huangwei (South China) was told: %v", got)
		}

		// Finance records the payment: paidAt and method required; paid is final.
		st.lina.refused(p, dunned, "recordPayment", "role")
		wantFields(t, st.zhaomin.refused(p, dunned, "recordPayment", "requires"), "paidAt")
		st.change(st.zhaomin, p, dunned, map[string]any{"paidAt": day(0, 0, 0)})
		st.zhaomin.run(p, dunned, "recordPayment")
		if s := status(dunned); s != "paid" {
			t.Errorf("after recordPayment: %s", s)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		each(t, a.Start(t, apptest.SQLitePath(t), fastTimers...).As(t, "admin", "admin123"))
	})
	t.Run("postgres", func(t *testing.T) { each(t, a.Start(t, pgtest.DSN(t), fastTimers...).As(t, "admin", "admin123")) })
}
