package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/browsertest"
	"github.com/crmgen/crmgen/metamodel"
)

// Helpers of the admin screens' browser tests (admin_*_test.go): each test starts an example app on
// SQLite with its demo data, signs in through the sign-in page in headless Chromium as one of the
// example's users, and drives the screens as that user would.

// adminApp returns the example app the admin tests drive, built once per test binary and shared with
// the other example tests. CRMGEN_ADMIN_MODEL_<NAME> (hospital, b2b_sales) points at another model
// directory for trying the screens on a variant of an example; it is built separately.
//
// The apps the test starts afterwards run in the examples' time zone (TZ=Asia/Shanghai, as a hospital in
// Hangzhou would run them), so screens and screenshots show the demo data's local times.
func adminApp(t *testing.T, name string) *apptest.App {
	t.Helper()
	t.Setenv("TZ", "Asia/Shanghai")
	if dir := os.Getenv("CRMGEN_ADMIN_MODEL_" + strings.ReplaceAll(name, "-", "_")); dir != "" {
		return built(t, dir, name+"-admin")
	}
	return built(t, "examples/"+name, name)
}

// sweptApp is the app of an example, or, for "kitchen", of the kitchen-sink model of the foundation
// tests, which the screen sweeps cover beside the examples.
func sweptApp(t *testing.T, name string) *apptest.App {
	t.Helper()
	if name == "kitchen" {
		return kitchen(t)
	}
	return adminApp(t, name)
}

// page is a browser tab signed in to a running app.
type page struct {
	t   *testing.T
	ctx context.Context
	url string
}

// openBrowser starts Chromium for the test, with nobody signed in yet.
func openBrowser(t *testing.T, s *apptest.Server) *page {
	t.Helper()
	return &page{t: t, ctx: browsertest.New(t), url: s.URL}
}

// signIn opens the sign-in page, signs in and waits for the home screen.
func (p *page) signIn(username, password string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetValue(chromedp.CSS("#username"), username),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#sign-out")),
		// The page signed in to has loaded whole: a click on it must not meet a node of a document still
		// being replaced (TestAdminDiagrams failed once so, "Could not find node with given id").
		chromedp.Poll[chromedp.Void](`document.readyState === 'complete'`))
}

// actionTimeout bounds one step of a test, so a missing element fails that step, not the whole run.
const actionTimeout = 20 * time.Second

// do runs actions, failing the test (with a screenshot) on error.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		browsertest.Screenshot(p.t, p.ctx, "failed-"+p.t.Name())
		p.t.Fatalf("browser: %v (at %s)", err, p.location())
	}
}

// open navigates to a path of the app and waits for the page's main element.
func (p *page) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.url+path), chromedp.WaitReady(chromedp.CSS("main")))
}

func (p *page) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v (at %s)", js, err, p.location())
	}
	return v
}

// waitFor polls a JavaScript condition until it is truthy (15 s at most). Errors while a page is
// being replaced (the condition evaluated in a document that is going away) are retried.
func (p *page) waitFor(js string) {
	p.t.Helper()
	p.waitWithin(15*time.Second, js)
}

// waitWithin is waitFor with another limit, for work the browser does itself (drawing diagrams), which
// takes longer on a busy machine.
func (p *page) waitWithin(limit time.Duration, js string) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	browsertest.Screenshot(p.t, p.ctx, "failed-"+p.t.Name())
	p.t.Fatalf("waiting for %s: not true after %s (last error %v, at %s)", js, limit, last, p.location())
}

// text returns the trimmed text of the first element matching a CSS selector ("" if there is none).
func (p *page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(document.querySelector(%s)?.innerText ?? '').trim()`, jsString(sel)))
}

// count returns the number of elements matching a CSS selector.
func (p *page) count(sel string) int {
	p.t.Helper()
	return eval[int](p, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// texts returns the trimmed texts of every element matching a CSS selector.
func (p *page) texts(sel string) []string {
	p.t.Helper()
	return eval[[]string](p, fmt.Sprintf(`[...document.querySelectorAll(%s)].map(e => e.innerText.trim())`, jsString(sel)))
}

// fill sets an input's value as typing would (input and change events fire).
func (p *page) fill(sel, value string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) throw new Error('no ' + %s);
		e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`,
		jsString(sel), jsString(sel), jsString(value)))
}

// submit clicks a submit button or a link and waits for the next page to have loaded.
func (p *page) submit(sel string) {
	p.t.Helper()
	eval[bool](p, `(window.__stale = true)`)
	p.do(chromedp.Click(chromedp.CSS(sel)))
	p.waitFor(`window.__stale === undefined && document.readyState === 'complete'`)
}

// confirmAll makes the page's confirmation dialogs answer yes (until the next page load).
func (p *page) confirmAll() {
	p.t.Helper()
	eval[bool](p, `(window.confirm = () => true, true)`)
}

// fieldValue returns the text shown for field name on a detail screen.
func (p *page) fieldValue(name string) string {
	p.t.Helper()
	return p.text(fmt.Sprintf(`[data-field=%q] dd`, name))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// phone emulates a phone-sized viewport (and desktop restores the default).
func (p *page) phone() {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
}

func (p *page) desktop() {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(int64(browsertest.Viewport.Width), int64(browsertest.Viewport.Height)))
}

// screenshots saves the current page at desktop and phone widths as <name>-desktop.png and
// <name>-phone.png.
func (p *page) screenshots(name string) {
	p.t.Helper()
	browsertest.Screenshot(p.t, p.ctx, name+"-desktop")
	p.phone()
	browsertest.Screenshot(p.t, p.ctx, name+"-phone")
	p.desktop()
}

// noErrors fails the test if the pages reported console errors so far.
func (p *page) noErrors() {
	p.t.Helper()
	browsertest.NoErrors(p.t, p.ctx)
}

// noErrorsExcept is noErrors but for errors that mention one of the expected strings (a page the test
// asked for knowing it would be refused).
func (p *page) noErrorsExcept(expected ...string) {
	p.t.Helper()
	var errs []string
next:
	for _, e := range browsertest.Errors(p.ctx) {
		for _, x := range expected {
			if strings.Contains(e, x) {
				continue next
			}
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		p.t.Errorf("the page reported %d errors:\n\t%s", len(errs), strings.Join(errs, "\n\t"))
	}
}

// fetchText fetches a path of the app from the page (with its cookies) and returns the status and body.
func (p *page) fetchText(path string) (int, string) {
	p.t.Helper()
	var out struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	out = eval[struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}](p, fmt.Sprintf(`fetch(%s, {credentials: 'same-origin'}).then(async r => ({status: r.status, body: await r.text()}))`, jsString(path)))
	return out.Status, out.Body
}

// fetchPost posts a form body to a path of the app from the page (same origin, with its cookies) and
// returns the status and body.
func (p *page) fetchPost(path, body string) (int, string) {
	p.t.Helper()
	out := eval[struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}](p, fmt.Sprintf(`fetch(%s, {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: %s}).then(async r => ({status: r.status, body: await r.text()}))`,
		jsString(path), jsString(body)))
	return out.Status, out.Body
}

// entityScreens lists the screens of entity e the admin has, as the API's user (a superuser) reads them:
// its list and create form, its kanban, calendar (month and week), tree and trash where it has them, and
// a record's detail and edit form when there is a record (whose id it returns, else "").
func entityScreens(t *testing.T, api *apptest.Server, e *metamodel.Entity) (screens []string, id string) {
	t.Helper()
	screens = []string{"/e/" + e.Name, "/e/" + e.Name + "/new"}
	if v := e.Views; v != nil && v.Kanban != nil {
		screens = append(screens, "/e/"+e.Name+"/kanban")
	}
	if v := e.Views; v != nil && v.Calendar != nil {
		screens = append(screens, "/e/"+e.Name+"/calendar", "/e/"+e.Name+"/calendar?view=week")
	}
	if treeOf(e) {
		screens = append(screens, "/e/"+e.Name+"/tree")
	}
	if e.Has(metamodel.TraitSoftDelete) {
		screens = append(screens, "/e/"+e.Name+"/deleted")
	}
	if adminCount(t, api, e.QueryField(), "") > 0 {
		id = someID(t, api, e.QueryField(), "")
		screens = append(screens, "/e/"+e.Name+"/"+id, "/e/"+e.Name+"/"+id+"/edit")
	}
	return screens, id
}

// treeOf reports whether e has a relation to itself, which the admin browses as a tree.
func treeOf(e *metamodel.Entity) bool {
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo && r.To == e.Name {
			return true
		}
	}
	return false
}
