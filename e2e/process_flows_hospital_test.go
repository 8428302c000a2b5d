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

// The hospital's processes (examples/hospital/processes.yaml) as its staff run them. Helpers are in
// process_flows_test.go.

// hospitalStaff are the demo users of the hospital scenarios and the records they work on.
type hospitalStaff struct {
	m                          *metamodel.Model
	admin                      *apptest.Server
	heping                     actor // serviceCenter
	linxiao                    actor // callCenter
	liuyang                    actor // cardiology physician
	zhangjianguo               actor // head of cardiology
	zhaolei, wangqiang         actor // orthopedics physician and head
	cardio, patient, liuyangID string
}

func hospitalStaffOf(t *testing.T, admin *apptest.Server, m *metamodel.Model) hospitalStaff {
	t.Helper()
	doctor := func(name string) actor { return signIn(t, admin, name, "doctor123") }
	return hospitalStaff{
		m: m, admin: admin,
		heping:       signIn(t, admin, "heping", "service123"),
		linxiao:      signIn(t, admin, "linxiao", "service123"),
		liuyang:      doctor("liuyang"),
		zhangjianguo: doctor("zhangjianguo"),
		zhaolei:      doctor("zhaolei"),
		wangqiang:    doctor("wangqiang"),
		cardio:       lookup(t, admin, m, "Team", map[string]any{"name": "心内科"}),
		// 贾梓涵 is a cardiology patient of liuyang (data/patients.yaml p001).
		patient:   lookup(t, admin, m, "Patient", map[string]any{"name": "贾梓涵"}),
		liuyangID: lookup(t, admin, m, "User", map[string]any{"username": "liuyang"}),
	}
}

// change updates a record as a user, with values keyed by model names.
func (h hospitalStaff) change(a actor, entity, id string, vals map[string]any) {
	a.t.Helper()
	update(a.t, a.s, entity, id, input(a.t, h.m.Entity(entity), vals), "")
}

// TestFlowHospitalFollowUp walks a follow-up through its whole life: the service center creates and
// assigns it (physician and due time required), the physician is told and completes it, the service
// center archives it, the head of department sends it back (with a comment) and, once it is done again,
// audits it. Physicians of another department neither see it nor run anything on it.
func TestFlowHospitalFollowUp(t *testing.T) {
	a := hospital(t)
	onEachDB(t, a, func(t *testing.T, admin *apptest.Server) {
		h := hospitalStaffOf(t, admin, a.Model)
		const fu = "FollowUp"
		id := createID(t, h.heping.s, h.m, fu, map[string]any{"patient": h.patient, "kind": "postDischarge"})
		if st := h.heping.get(fu, id, "status")["status"]; st != "instructed" {
			t.Fatalf("new follow-up: status %v, want instructed", st)
		}
		// Not yet assigned, it is nobody's: a physician cannot even see it.
		if e := h.liuyang.refused(fu, id, "assign", "read"); e.Extensions["code"] != "NOT_FOUND" {
			t.Errorf("unassigned follow-up, the physician: %+v, want NOT_FOUND", e)
		}
		wantFields(t, h.heping.refused(fu, id, "assign", "requires"), "physician", "dueAt")
		h.change(h.heping, fu, id, map[string]any{"physician": h.liuyangID})
		wantFields(t, h.heping.refused(fu, id, "assign", "requires"), "dueAt")
		if got := h.heping.offered(fu, id); len(got) != 0 {
			t.Errorf("without a due time the service center is offered %v, want nothing", got)
		}
		// Now the physician's, it is readable by them, but assigning is the service center's.
		if e := h.liuyang.refused(fu, id, "assign", "role"); e.Extensions["code"] != "FORBIDDEN" || !strings.Contains(e.Message, "serviceCenter") {
			t.Errorf("the physician assigning: %+v, want FORBIDDEN naming serviceCenter", e)
		}
		h.change(h.heping, fu, id, map[string]any{"dueAt": stamp(time.Now().Add(72 * time.Hour))})
		if got := h.heping.offered(fu, id); !slices.Equal(got, []string{"assign"}) {
			t.Errorf("the service center is offered %v, want [assign]", got)
		}
		if got := h.liuyang.inboxAbout(fu, id); len(got) != 0 {
			t.Errorf("the physician was notified before the assignment: %v", got)
		}
		h.heping.run(fu, id, "assign")
		if got := h.liuyang.inboxAbout(fu, id); !slices.Equal(got, []string{"您有一条新的随访任务，请按计划时间完成"}) {
			t.Errorf("the physician's inbox about the follow-up: %v, want the assignment", got)
		}
		// Orthopedics neither sees a cardiology follow-up nor runs anything on it, and is told nothing about it.
		for _, other := range []actor{h.zhaolei, h.wangqiang} {
			e := other.refused(fu, id, "complete", "read")
			if e.Extensions["code"] != "NOT_FOUND" || strings.Contains(e.Message, "assigned") {
				t.Errorf("%s completing another department's follow-up: %+v, want NOT_FOUND revealing nothing", other.name, e)
			}
			notFound(t, other.s, id)
		}

		wantFields(t, h.liuyang.refused(fu, id, "complete", "requires"), "result")
		h.change(h.liuyang, fu, id, map[string]any{"result": "血压控制良好，继续服药"})
		if got := h.liuyang.offered(fu, id); !slices.Equal(got, []string{"complete"}) {
			t.Errorf("the physician is offered %v, want [complete]", got)
		}
		// The service center completes only satisfaction callbacks.
		if got := h.heping.offered(fu, id); len(got) != 0 {
			t.Errorf("the service center is offered %v on an assigned post-discharge follow-up, want nothing", got)
		}
		if e := h.heping.refused(fu, id, "completeSurvey", "guard"); e.Extensions["guard"] != `record.kind == "survey"` {
			t.Errorf("completeSurvey of a post-discharge follow-up: %+v, want the guard named", e)
		}
		h.liuyang.run(fu, id, "complete")
		if got := h.liuyang.get(fu, id, "status completedAt"); got["status"] != "done" || !within(t, got, "completedAt", time.Now(), time.Minute) {
			t.Errorf("after complete: %v, want done with completedAt now", got)
		}
		h.liuyang.refused(fu, id, "archive", "role")
		h.heping.run(fu, id, "archive")

		// The head of department sends it back: a comment is required, the physician is told.
		h.liuyang.refused(fu, id, "reopen", "role")
		if got := h.zhangjianguo.offered(fu, id); !slices.Equal(got, []string{"audit", "reopen"}) {
			t.Errorf("the head of department is offered %v on an archived follow-up, want [audit reopen]", got)
		}
		h.zhangjianguo.refused(fu, id, "reopen", "comment")
		h.zhangjianguo.refused(fu, id, "reopen", "comment", "  ")
		h.zhangjianguo.run(fu, id, "reopen", "请补充血压记录")
		if got := h.liuyang.get(fu, id, "status completedAt"); got["status"] != "assigned" || got["completedAt"] != nil {
			t.Errorf("after reopen: %v, want assigned with completedAt cleared", got)
		}
		if got := h.liuyang.inboxAbout(fu, id); !slices.Equal(got, []string{"随访被科室主任退回，请补充后重新完成", "您有一条新的随访任务，请按计划时间完成"}) {
			t.Errorf("the physician's inbox after the reopen: %v", got)
		}
		h.liuyang.run(fu, id, "complete")
		h.heping.run(fu, id, "archive")
		h.liuyang.refused(fu, id, "audit", "role")
		h.wangqiang.refused(fu, id, "audit", "read")
		h.zhangjianguo.run(fu, id, "audit")

		if st := h.admin.GraphQL(t, `query($id: ID!) { node(id: $id) { ... on FollowUp { status } } }`, map[string]any{"id": id}); !strings.Contains(string(st.Data), `"audited"`) {
			t.Errorf("after audit: %s", st.Data)
		}
		for _, who := range []actor{h.heping, h.liuyang, h.zhangjianguo} {
			if got := who.offered(fu, id); len(got) != 0 {
				t.Errorf("%s is offered %v on an audited (final) follow-up", who.name, got)
			}
		}
		h.zhangjianguo.refused(fu, id, "reopen", "state", "again")
		wantSteps(t, h.zhangjianguo, fu, id,
			">instructed:(created)@heping",
			"instructed>assigned:assign@heping",
			"assigned>done:complete@liuyang",
			"done>archived:archive@heping",
			"archived>assigned:reopen@zhangjianguo",
			"assigned>done:complete@liuyang",
			"done>archived:archive@heping",
			"archived>audited:audit@zhangjianguo")
		if c := at(t, h.zhangjianguo.get(fu, id, "workflowHistory { comment }"), "workflowHistory.4.comment"); c != "请补充血压记录" {
			t.Errorf("the reopen step's comment: %v", c)
		}
	})
}

// TestFlowHospitalComplaint follows a complaint: routing requires a department; the department's head
// handles it (handledAt and handler set by the transition) or sends it back (comment required, the
// service center told, the department cleared); the service center closes it.
func TestFlowHospitalComplaint(t *testing.T) {
	a := hospital(t)
	onEachDB(t, a, func(t *testing.T, admin *apptest.Server) {
		h := hospitalStaffOf(t, admin, a.Model)
		const c = "Complaint"
		newComplaint := func(subject string) string {
			return createID(t, h.linxiao.s, h.m, c, map[string]any{"subject": subject, "severity": "high",
				"receivedAt": stamp(time.Now()), "patient": h.patient, "content": "挂号后等待三小时"})
		}
		id := newComplaint("候诊时间过长")
		wantFields(t, h.linxiao.refused(c, id, "route", "requires"), "department")
		h.zhangjianguo.refused(c, id, "handle", "read") // routed nowhere yet: no department head sees it
		h.change(h.linxiao, c, id, map[string]any{"department": h.cardio})
		h.zhangjianguo.refused(c, id, "handle", "state")
		h.linxiao.run(c, id, "route")

		h.wangqiang.refused(c, id, "handle", "read") // routed to cardiology, not orthopedics
		h.liuyang.refused(c, id, "handle", "read")   // a physician reads no complaints
		h.linxiao.refused(c, id, "handle", "role")
		wantFields(t, h.zhangjianguo.refused(c, id, "handle", "requires"), "resolution")
		h.change(h.zhangjianguo, c, id, map[string]any{"resolution": "已向患者致歉并优化分诊流程"})
		if got := h.zhangjianguo.offered(c, id); !slices.Equal(got, []string{"handle", "sendBack"}) {
			t.Errorf("the head of cardiology is offered %v, want [handle sendBack]", got)
		}
		h.zhangjianguo.run(c, id, "handle")
		got := h.heping.get(c, id, "status handledAt handler { username }")
		if got["status"] != "handled" || !within(t, got, "handledAt", time.Now(), time.Minute) || at(t, got, "handler.username") != "zhangjianguo" {
			t.Errorf("after handle: %s, want handled now by zhangjianguo", jsonString(got))
		}
		h.zhangjianguo.refused(c, id, "close", "role")
		h.heping.run(c, id, "close", "已电话回复患者")
		wantSteps(t, h.heping, c, id,
			">received:(created)@linxiao",
			"received>routed:route@linxiao",
			"routed>handled:handle@zhangjianguo",
			"handled>closed:close@heping")

		// Not cardiology's: sent back with a reason, unrouted, and the service center is told.
		other := newComplaint("药房态度问题")
		h.change(h.heping, c, other, map[string]any{"department": h.cardio})
		h.heping.run(c, other, "route")
		h.zhangjianguo.refused(c, other, "sendBack", "comment")
		// The transition clears the department, so the head no longer reads what it returns.
		var back map[string]any
		h.zhangjianguo.transition(c, other, "sendBack", "应由药剂科处理").Decode(t, &back)
		if back["r"] != nil {
			t.Errorf("sendBack returned %v to the head, who no longer reads the complaint", back["r"])
		}
		if got := h.heping.get(c, other, "status department { id }"); got["status"] != "received" || got["department"] != nil {
			t.Errorf("after sendBack: %s, want received with no department", jsonString(got))
		}
		if got := h.heping.inboxAbout(c, other); !slices.Equal(got, []string{"投诉被科室退回，请重新转办"}) {
			t.Errorf("the service center's inbox about the sent-back complaint: %v", got)
		}
		h.zhangjianguo.refused(c, other, "handle", "read") // no longer cardiology's
		wantFields(t, h.heping.refused(c, other, "route", "requires"), "department")
	})
}

// TestFlowHospitalDissatisfied records evaluations: a dissatisfied one sets needsCallback, creates a
// survey follow-up for the same patient and visit due in 48 hours, and notifies the service center; a
// satisfied one does none of it until it is changed to dissatisfied (once). The service center then
// assigns the callback and completes it itself.
func TestFlowHospitalDissatisfied(t *testing.T) {
	a := hospital(t)
	onEachDB(t, a, func(t *testing.T, admin *apptest.Server) {
		h := hospitalStaffOf(t, admin, a.Model)
		surveys := func() []string {
			d := query(t, admin, `query($p: ID!) { followUps(where: {kind: survey, hasPatientWith: [{id: $p}]}, first: 500) { edges { node { id } } } }`,
				map[string]any{"p": h.patient})
			return ids(t, nodesAt(t, d, "followUps"))
		}
		newSurvey := func(before []string) map[string]any {
			t.Helper()
			var added []string
			for _, id := range surveys() {
				if !slices.Contains(before, id) {
					added = append(added, id)
				}
			}
			if len(added) != 1 {
				t.Fatalf("%d survey follow-ups created, want 1", len(added))
			}
			return h.heping.get("FollowUp", added[0], "kind status dueAt patient { id } physician { id } visit { id }")
		}
		before := surveys()
		start := time.Now()
		ev := create(t, h.heping.s, h.m, "Evaluation", map[string]any{"patient": h.patient, "score": "dissatisfied",
			"comment": "医生解释不够耐心", "evaluatedAt": stamp(start)}, "needsCallback")
		evID := str(t, ev, "id")
		if ev["needsCallback"] != true {
			t.Errorf("a dissatisfied evaluation: needsCallback %v, want true", ev["needsCallback"])
		}
		cb := newSurvey(before)
		cbID := str(t, cb, "id")
		if cb["status"] != "instructed" || at(t, cb, "patient.id") != h.patient || cb["physician"] != nil || cb["visit"] != nil ||
			!within(t, cb, "dueAt", start.Add(48*time.Hour), time.Minute) {
			t.Errorf("the callback follow-up: %s, want instructed, same patient, due in 48 h", jsonString(cb))
		}
		wantSteps(t, h.heping, "FollowUp", cbID, ">instructed:(created)@heping")
		if got := h.heping.inboxAbout("Evaluation", evID); !slices.Equal(got, []string{"患者满意度评价为“不满意”，已生成回访任务，请在48小时内回访"}) {
			t.Errorf("the service center's inbox about the evaluation: %v", got)
		}
		if got := h.linxiao.inboxAbout("Evaluation", evID); len(got) != 0 {
			t.Errorf("the call center was notified: %v", got)
		}

		// The service center assigns the callback and completes it (the survey guard holds).
		h.change(h.heping, "FollowUp", cbID, map[string]any{"physician": h.liuyangID})
		h.heping.run("FollowUp", cbID, "assign")
		wantFields(t, h.heping.refused("FollowUp", cbID, "completeSurvey", "requires"), "result")
		h.change(h.heping, "FollowUp", cbID, map[string]any{"result": "已致电患者，患者表示理解"})
		if got := h.heping.offered("FollowUp", cbID); !slices.Equal(got, []string{"completeSurvey"}) {
			t.Errorf("the service center is offered %v on the callback, want [completeSurvey]", got)
		}
		h.heping.run("FollowUp", cbID, "completeSurvey")
		wantSteps(t, h.heping, "FollowUp", cbID, ">instructed:(created)@heping", "instructed>assigned:assign@heping",
			"assigned>done:completeSurvey@heping")

		// A satisfied evaluation needs nothing, until it turns dissatisfied; later edits do not repeat it.
		before = surveys()
		ok := create(t, h.heping.s, h.m, "Evaluation", map[string]any{"patient": h.patient, "score": "satisfied"}, "needsCallback")
		okID := str(t, ok, "id")
		if ok["needsCallback"] != false || len(surveys()) != len(before) || len(h.heping.inboxAbout("Evaluation", okID)) != 0 {
			t.Errorf("a satisfied evaluation: needsCallback %v, %d new follow-ups, inbox %v; want nothing done",
				ok["needsCallback"], len(surveys())-len(before), h.heping.inboxAbout("Evaluation", okID))
		}
		h.change(h.heping, "Evaluation", okID, map[string]any{"score": "dissatisfied"})
		newSurvey(before)
		if got := h.heping.get("Evaluation", okID, "needsCallback"); got["needsCallback"] != true {
			t.Errorf("changed to dissatisfied: needsCallback %v", got["needsCallback"])
		}
		before = surveys()
		h.change(h.heping, "Evaluation", okID, map[string]any{"comment": "补充说明"})
		if n := len(surveys()) - len(before); n != 0 {
			t.Errorf("editing a dissatisfied evaluation created %d more follow-ups, want 0", n)
		}
		if got := h.heping.inboxAbout("Evaluation", okID); !slices.Equal(got, []string{"患者满意度评价改为“不满意”，已生成回访任务，请在48小时内回访"}) {
			t.Errorf("the service center's inbox about the changed evaluation: %v", got)
		}
	})
}

// assignedFollowUp is a post-discharge follow-up of the patient, assigned by the service center to
// liuyang, due at due.
func (h hospitalStaff) assignedFollowUp(due time.Time) string {
	id := createID(h.heping.t, h.heping.s, h.m, "FollowUp", map[string]any{"patient": h.patient, "kind": "postDischarge",
		"physician": h.liuyangID, "dueAt": stamp(due)})
	h.heping.run("FollowUp", id, "assign")
	return id
}

// TestFlowHospitalTimers runs the hospital's timers with the timer loop on, each due a few seconds after
// the records are set up: an appointment's reminders (the call center's 48-hour one already due, the
// physician's 24-hour one seconds later), a follow-up's reminder the day before it is due and its
// escalation to the head of department 72 hours after, a high-severity complaint's handling deadline.
// Each fires exactly once, as the system, and reaches only the users named who may read the record (a
// notification is no step of the workflow history); a follow-up completed before its reminder is due is
// not reminded.
func TestFlowHospitalTimers(t *testing.T) {
	a := hospital(t)
	each := func(t *testing.T, admin *apptest.Server) {
		h := hospitalStaffOf(t, admin, a.Model)
		const (
			ap, fu, cp       = "Appointment", "FollowUp", "Complaint"
			apReminder, call = "您明天有患者预约就诊", "预约将于48小时后就诊，请电话确认"
			assigned         = "您有一条新的随访任务，请按计划时间完成"
			fuReminder       = "随访将于24小时内到期"
			fuOverdue        = "随访已逾期72小时未完成，请督办"
			sla              = "投诉已超过处理时限仍未处理，请尽快处理"
		)
		now := time.Now()
		soon := now.Add(4 * time.Second)
		appt := createID(t, h.heping.s, h.m, ap, map[string]any{"patient": h.patient, "department": h.cardio,
			"physician": h.liuyangID, "scheduledAt": stamp(soon.Add(24 * time.Hour)), "channel": "phone"})
		tomorrow := h.assignedFollowUp(soon.Add(24 * time.Hour))
		late := h.assignedFollowUp(soon.Add(-72 * time.Hour))
		done := h.assignedFollowUp(soon.Add(24 * time.Hour))
		h.change(h.liuyang, fu, done, map[string]any{"result": "已复诊"})
		h.liuyang.run(fu, done, "complete") // leaves assigned before its reminder
		complaint := createID(t, h.linxiao.s, h.m, cp, map[string]any{"subject": "急诊分诊延误", "severity": "high",
			"receivedAt": stamp(soon.Add(-24 * time.Hour)), "department": h.cardio})
		h.linxiao.run(cp, complaint, "route")
		if time.Now().Before(soon) {
			if got := h.liuyang.inboxAbout(ap, appt); len(got) != 0 {
				t.Errorf("the physician was reminded of the appointment early: %v", got)
			}
		}

		if !waitFor(30*time.Second, func() bool {
			return countOf(h.liuyang.inboxAbout(ap, appt), apReminder) >= 1 && countOf(h.liuyang.inboxAbout(fu, tomorrow), fuReminder) >= 1 &&
				countOf(h.zhangjianguo.inboxAbout(fu, late), fuOverdue) >= 1 && countOf(h.heping.inboxAbout(cp, complaint), sla) >= 1
		}) {
			t.Fatalf("the timers did not fire: appointment %v, follow-ups %v / %v, complaint %v", h.heping.history(ap, appt),
				h.heping.history(fu, tomorrow), h.heping.history(fu, late), h.heping.history(cp, complaint))
		}
		time.Sleep(time.Second) // a few more rounds of the timer loop
		inbox := func(a actor, entity, id string, want ...string) {
			t.Helper()
			if got := a.inboxAbout(entity, id); !slices.Equal(got, want) {
				t.Errorf("%s's inbox about %s %s: %v, want %v", a.name, entity, id, got, want)
			}
		}
		inbox(h.liuyang, ap, appt, apReminder)
		inbox(h.linxiao, ap, appt, call)
		inbox(h.zhangjianguo, ap, appt)
		wantSteps(t, h.heping, ap, appt, ">booked:(created)@heping")

		inbox(h.liuyang, fu, tomorrow, fuReminder, assigned)
		wantSteps(t, h.heping, fu, tomorrow, ">instructed:(created)@heping", "instructed>assigned:assign@heping")
		// 72 hours overdue: the day-before reminder (long due) and the escalation, to the physician and the
		// head of their department only.
		inbox(h.liuyang, fu, late, fuOverdue, fuReminder, assigned)
		inbox(h.zhangjianguo, fu, late, fuOverdue)
		inbox(h.wangqiang, fu, late)
		wantSteps(t, h.heping, fu, late, ">instructed:(created)@heping", "instructed>assigned:assign@heping")
		inbox(h.liuyang, fu, done, assigned)
		wantSteps(t, h.heping, fu, done, ">instructed:(created)@heping", "instructed>assigned:assign@heping",
			"assigned>done:complete@liuyang")

		// Past its deadline and not handled: the head of the department it was routed to and the service center.
		inbox(h.zhangjianguo, cp, complaint, sla)
		inbox(h.heping, cp, complaint, sla)
		inbox(h.wangqiang, cp, complaint)
		inbox(h.linxiao, cp, complaint)
		wantSteps(t, h.heping, cp, complaint, ">received:(created)@linxiao", "received>routed:route@linxiao")
	}
	t.Run("sqlite", func(t *testing.T) {
		each(t, a.Start(t, apptest.SQLitePath(t), fastTimers...).As(t, "admin", "admin123"))
	})
	t.Run("postgres", func(t *testing.T) { each(t, a.Start(t, pgtest.DSN(t), fastTimers...).As(t, "admin", "admin123")) })
}
