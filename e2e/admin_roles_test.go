package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// What each role of the hospital example sees on the admin screens: exactly what the API shows that
// user. Rows, fields and buttons a role may not see or use are absent, not merely disabled.

func TestAdminHospitalRoles(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")

	t.Run("Physician", func(t *testing.T) {
		api := s.As(t, "liuyang", "doctor123")
		p := openBrowser(t, s)
		p.signIn("liuyang", "doctor123")
		// Navigation: only the entities the role may read.
		checkNav(t, p, a.Model, "physician")
		// Rows: their own patients only, as the API counts them.
		mine, all := adminCount(t, api, "patients", ""), adminCount(t, admin, "patients", "")
		if mine == 0 || mine >= all {
			t.Fatalf("physician reads %d of %d patients; the example should give them some, not all", mine, all)
		}
		p.open("/e/Patient")
		if got := p.text("#total"); got != strconv.Itoa(mine) {
			t.Errorf("physician's patient list total %q, want %d", got, mine)
		}
		// Buttons: may create, may not delete or export. The rows have checkboxes for the bulk edit of
		// the fields the physician may update (TestAdminBulk).
		if p.count("#new") != 1 || p.count("#delete-selected") != 0 || p.count("#export") != 0 || p.count("#bulk-edit") != 1 {
			t.Errorf("physician's patient list: new %d, delete %d, export %d, bulk edit %d; want new and bulk edit",
				p.count("#new"), p.count("#delete-selected"), p.count("#export"), p.count("#bulk-edit"))
		}
		if status, _ := p.fetchText("/e/Patient/export.csv"); status != 403 {
			t.Errorf("physician's export answered %d, want 403", status)
		}
		// Another physician's patient does not exist for them.
		other := someID(t, admin, "patients", `{hasPhysicianWith: {usernameNEQ: "liuyang"}}`)
		p.open("/e/Patient/" + other)
		if p.count("#record-title") != 0 || p.text("main .error") == "" {
			t.Errorf("physician sees another physician's patient: %s", p.text("main"))
		}
		// Fields: the ID card number is readonly for them (shown, not an input) on edit.
		own := someID(t, api, "patients", "")
		p.open("/e/Patient/" + own + "/edit")
		if p.count(`[data-field="idCard"] .static`) != 1 || p.count("input#f-idCard") != 0 || p.text(`[data-field="idCard"] .static`) == "—" {
			t.Errorf("physician's edit form offers the readonly ID card: %s", p.text(`[data-field="idCard"]`))
		}
		// The refused export and the absent patient were asked for on purpose; nothing else may fail.
		p.noErrorsExcept("/e/Patient/export.csv", "/e/Patient/"+other)
	})

	t.Run("CallCenter", func(t *testing.T) {
		api := s.As(t, "linxiao", "service123")
		p := openBrowser(t, s)
		p.signIn("linxiao", "service123")
		id := someID(t, api, "patients", "")
		p.open("/e/Patient/" + id)
		if p.count("#record-title") != 1 {
			t.Fatalf("call center cannot open a patient: %s", p.text("main"))
		}
		for _, f := range []string{"idCard", "balance"} {
			if p.count(fmt.Sprintf(`[data-field=%q]`, f)) != 0 {
				t.Errorf("call center sees hidden field %s: %q", f, p.fieldValue(f))
			}
		}
		if p.count("#edit") != 0 || p.count("#delete") != 0 {
			t.Errorf("call center (read only on patients) gets edit %d / delete %d buttons", p.count("#edit"), p.count("#delete"))
		}
		p.open("/e/Patient")
		cols := p.texts("#results thead th")
		for _, c := range cols {
			if strings.Contains(c, "ID card") || strings.Contains(c, "身份证") || strings.Contains(c, "Balance") {
				t.Errorf("call center's patient list has column %q", c)
			}
		}
		if p.count("#new") != 0 {
			t.Errorf("call center may not create patients but sees New")
		}
		// Searching by a hidden field finds nothing through it: the search box only uses visible fields.
		var idc struct {
			Patients struct {
				Edges []struct{ Node struct{ IDCard string } }
			}
		}
		admin.GraphQL(t, `{ patients(first: 1) { edges { node { idCard } } } }`, nil).Decode(t, &idc)
		p.open("/e/Patient?q=" + idc.Patients.Edges[0].Node.IDCard)
		if got := p.text("#total"); got != "0" {
			t.Errorf("call center found %s patients by a hidden ID card number", got)
		}
		// Kanban: the board shows, but no card may move (no update right on patients), and the server
		// refuses a move anyway.
		p.open("/e/Patient/kanban")
		if n := p.count(`.kcard[draggable="true"]`); n != 0 {
			t.Errorf("call center may drag %d patient cards", n)
		}
		moved := eval[bool](p, fmt.Sprintf(`fetch('/e/Patient/%s/move', {method: 'POST', body: new URLSearchParams({to: 'A'})}).then(r => r.json()).then(r => r.ok)`, id))
		if moved {
			t.Errorf("call center moved a patient card")
		}
		p.noErrors()
	})

	t.Run("DeptHeadExport", func(t *testing.T) {
		api := s.As(t, "zhangjianguo", "doctor123")
		p := openBrowser(t, s)
		p.signIn("zhangjianguo", "doctor123")
		p.open("/e/Patient")
		if p.count("#export") != 1 {
			t.Fatalf("a department head (export: true) has no export button")
		}
		status, body := p.fetchText("/e/Patient/export.csv")
		if status != 200 {
			t.Fatalf("export: %d", status)
		}
		lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(body, "\uFEFF")), "\n")
		if want := adminCount(t, api, "patients", ""); len(lines) != want+1 {
			t.Errorf("department head's export has %d lines, want %d rows and a header", len(lines), want)
		}
		// The ID card number is sensitive and not made visible to the role: left out of exports.
		if strings.Contains(lines[0], "ID card") || strings.Contains(lines[0], "身份证") {
			t.Errorf("export header has the sensitive ID card: %s", lines[0])
		}
		p.noErrors()
	})
}

// someID returns the id of the first record of a connection (with an optional where literal) the
// server's user reads.
func someID(t *testing.T, s *apptest.Server, field, where string) string {
	t.Helper()
	args := "(first: 1)"
	if where != "" {
		args = "(first: 1, where: " + where + ")"
	}
	var out map[string]struct {
		Edges []struct{ Node struct{ ID string } }
	}
	s.GraphQL(t, "{ "+field+args+" { edges { node { id } } } }", nil).Decode(t, &out)
	if len(out[field].Edges) == 0 {
		t.Fatalf("no %s %s", field, where)
	}
	return out[field].Edges[0].Node.ID
}
