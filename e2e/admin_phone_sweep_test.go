package e2e

import (
	"fmt"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/browsertest"
	"github.com/crmgen/crmgen/metamodel"
)

// The phone pass on every screen (issue 13), beside the hospital's own phone tests: at 390 px, in
// Chinese and in English, every screen of every entity of the kitchen-sink model (every field type,
// trait and relation kind) and of the b2b example opens without an error, nothing on it scrolls sideways
// and the top bar is one line; a list's first record is on the first screen (its filters fold behind
// their button), and its card starts with the record's title and is at most four lines long; a phone
// number on a record is a tap-to-call link.
func TestAdminPhoneSweep(t *testing.T) {
	for _, name := range []string{"kitchen", "b2b-sales"} {
		t.Run(name, func(t *testing.T) {
			a := sweptApp(t, name)
			s := a.Start(t, apptest.SQLitePath(t), noTimers)
			api := s.As(t, "admin", "admin123")
			p := openBrowser(t, s)
			p.signIn("admin", "admin123")
			for _, lang := range []string{"zh", "en"} {
				p.language(lang)
				p.phone()
				for _, e := range a.Model.Entities {
					screens, id := entityScreens(t, api, e)
					for _, path := range screens {
						p.open(path)
						where := fmt.Sprintf("%s (%s, 390 px):", path, lang)
						if msg := p.text("main .error"); msg != "" {
							t.Errorf("%s %s", where, msg)
						}
						checkTopBarLine(t, p, where)
					}
					p.open("/e/" + e.Name)
					if p.count("#results tbody tr[data-id]") > 0 {
						if top := eval[float64](p, `document.querySelector('#results tbody tr[data-id]').getBoundingClientRect().top`); top > 600 {
							t.Errorf("/e/%s (%s): the first record starts %.0f px down the phone's screen", e.Name, lang, top)
						}
						// The card's first line is the record's title: the row's header cell, above its values.
						first := eval[string](p, `(() => { const tr = document.querySelector('#results tbody tr[data-id]');
							const shown = [...tr.children].filter(c => c.getBoundingClientRect().height > 0 && !c.classList.contains('check'));
							shown.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
							return shown.length ? shown[0].tagName.toLowerCase() : ''; })()`)
						if first != "th" {
							t.Errorf("/e/%s (%s): a card begins with a %q, not the record's title", e.Name, lang, first)
						}
						// At most four lines: the title and three values (empty ones left out), on every card.
						if most := eval[int](p, `Math.max(...[...document.querySelectorAll('#results tbody tr[data-id]')].map(tr =>
							new Set([...tr.children].filter(c => !c.classList.contains('check') && c.getBoundingClientRect().height > 0)
								.map(c => Math.round(c.getBoundingClientRect().top))).size))`); most > 4 {
							t.Errorf("/e/%s (%s): a card is %d lines long, more than 4", e.Name, lang, most)
						}
					}
					if id == "" {
						continue
					}
					for _, f := range e.Fields {
						if f.Type != metamodel.TypePhone {
							continue
						}
						out := query(t, api, fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on %s { %s } } }`, e.Name, f.GraphQLName()), map[string]any{"id": id})
						if v, _ := at(t, out, "node."+f.GraphQLName()).(string); v != "" {
							p.open("/e/" + e.Name + "/" + id)
							if p.count(fmt.Sprintf(`[data-field=%q] dd a[href^="tel:"]`, f.Name)) == 0 {
								t.Errorf("/e/%s/%s (%s): the phone %s is no tap-to-call link", e.Name, id, lang, v)
							}
						}
					}
				}
				p.open("/e/" + a.Model.Entities[0].Name)
				browsertest.Screenshot(t, p.ctx, "phone-sweep-"+name+"-"+lang)
			}
			p.desktop()
			p.noErrors()
		})
	}
}
