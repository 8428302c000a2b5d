package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crmgen/crmgen/internal/apptest"
)

// A follow-up carried through its workflow on the admin screens of the hospital example, by the roles
// the process names: the service center assigns it to a physician (who finds it in their inbox), the
// physician records the result and completes it, and a department head sends it back with a comment.
// Each step shows as the state badge, the buttons offered and the workflow timeline. Then the kanban
// board of follow-ups: a drag runs the matching transition, and a move no transition allows is refused.

func TestAdminHospitalWorkflow(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")
	id := someID(t, admin, "followUps", `{status: instructed}`)
	path := "/e/FollowUp/" + id
	state := func() string {
		var out struct {
			FollowUps struct {
				Edges []struct{ Node struct{ Status string } }
			}
		}
		admin.GraphQL(t, `query($id: ID!) { followUps(where: {id: $id}) { edges { node { status } } } }`, map[string]any{"id": id}).Decode(t, &out)
		return out.FollowUps.Edges[0].Node.Status
	}

	t.Run("ServiceCenterAssigns", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("heping", "service123")
		p.open(path)
		if got := p.text("#state"); got != "Instructed" {
			t.Errorf("state badge %q, want Instructed", got)
		}
		// Assigning needs a physician and a due time: its dialog asks for those not set yet
		// (TestAdminTransitionDialog runs it). Here they are set on the form (the physician through the
		// picker), then the button runs the transition.
		if p.count(`details[data-transition="assign"] :is(#t-assign-dueAt, #t-assign-physician)`) == 0 {
			t.Errorf("the assign dialog does not ask for what it waits for: %q", p.text(".transitions"))
		}
		p.open(path + "/edit")
		p.do(chromedp.Click(chromedp.CSS("#f-physician-q")), chromedp.SendKeys(chromedp.CSS("#f-physician-q"), "刘洋"))
		p.waitFor(`(b => b.length === 1 && b[0].innerText.includes('刘洋'))(document.querySelectorAll('#f-physician-list button'))`)
		// Chosen by keyboard: down into the list, Enter on the match.
		p.do(chromedp.SendKeys(chromedp.CSS("#f-physician-q"), kb.ArrowDown))
		p.waitFor(`document.activeElement === document.querySelector('#f-physician-list button')`)
		p.do(chromedp.SendKeys(chromedp.CSS("#f-physician-list button"), kb.Enter))
		p.waitFor(`document.querySelector('#f-physician').value !== '' && document.activeElement.id === 'f-physician-q'`)
		if p.count("select#f-status, input#f-status") != 0 {
			t.Errorf("the form offers the workflow's state field as an input")
		}
		p.fill("#f-dueAt", "2026-12-20T09:30")
		p.submit("#save")
		if got := p.fieldValue("physician"); got != "刘洋" {
			t.Fatalf("physician after save %q", got)
		}
		if p.count(`button[data-transition="assign"]`) != 1 {
			t.Fatalf("no assign button; transitions: %s", p.text(".transitions"))
		}
		p.submit(`button[data-transition="assign"]`)
		if got := p.text("#state"); got != "Assigned" {
			t.Errorf("state after assign %q", got)
		}
		if tl := p.text("#timeline"); !strings.Contains(tl, "Assign") || !strings.Contains(tl, "heping") {
			t.Errorf("timeline after assign: %q", tl)
		}
		if got := state(); got != "assigned" {
			t.Errorf("API state %q, want assigned", got)
		}
		p.noErrors()
	})

	t.Run("PhysicianCompletes", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("liuyang", "doctor123")
		// The assignment notified the physician: it is in their inbox, and opening it leads to the record.
		p.open("/")
		if p.count(".inbox .messages li.unread") == 0 {
			t.Fatalf("the physician's inbox shows no unread message: %q", p.text(".inbox"))
		}
		if p.text("#inbox-link .badge") == "" {
			t.Errorf("no unread badge in the header")
		}
		p.submit(".inbox .messages li.unread button")
		if !strings.HasSuffix(p.location(), path) {
			t.Errorf("opening the message went to %s, want %s", p.location(), path)
		}
		// Completing needs a result.
		p.open(path + "/edit")
		p.fill("#f-result", "患者血压控制良好，继续用药。")
		p.submit("#save")
		if p.count(`button[data-transition="complete"]`) != 1 {
			t.Fatalf("no complete button after saving the result; page: %s", p.text("main"))
		}
		p.submit(`button[data-transition="complete"]`)
		if got := p.text("#state"); got != "Done" {
			t.Errorf("state after complete %q", got)
		}
		// A physician may not send it back: that is the department head's. Forcing it shows the API's
		// refusal on the record's screen, and changes nothing.
		if p.count(`[data-transition="reopen"]`) != 0 {
			t.Errorf("a physician is offered reopen")
		}
		_, body := p.fetchPost(path+"/transition", "transition=reopen&comment=x")
		if !strings.Contains(body, `id="action-error"`) {
			t.Errorf("a refused transition shows no error")
		}
		if got := state(); got != "done" {
			t.Errorf("a refused reopen changed the state to %s", got)
		}
		// The inbox: the message opened above is read now; mark the rest read.
		p.open("/inbox")
		if p.count(".messages li") == 0 {
			t.Errorf("the inbox page lists no messages")
		}
		if p.count(".messages li.unread") > 0 {
			p.submit(`form[action="/inbox/read"] input[name=all] ~ button`)
		}
		if n := p.count(".messages li.unread"); n != 0 || p.text("#inbox-link .badge") != "" {
			t.Errorf("after mark all read: %d unread, badge %q", n, p.text("#inbox-link .badge"))
		}
		p.noErrors()
	})

	t.Run("DeptHeadReopensWithComment", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("zhangjianguo", "doctor123")
		p.open(path)
		if p.count(`details[data-transition="reopen"]`) != 1 {
			t.Fatalf("no reopen action for the department head: %s", p.text(".transitions"))
		}
		p.do(chromedp.Click(chromedp.CSS(`details[data-transition="reopen"] summary`)))
		if req := eval[bool](p, `document.querySelector('#c-reopen').required`); !req {
			t.Errorf("reopen's comment is not required on the form")
		}
		p.fill("#c-reopen", "结果记录不完整，请补充")
		p.submit(`details[data-transition="reopen"] button[type=submit]`)
		if got := p.text("#state"); got != "Assigned" {
			t.Errorf("state after reopen %q", got)
		}
		if tl := p.text("#timeline"); !strings.Contains(tl, "结果记录不完整") {
			t.Errorf("the timeline lacks the comment: %q", tl)
		}
		if got := state(); got != "assigned" {
			t.Errorf("API state %q, want assigned", got)
		}
		browsertestScreens(p, "admin-hospital-FollowUp-workflow")
		p.noErrors()
	})

	t.Run("Kanban", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("admin", "admin123")
		checkKanban(t, p, admin, a.Model.Entity("FollowUp"))
		// A move whose transition needs a comment asks for it, and the comment lands in the timeline.
		p.open("/e/FollowUp/kanban")
		card := eval[string](p, `[...document.querySelectorAll('.kcard')].find(c => c.dataset.moves.split(' ').includes('assigned!'))?.dataset.id ?? ''`)
		if card == "" {
			t.Fatalf("no follow-up card may be sent back with a comment")
		}
		dragTo(p, card, "assigned")
		p.waitFor(`document.querySelector('#move-comment').open`)
		p.fill("#move-comment-text", "看板退回：请补充随访结果")
		p.do(chromedp.Click(chromedp.CSS(`#move-comment button[value="ok"]`)))
		p.waitFor(fmt.Sprintf(`document.querySelector('.column[data-column="assigned"] .kcard[data-id=%q]')`, card))
		p.open("/e/FollowUp/" + card)
		if tl := p.text("#timeline"); !strings.Contains(tl, "看板退回") {
			t.Errorf("the kanban comment is not in the timeline: %q", tl)
		}
		p.noErrors()
	})
}

// browsertestScreens saves the current page at desktop and phone widths.
func browsertestScreens(p *page, name string) { p.screenshots(name) }
