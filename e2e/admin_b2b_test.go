package e2e

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// The admin screens of the b2b-sales example: the main screens as the administrator (screenshots,
// kanban and region tree), and what a sales representative and finance see.

func TestAdminB2BSales(t *testing.T) {
	a := adminApp(t, "b2b-sales")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")

	t.Run("Admin", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("admin", "admin123")
		p.open("/e/Region/tree")
		if n := p.count("#tree li"); n != adminCount(t, admin, "regions", "") {
			t.Errorf("region tree shows %d regions, want %d", n, adminCount(t, admin, "regions", ""))
		}
		checkKanban(t, p, admin, a.Model.Entity("Opportunity"))
		adminScreenshots(t, p, admin, "b2b-sales", []string{"Customer", "Opportunity", "Contract", "Payment"})
		p.noErrors()
	})

	t.Run("Salesperson", func(t *testing.T) {
		api := s.As(t, "lina", "sales123")
		p := openBrowser(t, s)
		p.signIn("lina", "sales123")
		mine := adminCount(t, api, "customers", "")
		p.open("/e/Customer")
		if got := p.text("#total"); got != strconv.Itoa(mine) {
			t.Errorf("salesperson's customer total %q, want %d", got, mine)
		}
		if mine >= adminCount(t, admin, "customers", "") {
			t.Errorf("a salesperson reads every customer")
		}
		// The credit limit is hidden from the role: no column, no row on the detail, no input.
		for _, c := range p.texts("#results thead th") {
			if c == "Credit limit" || c == "信用额度" {
				t.Errorf("salesperson's customer list has the credit limit column")
			}
		}
		id := someID(t, api, "customers", "")
		for _, path := range []string{"/e/Customer/" + id, "/e/Customer/" + id + "/edit"} {
			p.open(path)
			if n := p.count(`[data-field="creditLimit"]`); n != 0 {
				t.Errorf("%s shows the hidden credit limit", path)
			}
		}
		checkNav(t, p, a.Model, "salesperson")
		p.noErrors()
	})

	t.Run("Finance", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("zhaomin", "finance123")
		checkNav(t, p, a.Model, "finance")
		p.open("/e/Opportunity")
		if p.count("#results") != 0 {
			t.Errorf("finance opened the opportunity list: %s", p.text("main"))
		}
		p.open("/e/Payment")
		if p.count("#export") != 1 || p.count("#new") != 1 {
			t.Errorf("finance's payment list: export %d, new %d; want both", p.count("#export"), p.count("#new"))
		}
		p.noErrorsExcept(fmt.Sprintf("%s/e/Opportunity", s.URL))
	})
}

// checkNav checks that the navigation lists exactly the entities the role may read (its permissions,
// inherited ones included; User and Team, which everyone may look up unless roles say otherwise, are
// not checked).
func checkNav(t *testing.T, p *page, m *metamodel.Model, role string) {
	t.Helper()
	nav := eval[[]string](p, `[...document.querySelectorAll('nav.side a[data-entity]')].map(a => a.dataset.entity)`)
	r := m.Role(role)
	for _, e := range m.Entities {
		if e.Name == "User" || e.Name == "Team" {
			continue
		}
		perm := r.Permissions[e.Name]
		want := perm != nil && perm.Read != nil && perm.Read.Kind != metamodel.ScopeNone
		if got := contains(nav, e.Name); got != want {
			t.Errorf("%s's navigation lists %s: %v, want %v", role, e.Name, got, want)
		}
	}
}
