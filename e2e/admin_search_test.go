package e2e

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crmgen/crmgen/internal/apptest"
)

// Global search (issue 13): the header's box, reached with Ctrl+K, searches every entity the user may
// read through the API's search argument. On the permission test model: the rep alice reads only her own
// accounts and may not search by the sensitive taxId; the auditor erin reads every account and sees taxId.
// Alice cannot find Bob's account Beta, nor her own Acme by its tax id; Erin finds both.
func TestAdminGlobalSearch(t *testing.T) {
	a := built(t, "e2e/testdata/secure", "secure")
	s := a.Start(t, apptest.SQLitePath(t), noTimers)
	cases := []struct {
		user, password, q string
		want              []string // account titles found; nil: no account found
	}{
		{"alice", "alice123", "acme", []string{"Acme"}},
		{"alice", "alice123", "Beta", nil},     // Bob's
		{"alice", "alice123", "TAX-ACME", nil}, // her own account, by a field she may not search by
		{"erin", "erin1234", "Beta", []string{"Beta"}},
		{"erin", "erin1234", "TAX-ACME", []string{"Acme"}},
	}
	pages := map[string]*page{}
	for _, c := range cases {
		if pages[c.user] == nil {
			pages[c.user] = openBrowser(t, s) // a browser lives as long as the test that opens it
			pages[c.user].signIn(c.user, c.password)
		}
	}
	for _, c := range cases {
		t.Run(c.user+" "+c.q, func(t *testing.T) {
			p := pages[c.user]
			p.t = t
			// From any page, Ctrl+K puts the cursor in the header's box; Enter searches.
			p.open("/")
			p.do(chromedp.KeyEvent("k", chromedp.KeyModifiers(kb.ModifierCtrl)))
			if id := eval[string](p, `document.activeElement?.id ?? ''`); id != "global-q" {
				t.Fatalf("Ctrl+K focused %q, want the header's search box", id)
			}
			eval[bool](p, `(window.__stale = true)`)
			p.do(chromedp.SendKeys("#global-q", c.q+kb.Enter))
			p.waitFor(`window.__stale === undefined && document.querySelector('#search-results')`)
			if loc := p.location(); !strings.Contains(loc, "/search?q="+url.QueryEscape(c.q)) {
				t.Errorf("the search went to %s", loc)
			}
			got := p.texts(`.search-group[data-entity=Account] li a`)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s searching %q finds accounts %q, want %q", c.user, c.q, got, c.want)
			}
			// What the page shows is what the API answers this user.
			api := s.As(t, c.user, c.password)
			var out struct {
				Accounts struct{ TotalCount int }
			}
			api.GraphQL(t, `query($q: String) { accounts(search: $q) { totalCount } }`, map[string]any{"q": c.q}).Decode(t, &out)
			shown := 0
			if c := p.text(`.search-group[data-entity=Account] .count`); c != "" {
				fmt.Sscan(c, &shown)
			}
			if shown != out.Accounts.TotalCount || shown != len(c.want) {
				t.Errorf("%s searching %q: the page counts %d accounts, the API %d, want %d", c.user, c.q, shown, out.Accounts.TotalCount, len(c.want))
			}
			for _, href := range eval[[]string](p, `[...document.querySelectorAll('.search-group li a')].map(a => a.getAttribute('href'))`) {
				if !strings.HasPrefix(href, "/e/") {
					t.Errorf("a result links to %q", href)
				}
			}
			if len(c.want) > 0 {
				p.open(eval[string](p, `document.querySelector('.search-group[data-entity=Account] li a').getAttribute('href')`))
				if title := p.text("h1"); !strings.Contains(title, c.want[0]) {
					t.Errorf("the result opens %q, want account %s", title, c.want[0])
				}
			}
			p.noErrors()
		})
	}
}
