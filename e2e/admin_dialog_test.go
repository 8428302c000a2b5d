package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
)

// One-step transitions (issue 13): a transition that waits for required fields opens a dialog on the
// record page that asks for them (and the comment where the model wants one); running it saves them and
// runs the transition in one submit. A call-centre agent assigns a new follow-up with two page loads: the
// record, and the record again after the dialog's submit.
func TestAdminTransitionDialog(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t), noTimers)
	api := s.As(t, "heping", "service123")
	var ids struct {
		Patients struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	api.GraphQL(t, `{ patients(first: 1) { edges { node { id } } } }`, nil).Decode(t, &ids)
	var created struct{ CreateFollowUp struct{ ID string } }
	api.GraphQL(t, `mutation($in: CreateFollowUpInput!) { createFollowUp(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"kind": "survey", "patientID": ids.Patients.Edges[0].Node.ID}}).Decode(t, &created)
	id := created.CreateFollowUp.ID

	p := openBrowser(t, s)
	p.signIn("heping", "service123")
	p.language("zh")
	p.open("/e/FollowUp/" + id) // page load 1
	p.do(chromedp.Click(chromedp.CSS(`details[data-transition="assign"] summary`)))
	labels := p.texts(`details[data-transition="assign"] label`)
	if !strings.Contains(strings.Join(labels, " "), "计划随访时间") || !strings.Contains(strings.Join(labels, " "), "医生") {
		t.Errorf("the assign dialog asks for %q, want the physician and the due time by their labels", labels)
	}
	// The physician through the picker, typed and chosen; the due time typed.
	p.do(chromedp.Click(chromedp.CSS("#t-assign-physician-q")), chromedp.SendKeys(chromedp.CSS("#t-assign-physician-q"), "刘洋"))
	p.waitFor(`(b => b.length === 1 && b[0].innerText.includes('刘洋'))(document.querySelectorAll('#t-assign-physician-list button'))`)
	p.do(chromedp.Click(chromedp.CSS("#t-assign-physician-list button")))
	p.waitFor(`document.querySelector('#t-assign-physician').value !== ''`)
	p.fill("#t-assign-dueAt", "2026-12-28T08:30")
	p.submit("#run-assign") // page load 2
	if got := p.text("#state"); got != "已分派" {
		t.Errorf("state after the dialog %q, want 已分派; %s", got, p.text("#action-error"))
	}
	var out struct {
		Node struct {
			Status    string
			DueAt     time.Time
			Physician struct{ Username string }
		}
	}
	api.GraphQL(t, `query($id: ID!) { node(id: $id) { ... on FollowUp { status dueAt physician { username } } } }`, map[string]any{"id": id}).Decode(t, &out)
	if out.Node.Status != "assigned" || out.Node.Physician.Username != "liuyang" ||
		!out.Node.DueAt.Equal(time.Date(2026, 12, 28, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("after the dialog the API has %+v, want assigned to liuyang, due 2026-12-28 08:30 (+08:00)", out.Node)
	}
	if tl := p.text("#timeline"); !strings.Contains(tl, "分派") {
		t.Errorf("the timeline does not show the assignment: %q", tl)
	}
	p.screenshots("transition-dialog")
	p.noErrors()
}
