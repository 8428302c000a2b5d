package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestAdminDiagrams opens the model's diagrams in the hospital example as the administrator: the
// navigation links to them, the vendored Mermaid draws the ER diagram and each workflow as SVG in the
// page (under the page's content security policy, with no console error), labelled in the page's
// language. A physician sees no link and gets 403.
func TestAdminDiagrams(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	m := a.Model

	p := openBrowser(t, s)
	p.signIn("admin", "admin123")
	if p.count("#nav-diagrams") != 1 {
		t.Fatal("the administrator's navigation has no link to the diagrams")
	}
	p.submit("#nav-diagrams")
	// Mermaid lays out the ER diagram and four workflows in the browser: seconds, or more on a busy machine.
	p.waitWithin(2*time.Minute, `document.body.dataset.diagrams === 'done' || document.body.dataset.diagrams === 'failed'`)
	if state := eval[string](p, `document.body.dataset.diagrams`); state != "done" {
		t.Fatalf("Mermaid did not draw the diagrams: %q", p.text("#diagrams-status"))
	}
	if n, want := p.count("section.diagram svg"), 1+len(m.Workflows); n != want {
		t.Errorf("%d diagrams drawn as SVG, want %d (the entities and %d workflows)", n, want, len(m.Workflows))
	}
	lang := eval[string](p, `document.documentElement.lang`)
	er := eval[string](p, `document.querySelector('section[data-diagram="entities"] svg').textContent`)
	for _, e := range m.Entities {
		if label := m.Localize(e.Label, lang, e.Name); !strings.Contains(er, label) {
			t.Errorf("the ER diagram does not show entity %s as %q", e.Name, label)
		}
	}
	for _, w := range m.Workflows {
		svg := eval[string](p, `document.querySelector('section[data-diagram="`+w.Name+`"] svg').textContent`)
		for _, st := range w.States {
			if label := m.Localize(st.Label, lang, st.Name); !strings.Contains(svg, label) {
				t.Errorf("the diagram of %s does not show state %s as %q", w.Name, st.Name, label)
			}
		}
	}
	p.screenshots("admin-diagrams")
	p.noErrors()

	doc := openBrowser(t, s)
	doc.signIn("liuyang", "doctor123")
	if doc.count("#nav-diagrams") != 0 {
		t.Error("a physician's navigation links to the diagrams")
	}
	if status, _ := doc.fetchText("/diagrams"); status != 403 {
		t.Errorf("GET /diagrams as a physician: status %d, want 403", status)
	}
	doc.open("/diagrams")
	if doc.count("main pre.mermaid, main svg") != 0 || doc.text(".error") == "" {
		t.Error("a physician who opens /diagrams sees diagrams, or no refusal")
	}
	doc.noErrorsExcept("403")
}
