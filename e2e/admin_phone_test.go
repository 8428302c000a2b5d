package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/browsertest"
)

// The phone pass (issue 13, defect 7), measured at 390 px in Chinese: labels such as 计划随访时间 keep to
// one line wherever they appear (they used to wrap one character per line), the list's filters fold away
// behind one button so the first records are on the first screen, and phone numbers are tap-to-call links.
func TestAdminPhone(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t), noTimers)
	api := s.As(t, "admin", "admin123")
	p := openBrowser(t, s)
	p.signIn("admin", "admin123")
	p.language("zh")
	p.phone()

	var out struct {
		FollowUps struct {
			Edges []struct{ Node struct{ ID string } }
		}
		Patients struct {
			Edges []struct{ Node struct{ ID, Phone string } }
		}
	}
	api.GraphQL(t, `{ followUps(first: 1, where: {dueAtNotNil: true, status: assigned}) { edges { node { id } } }
		patients(first: 1, where: {phoneNotNil: true}) { edges { node { id phone } } } }`, nil).Decode(t, &out)
	if len(out.FollowUps.Edges) == 0 || len(out.Patients.Edges) == 0 {
		t.Fatal("the demo data has no assigned follow-up with a due time, or no patient with a phone")
	}
	followUp := "/e/FollowUp/" + out.FollowUps.Edges[0].Node.ID

	t.Run("LabelsKeepToOneLine", func(t *testing.T) {
		p.t = t
		// Every text of the page that is the label 计划随访时间 is laid out as one line box (a wrapped text
		// has one client rect per line); a list card's label (a ::before) is as wide as its text.
		for _, path := range []string{"/e/FollowUp", followUp, followUp + "/edit"} {
			p.open(path)
			if path == "/e/FollowUp" {
				p.do(chromedp.Click(chromedp.CSS("#filter-toggle"))) // the date filter's legend, unfolded
			}
			type seen struct {
				Tag   string
				Lines int
				Width float64
			}
			found := eval[[]seen](p, `(() => {
				const out = [];
				const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
				for (let n = walk.nextNode(); n; n = walk.nextNode()) {
					if (!n.textContent.includes('计划随访时间')) continue;
					const el = n.parentElement;
					if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue; // not shown
					const r = document.createRange(); r.selectNodeContents(n);
					const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size;
					out.push({Tag: el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''), Lines: lines, Width: r.getBoundingClientRect().width});
				}
				for (const td of document.querySelectorAll('main td[data-label="计划随访时间"]')) {
					if (!td.offsetParent) continue;
					const b = getComputedStyle(td, '::before');
					const lh = parseFloat(getComputedStyle(td).lineHeight) || 22;
					out.push({Tag: 'td::before', Lines: Math.round(parseFloat(b.height) / lh) || 1, Width: parseFloat(b.width)});
				}
				return out;
			})()`)
			if len(found) == 0 {
				t.Errorf("%s: the label 计划随访时间 is not shown", path)
			}
			for _, f := range found {
				if f.Lines != 1 || f.Width < 80 {
					t.Errorf("%s: %s shows 计划随访时间 on %d lines, %.0f px wide", path, f.Tag, f.Lines, f.Width)
				}
			}
		}
		p.open(followUp)
		p.screenshots("phone-followup-detail")
	})

	t.Run("FiltersFold", func(t *testing.T) {
		p.t = t
		p.phone() // screenshots end at desktop width
		p.open("/e/FollowUp")
		visible := func(sel string) bool {
			return eval[bool](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
				const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })()`, jsString(sel)))
		}
		if !visible("#q") {
			t.Error("the search box is folded away on a phone")
		}
		if visible("#f-status") {
			t.Error("the filters fill the phone's first screen: they are shown before the records")
		}
		if top := eval[float64](p, `document.querySelector('#results tbody tr').getBoundingClientRect().top`); top > 600 {
			t.Errorf("the first record starts %.0f px down the phone's screen", top)
		}
		p.do(chromedp.Click(chromedp.CSS("#filter-toggle")))
		if !visible("#f-status") {
			t.Error("the filter button does not show the filters")
		}
		p.screenshots("phone-followup-list")
		p.open("/e/FollowUp")
		if !visible("#f-status") || visible("#filter-toggle") {
			t.Error("at desktop width the filters should show, without the phone's button")
		}
		p.phone()
	})

	t.Run("TapToCall", func(t *testing.T) {
		p.t = t
		pt := out.Patients.Edges[0].Node
		p.open("/e/Patient/" + pt.ID)
		href := eval[string](p, `document.querySelector('[data-field=phone] dd a')?.getAttribute('href') ?? ''`)
		if want := "tel:" + strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == '+' {
				return r
			}
			return -1
		}, pt.Phone); href != want {
			t.Errorf("the patient's phone links to %q, want %q", href, want)
		}
		p.open("/e/Patient")
		if n := p.count(`#results td a[href^="tel:"]`); n == 0 {
			t.Error("the patient list has no tap-to-call links")
		}
	})

	t.Run("KanbanByTouch", func(t *testing.T) {
		p.t = t
		// A touch screen starts no HTML drag: a card's "move to" menu moves it with two taps.
		p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
		defer p.phone()
		p.open("/e/FollowUp/kanban")
		card := eval[kanbanCard](p, `(() => { for (const c of document.querySelectorAll('.kcard')) {
				const b = c.querySelector('.kmove button[data-to]');
				if (b && !c.dataset.moves.split(' ').includes(b.dataset.to + '!')) return {ID: c.dataset.id, Col: b.dataset.to, Moves: c.dataset.moves};
			}
			return {ID: '', Col: '', Moves: ''}; })()`)
		if card.ID == "" {
			t.Fatal("no follow-up card offers a move without a comment on a touch screen")
		}
		sel := fmt.Sprintf(`.kcard[data-id=%q]`, card.ID)
		p.do(chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Tap(chromedp.CSS(sel+" .kmove summary")))
		p.waitFor(fmt.Sprintf(`document.querySelector('%s .kmove').open`, sel))
		p.do(chromedp.Tap(chromedp.CSS(fmt.Sprintf(`%s .kmove button[data-to=%q]`, sel, card.Col))))
		p.waitFor(fmt.Sprintf(`document.querySelector('.column[data-column=%q] .kcard[data-id=%q]')`, card.Col, card.ID))
		var out struct {
			Node struct{ Status string }
		}
		api.GraphQL(t, `query($id: ID!) { node(id: $id) { ... on FollowUp { status } } }`, map[string]any{"id": card.ID}).Decode(t, &out)
		if out.Node.Status != card.Col {
			t.Errorf("after the tapped move the follow-up's status is %q, want %q", out.Node.Status, card.Col)
		}
		if p.count(sel+" .kmove") != 0 {
			t.Error("the moved card still offers the moves of its old state")
		}
		browsertest.Screenshot(t, p.ctx, "phone-kanban-touch")
	})

	t.Run("CalendarAgenda", func(t *testing.T) {
		p.t = t
		// On a phone the month is an agenda of the days that have entries, not a 42-cell grid.
		var apps struct {
			Appointments struct {
				Edges []struct {
					Node struct{ Code, ScheduledAt string }
				}
			}
		}
		api.GraphQL(t, `{ appointments(first: 1, orderBy: {field: SCHEDULED_AT}) { edges { node { code scheduledAt } } } }`, nil).Decode(t, &apps)
		ap := apps.Appointments.Edges[0].Node
		at, err := time.Parse(time.RFC3339, ap.ScheduledAt)
		if err != nil {
			t.Fatal(err)
		}
		shanghai, err := time.LoadLocation(a.Model.App.Timezone) // the day as the app's zone has it
		if err != nil {
			t.Fatal(err)
		}
		p.open("/e/Appointment/calendar?d=" + at.In(shanghai).Format("2006-01-02"))
		shown := func(sel string) bool {
			return eval[bool](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
				const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })()`, jsString(sel)))
		}
		if shown("table.calendar") {
			t.Error("the phone shows the month grid")
		}
		if !shown("ol.agenda") {
			t.Fatal("the phone shows no agenda")
		}
		if got := p.text("ol.agenda"); !strings.Contains(got, ap.Code) {
			t.Errorf("the agenda of the month does not list appointment %s: %q", ap.Code, got)
		}
		days := eval[[]string](p, `[...document.querySelectorAll('ol.agenda li.agenda-day')].map(d => d.dataset.date)`)
		for i := 1; i < len(days); i++ {
			if days[i] <= days[i-1] {
				t.Errorf("the agenda's days are out of order: %v", days)
				break
			}
		}
		browsertest.Screenshot(t, p.ctx, "phone-calendar-agenda")
		p.desktop()
		if shown("ol.agenda") || !shown("table.calendar") {
			t.Error("at desktop width the calendar should be the month grid, without the agenda")
		}
		p.phone()
	})
	p.desktop()
	p.noErrors()
}

// The phone's top bar (issue 13): at 390 px the header is one compact line — a menu button that opens
// the navigation, the brand, a search button that opens the global search, and a user menu holding the
// language switch, the profile and sign-out — in Chinese and in English, on the hospital and the b2b
// examples and the kitchen-sink model; at desktop width the header shows its items as before, without the phone's buttons.
func TestAdminPhoneTopBar(t *testing.T) {
	for _, ex := range []struct {
		name, entity, query string // an entity whose title the global search finds, and its records' query
	}{
		{"hospital", "Patient", "patients"},
		{"b2b-sales", "Customer", "customers"},
		{"kitchen", "Account", "accounts"},
	} {
		t.Run(ex.name, func(t *testing.T) {
			a := sweptApp(t, ex.name)
			s := a.Start(t, apptest.SQLitePath(t), noTimers)
			api := s.As(t, "admin", "admin123")
			var out map[string]struct {
				Edges []struct{ Node struct{ Name string } }
			}
			api.GraphQL(t, `{ `+ex.query+`(first: 1) { edges { node { name } } } }`, nil).Decode(t, &out)
			if len(out[ex.query].Edges) == 0 {
				t.Fatalf("the demo data has no %s", ex.entity)
			}
			name := out[ex.query].Edges[0].Node.Name
			p := openBrowser(t, s)
			p.signIn("admin", "admin123")
			for _, lang := range []string{"zh", "en"} {
				t.Run(lang, func(t *testing.T) {
					p.t = t
					p.language(lang)
					p.phone()
					defer p.desktop()
					p.open("/")
					checkTopBarLine(t, p, "at 390 px")
					for _, sel := range []string{"#global-q", "#sign-out", "nav.langs", "nav.side"} {
						if shown(p, sel) {
							t.Errorf("at 390 px %s is shown in the page, not behind its button", sel)
						}
					}
					browsertest.Screenshot(t, p.ctx, "phone-topbar-"+ex.name+"-"+lang)

					// The menu button opens the navigation; an entity's link in it opens its list.
					p.do(chromedp.Click(chromedp.CSS("#nav-toggle")))
					if !expanded(p, "#nav-toggle") || !shown(p, "nav.side") {
						t.Fatal("the menu button does not open the navigation")
					}
					checkNoOverflow(t, p, "with the navigation open")
					browsertest.Screenshot(t, p.ctx, "phone-topbar-"+ex.name+"-"+lang+"-menu")
					checkDrawer(t, p)
					p.do(chromedp.Click(chromedp.CSS("#nav-toggle")))
					p.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`nav.side a[data-entity=%q]`, ex.entity))))
					p.waitFor(fmt.Sprintf(`location.pathname === '/e/%s' && document.querySelector('#results')`, ex.entity))
					if shown(p, "nav.side") || expanded(p, "#nav-toggle") {
						t.Error("the navigation stays open on the entity's list")
					}
					checkTopBarLine(t, p, "on a list at 390 px")

					// By keyboard: Enter on the focused menu button opens the navigation, Escape closes it
					// and gives the focus back to the button.
					p.do(chromedp.Focus(chromedp.CSS("#nav-toggle")), chromedp.KeyEvent(kb.Enter))
					p.waitFor(`document.querySelector('#nav-toggle').getAttribute('aria-expanded') === 'true'`)
					p.do(chromedp.KeyEvent(kb.Escape))
					p.waitFor(`document.querySelector('#nav-toggle').getAttribute('aria-expanded') === 'false'`)
					if id := eval[string](p, `document.activeElement?.id ?? ''`); id != "nav-toggle" || shown(p, "nav.side") {
						t.Errorf("Escape leaves the navigation shown %t, the focus on %q", shown(p, "nav.side"), id)
					}

					// The search button opens the header's search box, focused; a query finds a record.
					p.do(chromedp.Click(chromedp.CSS("#search-toggle")))
					if !expanded(p, "#search-toggle") || !shown(p, "#global-q") {
						t.Fatal("the search button does not show the search box")
					}
					if id := eval[string](p, `document.activeElement?.id ?? ''`); id != "global-q" {
						t.Errorf("the search button focused %q, want the search box", id)
					}
					checkNoOverflow(t, p, "with the search box open")
					checkTopBarLine(t, p, "with the search box open")
					browsertest.Screenshot(t, p.ctx, "phone-topbar-"+ex.name+"-"+lang+"-search")
					eval[bool](p, `(window.__stale = true)`)
					p.do(chromedp.SendKeys("#global-q", name+kb.Enter))
					p.waitFor(`window.__stale === undefined && document.querySelector('#search-results')`)
					if got := p.texts(fmt.Sprintf(`.search-group[data-entity=%q] li a`, ex.entity)); !slices.Contains(got, name) {
						t.Errorf("searching %q finds %v, not the %s", name, got, ex.entity)
					}
					checkNoOverflow(t, p, "on the search results")

					// Ctrl+K still reaches the search box on a phone (a keyboard may be attached).
					p.do(chromedp.KeyEvent("k", chromedp.KeyModifiers(kb.ModifierCtrl)))
					if id := eval[string](p, `document.activeElement?.id ?? ''`); id != "global-q" || !shown(p, "#global-q") {
						t.Errorf("Ctrl+K on a phone focused %q", id)
					}
					p.do(chromedp.KeyEvent(kb.Escape))

					// The user menu holds the language switch, the profile and sign-out.
					p.do(chromedp.Click(chromedp.CSS("#user-toggle")))
					if !expanded(p, "#user-toggle") {
						t.Fatal("the user menu does not open")
					}
					for _, sel := range []string{`nav.langs a[hreflang="zh"]`, `nav.langs a[hreflang="en"]`, "#profile-link", "#sign-out"} {
						if !shown(p, sel) {
							t.Errorf("the open user menu does not show %s", sel)
						}
					}
					if shown(p, "#global-q") {
						t.Error("the search box stays open under the user menu")
					}
					checkNoOverflow(t, p, "with the user menu open")
					browsertest.Screenshot(t, p.ctx, "phone-topbar-"+ex.name+"-"+lang+"-user")
					p.submit("#profile-link")
					p.waitFor(`location.pathname === '/profile'`)
					p.do(chromedp.Click(chromedp.CSS("#user-toggle")))
					eval[bool](p, `(window.__stale = true)`)
					p.do(chromedp.Click(chromedp.CSS("#sign-out")))
					p.waitFor(`window.__stale === undefined && location.pathname === '/login'`)
					checkTopBarLine(t, p, "on the sign-in page")
					p.desktop()
					p.signIn("admin", "admin123")
				})
			}

			// A tablet held upright (768 px) has no room for the side column either: the same one-line bar
			// and drawer as a phone.
			t.Run("Tablet", func(t *testing.T) {
				p.t = t
				p.do(chromedp.EmulateViewport(768, 1024))
				defer p.desktop()
				p.open("/")
				checkTopBarLine(t, p, "at 768 px")
				for _, sel := range []string{"#global-q", "#sign-out", "nav.side"} {
					if shown(p, sel) {
						t.Errorf("at 768 px %s is shown in the page, not behind its button", sel)
					}
				}
				p.do(chromedp.Click(chromedp.CSS("#nav-toggle")))
				if !shown(p, "nav.side") {
					t.Fatal("at 768 px the menu button does not open the navigation")
				}
				checkDrawer(t, p)
				browsertest.Screenshot(t, p.ctx, "tablet-topbar-"+ex.name)
			})

			t.Run("Desktop", func(t *testing.T) {
				p.t = t
				p.desktop()
				p.open("/")
				for _, sel := range []string{"header.top .brand", "#global-q", `nav.langs a[hreflang="zh"]`, `nav.langs a[hreflang="en"]`,
					"header.top .who", "#profile-link", "#sign-out", "nav.side"} {
					if !shown(p, sel) {
						t.Errorf("at desktop width %s is not shown", sel)
					}
				}
				for _, sel := range []string{"#nav-toggle", "#search-toggle", "#user-toggle"} {
					if shown(p, sel) {
						t.Errorf("at desktop width the phone's %s is shown", sel)
					}
				}
				checkTopBarLine(t, p, "at desktop width")
				browsertest.Screenshot(t, p.ctx, "desktop-topbar-"+ex.name)
			})
			p.noErrors()
		})
	}
}

// checkDrawer checks the open navigation drawer: the page beside it is dimmed by a backdrop, Tab and
// Shift+Tab cycle through the menu button and the drawer's links without leaving them, and a tap on the
// backdrop closes the drawer.
func checkDrawer(t *testing.T, p *page) {
	t.Helper()
	beside := eval[struct{ X, Y float64 }](p, `(() => { const r = document.querySelector('nav.side').getBoundingClientRect();
		return {X: (r.right + innerWidth) / 2, Y: innerHeight * 0.7}; })()`)
	if hit := eval[string](p, fmt.Sprintf(`document.elementFromPoint(%f, %f)?.id ?? ''`, beside.X, beside.Y)); hit != "nav-backdrop" {
		t.Errorf("beside the open drawer the page is not covered by its backdrop (%q is on top)", hit)
	}
	links := p.count("nav.side a[href]")
	p.do(chromedp.Focus(chromedp.CSS("#nav-toggle")))
	for i := 0; i < links; i++ {
		p.do(chromedp.KeyEvent(kb.Tab))
	}
	if last := eval[bool](p, `document.activeElement === [...document.querySelectorAll('nav.side a[href]')].at(-1)`); !last {
		t.Errorf("Tab %d times from the menu button reaches %q, not the drawer's last link", links, eval[string](p, `document.activeElement?.textContent ?? ''`))
	}
	p.do(chromedp.KeyEvent(kb.Tab))
	if id := eval[string](p, `document.activeElement?.id ?? ''`); id != "nav-toggle" || !shown(p, "nav.side") {
		t.Errorf("Tab from the drawer's last link goes to %q (drawer shown %t), want back to the menu button", id, shown(p, "nav.side"))
	}
	p.do(chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(kb.ModifierShift)))
	if last := eval[bool](p, `document.activeElement === [...document.querySelectorAll('nav.side a[href]')].at(-1)`); !last {
		t.Errorf("Shift+Tab from the menu button does not go to the drawer's last link")
	}
	p.do(chromedp.MouseClickXY(beside.X, beside.Y))
	p.waitFor(`document.querySelector('#nav-toggle').getAttribute('aria-expanded') === 'false'`)
	if shown(p, "nav.side") || shown(p, "#nav-backdrop") {
		t.Errorf("a tap beside the drawer leaves it (%t) or its backdrop (%t) shown", shown(p, "nav.side"), shown(p, "#nav-backdrop"))
	}
}

// shown reports whether an element matching sel is laid out with a size (not hidden).
func shown(p *page, sel string) bool {
	p.t.Helper()
	return eval[bool](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
		const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })()`, jsString(sel)))
}

// expanded reports whether the button sel says it has opened what it controls.
func expanded(p *page, sel string) bool {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`document.querySelector(%s)?.getAttribute('aria-expanded') ?? ''`, jsString(sel))) == "true"
}

// checkTopBarLine checks that the header is one line: at most 64 px high, its shown items side by side
// (their boxes share a row) and within the screen's width, and the page no wider than the screen.
func checkTopBarLine(t *testing.T, p *page, where string) {
	t.Helper()
	bar := eval[struct {
		Height, Width float64
		Items         []struct {
			Name               string
			Top, Bottom, Right float64
		}
	}](p, `(() => {
		const h = document.querySelector('header.top'), r = h.getBoundingClientRect();
		const items = [];
		// The bar's items: its children and the tools' children (a menu or box it opens floats below).
		for (const e of [...h.children, ...h.querySelectorAll('.top-tools > *, .user-menu > *')]) {
			const b = e.getBoundingClientRect(), cs = getComputedStyle(e);
			if (b.width === 0 || b.height === 0 || cs.display === 'contents' || e.classList.contains('top-tools')) continue;
			if (e.closest('.user-menu.open, .global-search.open')) continue;
			items.push({Name: e.id || e.className || e.tagName.toLowerCase(), Top: b.top, Bottom: b.bottom, Right: b.right});
		}
		return {Height: r.height, Width: innerWidth, Items: items};
	})()`)
	t.Logf("%s the header is %.0f px high, %d items in it", where, bar.Height, len(bar.Items))
	if bar.Height > 64 {
		t.Errorf("%s the header is %.0f px high, more than one line", where, bar.Height)
	}
	top, bottom := 0.0, bar.Height
	for i, it := range bar.Items {
		if i == 0 || it.Top > top {
			top = it.Top
		}
		if i == 0 || it.Bottom < bottom {
			bottom = it.Bottom
		}
		if it.Right > bar.Width+0.5 {
			t.Errorf("%s the header's %s ends at %.0f px, past the screen's %.0f", where, it.Name, it.Right, bar.Width)
		}
	}
	if len(bar.Items) > 0 && top >= bottom {
		t.Errorf("%s the header's items are not on one row: %+v", where, bar.Items)
	}
	checkNoOverflow(t, p, where)
}

// checkNoOverflow checks that the page is no wider than the screen (nothing scrolls sideways).
func checkNoOverflow(t *testing.T, p *page, where string) {
	t.Helper()
	if w := eval[[]float64](p, `[document.documentElement.scrollWidth, innerWidth]`); w[0] > w[1] {
		t.Errorf("%s the page is %.0f px wide, wider than the screen's %.0f", where, w[0], w[1])
	}
}
