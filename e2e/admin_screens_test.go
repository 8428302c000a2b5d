package e2e

import (
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Every screen of every entity opens without an error, on models the admin knows nothing about: the
// kitchen-sink model of the foundation tests (every type, trait and relation kind, a self many-to-many,
// versioned records) and the process model (workflows on an entity of its own), and the examples. Then a record of each
// entity is saved unchanged through its edit form, which must round-trip every widget's value.

func TestAdminEveryScreen(t *testing.T) {
	for _, tc := range []struct{ name, dir string }{
		{"kitchen", "e2e/testdata/kitchen"},
		{"process", "e2e/testdata/process"},
		{"hospital", ""},
		{"b2b-sales", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a *apptest.App
			if tc.dir == "" {
				a = adminApp(t, tc.name)
			} else {
				a = built(t, tc.dir, tc.name)
			}
			s := a.Start(t, apptest.SQLitePath(t))
			admin := s.As(t, "admin", "admin123")
			p := openBrowser(t, s)
			p.signIn("admin", "admin123")
			p.open("/")
			for _, e := range a.Model.Entities {
				screens, id := entityScreens(t, admin, e)
				for _, path := range screens {
					p.open(path)
					if msg := p.text("main .error"); msg != "" {
						t.Errorf("%s: %s", path, msg)
					}
				}
				if id == "" || p.count("#save") == 0 {
					continue
				}
				// Saving the edit form untouched succeeds and writes nothing (no new audit entry).
				history := func() int {
					if !e.Has(metamodel.TraitAudit) {
						return 0
					}
					var out struct{ N struct{ History []any } }
					admin.GraphQL(t, "query($id: ID!) { n: node(id: $id) { ... on "+e.Name+" { history { op } } } }", map[string]any{"id": id}).Decode(t, &out)
					return len(out.N.History)
				}
				before := history()
				p.open("/e/" + e.Name + "/" + id + "/edit")
				p.submit("#save")
				if !strings.HasSuffix(p.location(), "/e/"+e.Name+"/"+id) {
					t.Errorf("saving %s %s unchanged: at %s: %s", e.Name, id, p.location(), p.text("#form-error")+" "+strings.Join(p.texts(".field-error"), "; "))
				}
				if after := history(); after != before {
					t.Errorf("saving %s %s unchanged wrote %d audit entries", e.Name, id, after-before)
				}
			}
			p.noErrors()
		})
	}
}
