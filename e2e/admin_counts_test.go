package e2e

import (
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// Counts over large tables (issue 11's million rows): the screens count records exactly up to
// --count-limit and show a larger number as more than that, so a list's first page or the home page does
// not read every row; the API's count fields (patientsCount(upTo:)) read at most upTo + 1 rows. Here the
// limit is 5, below the hospital's demo data.
func TestAdminCountLimit(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t), noTimers, "--count-limit=5")
	api := s.As(t, "admin", "admin123")
	all := count(t, api, "patients", "")
	if all <= 25 {
		t.Fatalf("the demo data has %d patients; the test needs more than a page of 25", all)
	}
	var out struct{ Exact, Capped, Graded, Zero int }
	api.GraphQL(t, `{ exact: patientsCount capped: patientsCount(upTo: 5) graded: patientsCount(where: {grade: A})
		zero: patientsCount(upTo: -3) }`, nil).Decode(t, &out)
	if out.Exact != all || out.Capped != 6 || out.Graded != count(t, api, "patients", "{grade: A}") || out.Zero != 1 {
		t.Errorf("patientsCount = %+v; want exact %d, capped 6 (upTo + 1), grade A as the list, upTo below 0 as 0 (1)", out, all)
	}
	// A field the reader may not see is no filter of a count either.
	r := s.As(t, "linxiao", "service123").GraphQL(t, `{ patientsCount(where: {idCard: "110101199003074578"}) }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN_FIELD" {
		t.Errorf("the call center counting patients by ID card: %+v; want FORBIDDEN_FIELD", r.Errors)
	}

	p := openBrowser(t, s)
	p.signIn("admin", "admin123")
	p.language("en")
	p.open("/")
	if got := p.text(`a.entity-card[data-entity="Patient"] .count`); got != "5+" {
		t.Errorf("the home page's patient card counts %q, want 5+", got)
	}
	p.open("/e/Patient?n=25")
	// More than 5, and never fewer than the page shows.
	if got := p.text("#total"); got != "25+" {
		t.Errorf("the patient list's total is %q, want 25+ (the page's 25 rows, and more)", got)
	}
	if got := p.text("#page-of"); !strings.HasSuffix(got, "+") {
		t.Errorf("the page count says %q, want a number with +", got)
	}
	if got := p.text("#range"); !strings.HasPrefix(got, "1–") {
		t.Errorf("the first page's range is %q", got)
	}
	// The last page is reached from the end; its rows, counted from an end not counted, have no numbers.
	p.open(eval[string](p, `document.querySelector('a[href*="last=1"]').getAttribute('href')`))
	if got, rows := p.text("#range"), p.count("#results tbody tr[data-id]"); strings.Contains(got, "–") || rows == 0 {
		t.Errorf("the last page of a list not all counted: range %q, %d rows", got, rows)
	}
	p.noErrors()
}
