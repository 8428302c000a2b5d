package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestAdminBulk runs the list's bulk transition and bulk edit in the browser on the hospital example:
// each checked row goes through the API on its own, the rows that can are written, and the refused ones
// are listed with the record page's wording in the user's language; the bulk edit offers only fields the
// user may update, and the server refuses any other field name posted by hand, writing nothing.
func TestAdminBulk(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")

	// check ticks the rows of ids on the list shown.
	check := func(p *page, ids ...string) {
		t.Helper()
		js, _ := json.Marshal(ids)
		if n := eval[int](p, `(ids => { let n = 0; for (const id of ids) { const c = document.querySelector('#results input[name=id][value="' + id + '"]');
			if (c) { c.checked = true; n++; } } return n; })(`+string(js)+`)`); n != len(ids) {
			t.Fatalf("the list shows %d of the %d rows to check", n, len(ids))
		}
	}

	t.Run("TransitionSomeRefused", func(t *testing.T) {
		followUp := func(status string) string { return someID(t, admin, "followUps", "{status: "+status+"}") }
		var done struct {
			FollowUps struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		admin.GraphQL(t, `{ followUps(first: 2, where: {status: done}) { edges { node { id } } } }`, nil).Decode(t, &done)
		if len(done.FollowUps.Edges) != 2 {
			t.Fatalf("the example has %d done follow-ups, want 2", len(done.FollowUps.Edges))
		}
		movable := []string{done.FollowUps.Edges[0].Node.ID, done.FollowUps.Edges[1].Node.ID}
		stuck := followUp("assigned")

		p := openBrowser(t, s)
		p.signIn("heping", "service123")
		p.open("/lang?l=zh&next=/e/FollowUp?n=200")
		options := p.texts("#bulk-transition option")
		// Archive needs nothing; assign needs a physician and due time (per row): not offered in bulk.
		if !contains(options, "归档") || contains(options, "分派") {
			t.Fatalf("bulk transitions offered %q, want 归档 and not 分派", options)
		}
		check(p, append(movable, stuck)...)
		eval[bool](p, `(document.querySelector('#bulk-transition').value = 'archive', true)`)
		p.submit("#bulk-run")
		if got := p.text("#bulk-done"); !strings.Contains(got, "2") || !strings.Contains(got, "3") || !strings.Contains(got, "归档") {
			t.Errorf("the outcome says %q, want 2 of 3 archived", got)
		}
		refused := p.texts("#refused li")
		if len(refused) != 1 || p.count(`#refused li[data-id="`+stuck+`"]`) != 1 {
			t.Fatalf("refused rows %q, want only the assigned follow-up", refused)
		}
		plain(t, refused[0], "zh", "已分派", "归档")
		p.screenshots("bulk-transition")
		var out struct {
			FollowUps struct {
				Edges []struct{ Node struct{ ID, Status string } }
			}
		}
		admin.GraphQL(t, `query($ids: [ID!]) { followUps(where: {idIn: $ids}) { edges { node { id status } } } }`,
			map[string]any{"ids": append(movable, stuck)}).Decode(t, &out)
		for _, e := range out.FollowUps.Edges {
			want := "archived"
			if e.Node.ID == stuck {
				want = "assigned"
			}
			if e.Node.Status != want {
				t.Errorf("follow-up %s is %s after the bulk archive, want %s", e.Node.ID, e.Node.Status, want)
			}
		}
		// A transition that needs fields, posted by hand, is refused whole.
		if status, _ := p.fetchPost("/e/FollowUp/bulk/transition", "transition=assign&id="+stuck); status != 403 {
			t.Errorf("a hand-made bulk assign answered %d, want 403", status)
		}
		p.noErrorsExcept("403")
	})

	t.Run("CloseComplaintsEnglish", func(t *testing.T) {
		// Close (comment optional) is offered; send back needs a comment and is not.
		handled, received := someID(t, admin, "complaints", "{status: handled}"), someID(t, admin, "complaints", "{status: received}")
		p := openBrowser(t, s)
		p.signIn("heping", "service123")
		p.open("/lang?l=en&next=/e/Complaint?n=200")
		if options := p.texts("#bulk-transition option"); !contains(options, "Close") || contains(options, "Send back") {
			t.Fatalf("bulk transitions offered %q, want Close and not Send back", options)
		}
		check(p, handled, received)
		eval[bool](p, `(document.querySelector('#bulk-transition').value = 'close', true)`)
		p.submit("#bulk-run")
		if got := p.text("#bulk-done"); !strings.Contains(got, "Close") || !strings.Contains(got, "1 of the 2") {
			t.Errorf("the outcome says %q, want 1 of 2 closed", got)
		}
		if refused := p.texts("#refused li"); len(refused) != 1 || p.count(`#refused li[data-id="`+received+`"]`) != 1 {
			t.Fatalf("refused rows %q, want only the received complaint", refused)
		} else {
			plain(t, refused[0], "en", "Received", "Close")
		}
		if n := adminCount(t, admin, "complaints", fmt.Sprintf(`{id: %q, status: closed}`, handled)); n != 1 {
			t.Errorf("the handled complaint was not closed")
		}
		if n := adminCount(t, admin, "complaints", fmt.Sprintf(`{id: %q, status: received}`, received)); n != 1 {
			t.Errorf("the received complaint changed state")
		}
		p.noErrors()
	})

	t.Run("EditGrade", func(t *testing.T) {
		var ps struct {
			Patients struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		admin.GraphQL(t, `{ patients(first: 2, where: {gradeNEQ: A}) { edges { node { id } } } }`, nil).Decode(t, &ps)
		if len(ps.Patients.Edges) != 2 {
			t.Fatal("the example has no two patients below grade A")
		}
		ids := []string{ps.Patients.Edges[0].Node.ID, ps.Patients.Edges[1].Node.ID}
		p := openBrowser(t, s)
		p.signIn("heping", "service123")
		p.open("/lang?l=zh&next=/e/Patient?n=200")
		check(p, ids...)
		eval[bool](p, `(document.querySelector('#bulk-field').value = 'grade', true)`)
		p.submit("#bulk-edit")
		if p.count("select#bulk-value") != 1 || !strings.Contains(p.text("h1"), "患者等级") {
			t.Fatalf("the bulk edit form: %q", p.text("main"))
		}
		p.fill("#bulk-value", "A")
		p.screenshots("bulk-edit-form")
		p.submit("#bulk-apply")
		if got := p.text("#bulk-done"); !strings.Contains(got, "2") || p.count("#refused li") != 0 {
			t.Errorf("the outcome says %q with refused %q, want 2 of 2", got, p.texts("#refused li"))
		}
		p.screenshots("bulk-edit-done")
		if n := adminCount(t, admin, "patients", fmt.Sprintf(`{idIn: [%q, %q], grade: A}`, ids[0], ids[1])); n != 2 {
			t.Errorf("%d of the 2 patients are grade A after the bulk edit", n)
		}
		p.noErrors()
	})

	t.Run("EditPhysicianPicker", func(t *testing.T) {
		// A to-one relation is set through the edit form's picker, once for all checked rows.
		var fs struct {
			FollowUps struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		admin.GraphQL(t, `{ followUps(first: 2, where: {status: instructed}) { edges { node { id } } } }`, nil).Decode(t, &fs)
		if len(fs.FollowUps.Edges) != 2 {
			t.Fatal("the example has no two instructed follow-ups")
		}
		ids := []string{fs.FollowUps.Edges[0].Node.ID, fs.FollowUps.Edges[1].Node.ID}
		p := openBrowser(t, s)
		p.signIn("heping", "service123")
		p.open("/e/FollowUp?n=200")
		check(p, ids...)
		eval[bool](p, `(document.querySelector('#bulk-field').value = 'physician', true)`)
		p.submit("#bulk-edit")
		p.do(chromedp.Click(chromedp.CSS("#bulk-value-q")), chromedp.SendKeys(chromedp.CSS("#bulk-value-q"), "周敏"))
		p.waitFor(`(b => b.length === 1 && b[0].innerText.includes('周敏'))(document.querySelectorAll('#bulk-value-list button'))`)
		p.do(chromedp.Click(chromedp.CSS("#bulk-value-list button")))
		p.waitFor(`document.querySelector('#bulk-value').value !== ''`)
		p.submit("#bulk-apply")
		if got := p.text("#bulk-done"); !strings.Contains(got, "2 of the 2") {
			t.Errorf("the outcome says %q, want 2 of 2", got)
		}
		if n := adminCount(t, admin, "followUps", fmt.Sprintf(`{idIn: [%q, %q], hasPhysicianWith: {username: "zhoumin"}}`, ids[0], ids[1])); n != 2 {
			t.Errorf("%d of the 2 follow-ups have 周敏 as physician after the bulk edit", n)
		}
		p.noErrors()
	})

	t.Run("FieldNotOffered", func(t *testing.T) {
		// A physician may update their own patients, but not the ID card number (readonly for them).
		api := s.As(t, "liuyang", "doctor123")
		id := someID(t, api, "patients", "")
		idCard := func() string {
			var out struct {
				Patients struct {
					Edges []struct{ Node struct{ IdCard string } }
				}
			}
			admin.GraphQL(t, `query($id: ID!) { patients(where: {id: $id}) { edges { node { idCard } } } }`, map[string]any{"id": id}).Decode(t, &out)
			return out.Patients.Edges[0].Node.IdCard
		}
		card := idCard()
		p := openBrowser(t, s)
		p.signIn("liuyang", "doctor123")
		p.open("/e/Patient")
		fields := eval[[]string](p, `[...document.querySelectorAll('#bulk-field option')].map(o => o.value)`)
		if !containsText(fields, "grade") || containsText(fields, "idCard") {
			t.Errorf("the physician's bulk edit offers %q, want grade and not idCard", fields)
		}
		p.screenshots("bulk-bar-physician")
		form := url.Values{"field": {"idCard"}, "apply": {"1"}, "id": {id}, "idCard": {"330102199001011234"}}
		if card == "330102199001011234" {
			t.Fatal("the test's ID card number is the patient's own")
		}
		if status, _ := p.fetchPost("/e/Patient/bulk/edit", form.Encode()); status != 403 {
			t.Errorf("a hand-made bulk edit of the ID card answered %d, want 403", status)
		}
		if got := idCard(); got != card || card == "" {
			t.Errorf("the ID card changed from %q to %q", card, got)
		}
		p.noErrorsExcept("403")
	})
}
