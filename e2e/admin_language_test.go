package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/browsertest"
	"github.com/crmgen/crmgen/metamodel"
)

// Plain language (issue 13): every screen of every example, in Chinese and in English, as the admin and
// as a user of another role, shows the model's labels and the screens' own words, never a name as the
// model spells it, an expression or an engine's words; and a Chinese screen has no English in it but
// what the demo data itself writes in Latin letters (e-mails, codes, usernames). Then the messages a
// user provokes (a form's validation, a refused delete, a stale or guarded action) say what happened in
// the same plain words.

func TestAdminLanguageSweep(t *testing.T) {
	for _, ex := range []struct{ name, user, password string }{
		{"hospital", "linxiao", "service123"},
		{"b2b-sales", "lina", "sales123"},
		{"tobacco", "xuming", "cm123"},
		{"bank", "liming", "cm123"},
		{"kitchen", "bob", "bob12345"}, // every field type, a user of a model without roles
	} {
		t.Run(ex.name, func(t *testing.T) {
			a := sweptApp(t, ex.name)
			s := a.Start(t, apptest.SQLitePath(t), noTimers)
			api := s.As(t, "admin", "admin123")
			v := newVocabulary(a.Model)
			t.Run("admin", func(t *testing.T) {
				p := openBrowser(t, s)
				p.signIn("admin", "admin123")
				var paths []string
				for _, e := range a.Model.Entities {
					screens, _ := entityScreens(t, api, e)
					paths = append(paths, screens...)
					paths = append(paths, "/e/"+e.Name+"/import")
				}
				for _, lang := range []string{"zh", "en"} {
					sweep(t, p, v, lang, append(commonScreens(a.Model), paths...))
				}
			})
			t.Run(ex.user, func(t *testing.T) {
				p := openBrowser(t, s)
				p.signIn(ex.user, ex.password)
				for _, lang := range []string{"zh", "en"} {
					p.language(lang)
					var paths []string
					for _, e := range eval[[]string](p, `[...document.querySelectorAll('nav.side a[data-entity]')].map(a => a.dataset.entity)`) {
						paths = append(paths, "/e/"+e, "/e/"+e+"/new")
						p.open("/e/" + e)
						if id := eval[string](p, `document.querySelector('#results tbody tr[data-id]')?.dataset.id ?? ''`); id != "" {
							paths = append(paths, "/e/"+e+"/"+id)
						}
					}
					sweep(t, p, v, lang, append(commonScreens(a.Model), paths...))
				}
			})
			t.Run("messages", func(t *testing.T) {
				p := openBrowser(t, s)
				p.signIn("admin", "admin123")
				for _, lang := range []string{"zh", "en"} {
					p.language(lang)
					provokeMessages(t, p, api, a.Model, v, lang)
				}
			})
		})
	}
}

// commonScreens are the screens that belong to no entity: home (with its dashboards and queues), the
// inbox, the global search and every report.
func commonScreens(m *metamodel.Model) []string {
	out := []string{"/", "/inbox", "/search?q=" + url.QueryEscape(searchWord(m))}
	for _, r := range m.Reports {
		out = append(out, "/reports/"+r.Name)
	}
	return out
}

// searchWord is a word the global search finds: the first title value of the demo data.
func searchWord(m *metamodel.Model) string {
	if m.Data == nil {
		return "a"
	}
	for _, ds := range m.Data.Sets {
		e := m.Entity(ds.Entity)
		for _, rec := range ds.Records {
			for _, fv := range rec.Values {
				if s, ok := fv.Value.(string); ok && e != nil && e.Display == fv.Name && s != "" {
					return s
				}
			}
		}
	}
	return "a"
}

// sweep opens each path in lang and checks the words the page shows.
func sweep(t *testing.T, p *page, v *vocabulary, lang string, paths []string) {
	t.Helper()
	p.language(lang)
	for _, path := range paths {
		p.open(path)
		if problems := v.check(lang, pageWords(p)); len(problems) > 0 {
			shot := "language-" + strings.NewReplacer("/", "_", "?", "_", "=", "_", "&", "_", "%", "_").Replace(t.Name()+"-"+lang+path)
			browsertest.Screenshot(t, p.ctx, shot)
			t.Errorf("%s (%s): %s", path, lang, strings.Join(problems, "; "))
		}
	}
}

// pageWords is what the page shows a reader: its title, the text of its body (hidden tab panels and
// closed dialogs too, which a click shows), the titles, placeholders and ARIA labels of its elements, and
// the labels of its charts.
func pageWords(p *page) string {
	p.t.Helper()
	return eval[string](p, `(() => {
		const out = [document.title, document.body.innerText];
		// Text node by text node: an element's textContent runs its cells' words together ("Ann" "Bob": "AnnBob").
		document.querySelectorAll('[role=tabpanel][hidden], dialog:not([open])').forEach(e => {
			const w = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
			for (let n = w.nextNode(); n; n = w.nextNode()) out.push(n.textContent);
		});
		document.querySelectorAll('[title], [placeholder], [aria-label]').forEach(e => {
			for (const a of ['title', 'placeholder', 'aria-label']) { const v = e.getAttribute(a); if (v) out.push(v); }
		});
		document.querySelectorAll('div.chart[data-chart] script[type="application/json"]').forEach(s => {
			try {
				const c = JSON.parse(s.textContent);
				out.push(c.label ?? '', ...(c.labels ?? []), ...(c.x ?? []), ...(c.y ?? []), ...(c.segments ?? []));
			} catch (e) { out.push('unreadable chart: ' + e); }
		});
		return out.join('\n');
	})()`)
}

// vocabulary is what a page of a model may not show, and the Latin words it may show in Chinese.
type vocabulary struct {
	// names are the model's identifier-like names (camelCase, PascalCase of two words or more, with
	// underscores) per language, where they differ from their labels in it.
	names map[string]map[string]bool
	// exprs are the model's expressions as written.
	exprs []string
	// latin are the words, lowercased, that the demo data writes in Latin letters, and the few the
	// screens say in every language (their language's own name, a keyboard key, file formats).
	latin map[string]bool
}

var (
	identShape = regexp.MustCompile(`^[a-z]+[A-Z0-9_]|^[A-Z][a-z0-9]+[A-Z_]|_`)
	wordRe     = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_]*`)
	latinRe    = regexp.MustCompile(`[A-Za-z]{2,}`)
	emailRe    = regexp.MustCompile(`[\w.+-]+@[\w-]+(\.[\w-]+)+`)
	// engineRe matches what an engine says: Go's and ent's error text, SQL and GraphQL words, API error
	// codes, JavaScript's placeholders and the shapes of an expression.
	engineRe = regexp.MustCompile(`ent: |(?i:\bsql\b|\bconstraint\b|graphql)|record\.|user\.(id|team|roles)|\bnow\s*[<>]|onDelete|<nil>|map\[|%!|` +
		`\b(VALIDATION|FORBIDDEN|NOT_FOUND|CONFLICT|RESTRICTED|LOCKED|UNAUTHENTICATED|INTERNAL)\b|\bundefined\b|\bNaN\b|\[object |` +
		`&&|\|\||==|!=|\b(duration|timestamp|size|has|matches)\(`)
)

// everyLanguage are Latin words every screen may show: the other language's name on the language
// switch, the search box's keyboard shortcut, the names of file formats and encodings, and units.
var everyLanguage = []string{"english", "ctrl", "csv", "xlsx", "excel", "utf", "kb", "mb"}

func newVocabulary(m *metamodel.Model) *vocabulary {
	v := &vocabulary{names: map[string]map[string]bool{}, latin: map[string]bool{}}
	for _, lang := range []string{"zh", "en"} {
		names := map[string]bool{}
		add := func(name string, label metamodel.Text) {
			if identShape.MatchString(name) && m.Localize(label, lang, "") != name {
				names[name] = true
			}
		}
		for _, e := range m.Entities {
			add(e.Name, e.Label)
			for _, f := range e.Fields {
				if !f.Secret {
					add(f.Name, f.Label)
				}
			}
			for _, r := range e.Relations {
				add(r.Name, r.Label)
			}
		}
		for _, en := range m.Enums {
			add(en.Name, en.Label)
			for _, ev := range en.Values {
				add(ev.Key, ev.Label)
			}
		}
		for _, w := range m.Workflows {
			add(w.Name, w.Label)
			for _, st := range w.States {
				add(st.Name, st.Label)
			}
			for _, tr := range w.Transitions {
				add(tr.Name, tr.Label)
			}
		}
		for _, r := range m.Roles {
			add(r.Name, r.Label)
		}
		for _, r := range m.Reports {
			add(r.Name, r.Label)
		}
		v.names[lang] = names
	}
	// The expressions: every {"src": …} of the model's JSON form.
	b, _ := json.Marshal(m)
	var tree any
	_ = json.Unmarshal(b, &tree)
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				if s, ok := y.(string); ok && k == "src" && len(s) >= 6 {
					v.exprs = append(v.exprs, s)
				}
				if s, ok := y.(string); ok && k == "zh" {
					// The model's Chinese texts may write a term in Latin letters ("患者价值（RFM）").
					for _, w := range latinRe.FindAllString(s, -1) {
						v.latin[strings.ToLower(w)] = true
					}
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(tree)
	for _, w := range everyLanguage {
		v.latin[w] = true
	}
	// The demo data's Latin words: values of its text fields (not enum keys or references, which the
	// screens show by their labels), and the fixed parts of auto-numbers.
	if m.Data != nil {
		sets := append([]*metamodel.DataSet{{Entity: "User", Records: m.Data.Users}}, m.Data.Sets...)
		for _, ds := range sets {
			e := m.Entity(ds.Entity)
			if e == nil {
				continue
			}
			for _, rec := range ds.Records {
				for _, fv := range rec.Values {
					f := e.Field(fv.Name)
					if f == nil || f.Secret || f.Type == metamodel.TypeEnum {
						continue
					}
					v.addLatin(fv.Value)
				}
			}
		}
	}
	braces := regexp.MustCompile(`\{[^}]*\}`)
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			for _, w := range latinRe.FindAllString(braces.ReplaceAllString(f.AutoNumber, " "), -1) {
				v.latin[strings.ToLower(w)] = true
			}
		}
	}
	return v
}

// addLatin adds the Latin words of a demo data value: a text, or the keys and texts of a JSON value.
func (v *vocabulary) addLatin(x any) {
	switch x := x.(type) {
	case string:
		for _, w := range latinRe.FindAllString(x, -1) {
			v.latin[strings.ToLower(w)] = true
		}
	case map[string]any:
		for k, y := range x {
			v.addLatin(k)
			v.addLatin(y)
		}
	case []any:
		for _, y := range x {
			v.addLatin(y)
		}
	}
}

// check returns what text shows that a page in lang must not: each problem names its token.
func (v *vocabulary) check(lang, text string) []string {
	var out []string
	seen := map[string]bool{}
	report := func(kind, token string) {
		if !seen[kind+token] {
			seen[kind+token] = true
			out = append(out, fmt.Sprintf("%s %q", kind, token))
		}
	}
	for _, x := range v.exprs {
		if strings.Contains(text, x) {
			report("expression", x)
		}
	}
	for _, m := range engineRe.FindAllStringIndex(text, -1) {
		lo, hi := max(m[0]-30, 0), min(m[1]+30, len(text))
		report("engine text", strings.ToValidUTF8(text[lo:hi], ""))
	}
	plain := emailRe.ReplaceAllString(text, " ")
	for _, w := range wordRe.FindAllString(plain, -1) {
		if v.names[lang][w] && !v.latin[strings.ToLower(w)] {
			report("model name", w)
		}
	}
	if lang == "zh" {
		for _, w := range latinRe.FindAllString(plain, -1) {
			if !v.latin[strings.ToLower(w)] && !v.names[lang][w] {
				report("English", w)
			}
		}
	}
	slices.Sort(out)
	return out
}

// provokeMessages makes the screens refuse things in lang and checks what they say: a form saved without
// its required fields or with a value of the wrong pattern, a delete of a record that others refer to, an
// action on a page that another user has made stale, and an action whose condition does not hold.
func provokeMessages(t *testing.T, p *page, api *apptest.Server, m *metamodel.Model, v *vocabulary, lang string) {
	t.Helper()
	checkMsg := func(what, path, msg string, want ...string) {
		t.Helper()
		t.Logf("%s (%s): %s", what, lang, msg)
		if strings.TrimSpace(msg) == "" {
			t.Errorf("%s at %s (%s): no message", what, path, lang)
			return
		}
		if problems := v.check(lang, msg); len(problems) > 0 {
			t.Errorf("%s at %s (%s): %q: %s", what, path, lang, msg, strings.Join(problems, "; "))
		}
		if lang == "zh" && !regexp.MustCompile(`\p{Han}`).MatchString(msg) {
			t.Errorf("%s at %s (zh): %q is not Chinese", what, path, msg)
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s at %s (%s): %q does not say %q", what, path, lang, msg, w)
			}
		}
	}
	label := func(t metamodel.Text) string { return m.Localize(t, lang, "") }

	// Validation: a new record with nothing filled in, and with a patterned field's value wrong.
	validated, patterned := false, false
	for _, e := range m.Entities {
		var required, pattern *metamodel.Field
		for _, f := range e.Fields {
			if f.System || f.Computed.Src != "" || f.AutoNumber != "" || f.Readonly {
				continue
			}
			if required == nil && f.Required && f.Default == nil && f.Type != metamodel.TypeBool {
				required = f
			}
			if pattern == nil && f.Pattern != "" && !f.Immutable { // an immutable field is not in the edit form
				pattern = f
			}
		}
		if required != nil && !validated {
			validated = true
			path := "/e/" + e.Name + "/new"
			p.open(path)
			formErrors(p, path)
			field := fmt.Sprintf(`[data-field=%q]`, required.Name)
			checkMsg("a form without "+e.Name+"."+required.Name, path, p.text("#form-error"))
			checkMsg("a form without "+e.Name+"."+required.Name, path, p.text(field+" label")+" "+p.text(field+" .field-error"), label(required.Label))
		}
		if pattern != nil && !patterned && adminCount(t, api, e.QueryField(), "") > 0 {
			patterned = true
			path := "/e/" + e.Name + "/" + someID(t, api, e.QueryField(), "") + "/edit"
			p.open(path)
			p.fill("#f-"+pattern.Name, "?? not this ??")
			formErrors(p, path)
			field := fmt.Sprintf(`[data-field=%q]`, pattern.Name)
			checkMsg("a form with "+e.Name+"."+pattern.Name+" off its pattern", path, p.text(field+" label")+" "+p.text(field+" .field-error"), label(pattern.Label))
		}
	}
	if !validated {
		t.Errorf("no entity has a required field to leave out")
	}

	// A restricted delete: a record with records of a restrict relation referring to it.
	restricted := false
	for _, e := range m.Entities {
		for _, r := range e.Relations {
			if restricted || r.Kind != metamodel.HasMany || r.InverseRel == nil || r.InverseRel.OnDelete != metamodel.OnDeleteRestrict || e.Builtin {
				continue
			}
			where := fmt.Sprintf("{has%s: true}", metamodel.Pascal(r.Name))
			if adminCount(t, api, e.QueryField(), where) == 0 {
				continue
			}
			restricted = true
			id := someID(t, api, e.QueryField(), where)
			path := "/e/" + e.Name + "/" + id + "/delete"
			got := postPage(p, path, "", "#action-error")
			checkMsg("deleting a "+e.Name+" that "+r.To+" refer to", path, strings.Join(got, " "), label(r.Target.Label))
		}
	}
	if !restricted {
		t.Errorf("no record is held by a restrict relation")
	}

	// A stale action: a transition another user ran since the page was opened, and one whose guard
	// does not hold on a record in its from-state.
	stale, guarded := false, false
	for _, w := range m.Workflows {
		e := m.Entity(w.Entity)
		state := e.Field(w.Field)
		for _, tr := range w.Transitions {
			if tr.Comment == metamodel.CommentRequired || len(tr.Requires) > 0 || slices.Contains(tr.From, tr.To) {
				continue
			}
			for _, from := range tr.From {
				where := fmt.Sprintf("{%s: %s}", state.GraphQLName(), from)
				if adminCount(t, api, e.QueryField(), where) == 0 {
					continue
				}
				id := someID(t, api, e.QueryField(), where)
				path := "/e/" + e.Name + "/" + id + "/transition"
				body := "transition=" + url.QueryEscape(tr.Name)
				if tr.Guard.Src != "" && !guarded {
					if got := postPage(p, path, body, "#action-error"); len(got) > 0 && got[0] != "" {
						guarded = true
						checkMsg("running "+w.Name+"."+tr.Name+" whose guard does not hold", path, got[0], label(tr.Label))
					}
					continue
				}
				if stale || tr.Guard.Src != "" {
					continue
				}
				r := api.GraphQL(t, fmt.Sprintf(`mutation($id: ID!, $t: String!) { transition%s(id: $id, transition: $t) { id } }`, e.Name),
					map[string]any{"id": id, "t": tr.Name})
				if len(r.Errors) > 0 {
					continue
				}
				stale = true
				to := w.States[slices.IndexFunc(w.States, func(s *metamodel.State) bool { return s.Name == tr.To })]
				got := postPage(p, path, body, "#action-error")
				checkMsg("running "+w.Name+"."+tr.Name+" again", path, strings.Join(got, " "), label(tr.Label), label(to.Label))
			}
		}
	}
	if len(m.Workflows) > 0 && !stale {
		t.Errorf("no transition could be made stale")
	}
	if guarded {
		return
	}
	for _, w := range m.Workflows {
		for _, tr := range w.Transitions {
			if tr.Guard.Src != "" {
				t.Logf("no record in a from-state of %s.%s fails its guard %s", w.Name, tr.Name, tr.Guard.Src)
			}
		}
	}
}

// formErrors saves the open form as it is, with the browser's own checks off (as a browser without
// them would send it), so that the server's messages show.
func formErrors(p *page, path string) {
	p.t.Helper()
	eval[bool](p, `(document.querySelectorAll('form').forEach(f => f.noValidate = true), true)`)
	p.submit("#save")
	if !strings.HasSuffix(p.location(), path) {
		p.t.Errorf("saving the form at %s went on to %s", path, p.location())
	}
}

// postPage posts a form body to path as the page's form would and returns the texts of the answer's
// elements matching each selector (the answer is a page, shown again with its messages).
func postPage(p *page, path, body string, selectors ...string) []string {
	p.t.Helper()
	sel, _ := json.Marshal(selectors)
	return eval[[]string](p, fmt.Sprintf(`fetch(%s, {method: 'POST', credentials: 'same-origin',
		headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: %s}).then(r => r.text()).then(html => {
		const doc = new DOMParser().parseFromString(html, 'text/html');
		return %s.map(s => [...doc.querySelectorAll(s)].map(e => e.textContent.trim().replace(/\s+/g, ' ')).join(' ')).filter(s => s);
	})`, jsString(path), jsString(body), sel))
}
