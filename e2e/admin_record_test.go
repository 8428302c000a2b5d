package e2e

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Record pages of the hospital example in headless Chromium: the summary header (title, the workflow
// state in the model's colour, key fields as the API has them, a field hidden from the reader's role
// absent), the tabs (details, each related list with the API's count, timeline, history; ?tab= links that
// work without script, a tab row that scrolls on a phone), and a list's CSV export with chosen columns.

func TestAdminRecord(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")
	doctor := s.As(t, "liuyang", "doctor123")
	patient := a.Model.Entity("Patient")

	// A patient of the physician's, with a phone to call.
	var own map[string]struct {
		Edges []struct {
			Node struct {
				ID, Name, Code, Phone, Grade, Gender string
			}
		}
	}
	doctor.GraphQL(t, `{ patients(first: 1, where: {phoneNotNil: true}) { edges { node { id name code phone grade gender } } } }`, nil).Decode(t, &own)
	if len(own["patients"].Edges) == 0 {
		t.Fatal("the physician has no patient with a phone")
	}
	pat := own["patients"].Edges[0].Node
	record := "/e/Patient/" + pat.ID

	t.Run("HeaderAsPhysician", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("liuyang", "doctor123")
		p.open(record)
		if got := p.text("#record-title"); !strings.Contains(got, pat.Name) {
			t.Errorf("record title %q, want the patient's name %q", got, pat.Name)
		}
		keys := eval[[]string](p, `[...document.querySelectorAll('#key-fields li')].map(li => li.dataset.key)`)
		if len(keys) == 0 || len(keys) > 6 {
			t.Fatalf("the header has key fields %v, want one to six", keys)
		}
		for _, k := range []string{"code", "grade", "gender", "physician", "phone", "balance"} {
			if p.count(fmt.Sprintf(`#key-fields [data-key=%q]`, k)) != 1 {
				t.Errorf("the header lacks %s (has %v)", k, keys)
			}
		}
		// Values as the API has them, and as the details tab shows them.
		if got := p.text(`#key-fields [data-key="code"] .key-value`); got != pat.Code {
			t.Errorf("header code %q, API %q", got, pat.Code)
		}
		if got := p.text(`#key-fields [data-key="phone"] .key-value`); got != pat.Phone {
			t.Errorf("header phone %q, API %q", got, pat.Phone)
		}
		if href := eval[string](p, `document.querySelector('#key-fields [data-key="phone"] a')?.getAttribute('href') ?? ''`); !strings.HasPrefix(href, "tel:") {
			t.Errorf("header phone is no tel: link: %q", href)
		}
		for _, k := range []string{"grade", "gender", "physician", "balance"} {
			if got, want := p.text(fmt.Sprintf(`#key-fields [data-key=%q] .key-value`, k)), p.fieldValue(k); got != want || got == "" {
				t.Errorf("header %s %q, details tab %q", k, got, want)
			}
		}
		// Enum tags in the model's colours.
		for k, v := range map[string]string{"grade": pat.Grade, "gender": pat.Gender} {
			want := "c-" + enumColor(patient.Field(k), v)
			if cls := eval[string](p, fmt.Sprintf(`document.querySelector('#key-fields [data-key=%q] .tag')?.className ?? ''`, k)); !strings.Contains(cls, want) {
				t.Errorf("header %s=%s tag class %q, want %s", k, v, cls, want)
			}
		}
		p.screenshots("record-patient")
		p.noErrors()
	})

	t.Run("HiddenFieldAbsentForCallCenter", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("linxiao", "service123")
		p.open(record)
		if p.count("#record-title") != 1 {
			t.Fatalf("call center cannot open the patient: %s", p.text("main"))
		}
		for _, k := range []string{"balance", "idCard"} {
			if p.count(fmt.Sprintf(`#key-fields [data-key=%q]`, k)) != 0 {
				t.Errorf("call center's header shows hidden %s", k)
			}
		}
		if head := p.text("#record-head"); strings.Contains(head, "余额") || strings.Contains(head, "Balance") {
			t.Errorf("call center's header names the hidden balance: %q", head)
		}
		if got := p.text(`#key-fields [data-key="phone"] .key-value`); got != pat.Phone {
			t.Errorf("call center's header phone %q, API %q", got, pat.Phone)
		}
		p.noErrors()
	})

	p := openBrowser(t, s)
	p.signIn("admin", "admin123")

	t.Run("StateTag", func(t *testing.T) {
		p.t = t
		wf := a.Model.Workflow("FollowUpProcess")
		for _, st := range wf.States {
			var out map[string]struct {
				Edges []struct{ Node struct{ ID string } }
			}
			admin.GraphQL(t, fmt.Sprintf(`{ followUps(first: 1, where: {status: %s}) { edges { node { id } } } }`, st.Name), nil).Decode(t, &out)
			if len(out["followUps"].Edges) == 0 {
				continue
			}
			p.open("/e/FollowUp/" + out["followUps"].Edges[0].Node.ID)
			want := "c-" + colorOf(st.Color)
			if cls := eval[string](p, `document.querySelector('#record-title #state')?.className ?? ''`); !strings.Contains(cls, want) {
				t.Errorf("state %s: tag class %q, want %s", st.Name, cls, want)
			}
			if got, labels := p.text("#state"), st.Label; got != labels["zh"] && got != labels["en"] {
				t.Errorf("state %s: tag %q, want its label %v", st.Name, got, labels)
			}
		}
		p.noErrors()
	})

	t.Run("Tabs", func(t *testing.T) {
		p.t = t
		var visits map[string]struct {
			Edges []struct{ Node struct{ ID string } }
		}
		admin.GraphQL(t, `{ patients(first: 1, where: {hasVisits: true}) { edges { node { id } } } }`, nil).Decode(t, &visits)
		if len(visits["patients"].Edges) == 0 {
			t.Fatal("no patient has visits")
		}
		id := visits["patients"].Edges[0].Node.ID
		page := "/e/Patient/" + id
		p.open(page)
		tabs := eval[[]string](p, `[...document.querySelectorAll('#record-tabs [role=tab]')].map(a => a.dataset.tab)`)
		if len(tabs) < 3 || tabs[0] != "details" || tabs[len(tabs)-1] != "history" {
			t.Fatalf("tabs %v, want details first, related lists, history last", tabs)
		}
		visible := func() []string {
			return eval[[]string](p, `[...document.querySelectorAll('.tab-panel')].filter(e => e.offsetParent !== null).map(e => e.id)`)
		}
		if v := visible(); len(v) != 1 || v[0] != "panel-details" || p.count("#panel-details [data-field]") == 0 {
			t.Errorf("first visit shows panels %v, want only the details", v)
		}
		for _, tab := range tabs[1:] {
			p.do(chromedp.Click(chromedp.CSS("#tab-" + tab)))
			p.waitFor(fmt.Sprintf(`location.search.includes('tab=%s') && document.readyState === 'complete'`, tab))
			if v := visible(); len(v) != 1 || v[0] != "panel-"+tab {
				t.Errorf("tab %s shows panels %v", tab, v)
			}
			if sel := eval[string](p, `document.querySelector('#record-tabs [aria-selected=true]')?.dataset.tab ?? ''`); sel != tab {
				t.Errorf("tab %s: the selected tab is %q", tab, sel)
			}
			if rel, ok := strings.CutPrefix(tab, "rel-"); ok {
				r := patient.Relation(rel)
				if r == nil {
					t.Errorf("tab %s names no relation of Patient", tab)
					continue
				}
				var out map[string]map[string]struct{ TotalCount int }
				admin.GraphQL(t, fmt.Sprintf(`query($id: ID!) { n: node(id: $id) { ... on Patient { %s { totalCount } } } }`, r.GraphQLName()),
					map[string]any{"id": id}).Decode(t, &out)
				want := fmt.Sprint(out["n"][r.GraphQLName()].TotalCount)
				if got := p.text(fmt.Sprintf(`#panel-%s .count`, tab)); got != want {
					t.Errorf("related %s: panel counts %s, API %s", rel, got, want)
				}
				if got := p.text(fmt.Sprintf(`#tab-%s .count`, tab)); got != want {
					t.Errorf("related %s: tab counts %s, API %s", rel, got, want)
				}
				rows := p.count(fmt.Sprintf(`#panel-%s tbody tr`, tab))
				if n := out["n"][r.GraphQLName()].TotalCount; rows != min(n, 10) {
					t.Errorf("related %s: %d rows shown of %d", rel, rows, n)
				}
			}
			if tab == "history" {
				var out map[string]struct{ History []struct{ Op string } }
				admin.GraphQL(t, `query($id: ID!) { n: node(id: $id) { ... on Patient { history { op } } } }`, map[string]any{"id": id}).Decode(t, &out)
				if got := p.count("#panel-history #history > li"); got != len(out["n"].History) || got == 0 {
					t.Errorf("history tab lists %d changes, API %d", got, len(out["n"].History))
				}
			}
		}
		// Without script a tab is a link: opening it shows that tab.
		p.open(page + "?tab=history")
		if v := visible(); len(v) != 1 || v[0] != "panel-history" {
			t.Errorf("?tab=history shows panels %v", v)
		}
		p.open(page + "?tab=nosuch")
		if v := visible(); len(v) != 1 || v[0] != "panel-details" {
			t.Errorf("an unknown tab shows panels %v, want the details", v)
		}
		// Phone width: the tab row scrolls on its own, the page does not.
		p.phone()
		p.open(page)
		if w := eval[int](p, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the record page is %dpx wide on a 390px phone", w)
		}
		if ov := eval[string](p, `getComputedStyle(document.querySelector('#record-tabs')).overflowX`); ov != "auto" {
			t.Errorf("the tab row's overflow-x is %q, want auto (scrolls sideways)", ov)
		}
		p.desktop()
		p.screenshots("record-patient-tabs")
		p.open(page + "?tab=history")
		p.screenshots("record-patient-history")
		p.noErrors()
	})

	t.Run("Timeline", func(t *testing.T) {
		p.t = t
		id := someID(t, admin, "followUps", `{statusNEQ: instructed}`)
		p.open("/e/FollowUp/" + id + "?tab=timeline")
		var out map[string]struct{ WorkflowHistory []struct{ To string } }
		admin.GraphQL(t, `query($id: ID!) { n: node(id: $id) { ... on FollowUp { workflowHistory { to } } } }`, map[string]any{"id": id}).Decode(t, &out)
		if got := p.count("#panel-timeline #timeline li"); got != len(out["n"].WorkflowHistory) || got == 0 {
			t.Errorf("timeline tab lists %d steps, API %d", got, len(out["n"].WorkflowHistory))
		}
		if p.count("#panel-timeline[hidden]") != 0 {
			t.Error("?tab=timeline leaves the timeline hidden")
		}
		p.screenshots("record-followup-timeline")
		p.noErrors()
	})

	t.Run("ExportChosenColumns", func(t *testing.T) {
		p.t = t
		status, body := p.fetchText("/e/Patient/export.csv?cols=phone,name,nosuch")
		if status != 200 {
			t.Fatalf("export: %d %s", status, body)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatalf("export is no CSV: %v", err)
		}
		name, phone := patient.Field("name").Label, patient.Field("phone").Label
		if h := rows[0]; len(h) != 3 || h[0] != "id" || (h[1] != name["zh"] && h[1] != name["en"]) || (h[2] != phone["zh"] && h[2] != phone["en"]) {
			t.Errorf("export header %q, want id, name, phone", h)
		}
		if want := adminCount(t, admin, "patients", ""); len(rows) != want+1 {
			t.Errorf("export has %d rows, want %d", len(rows)-1, want)
		}
		var one map[string]struct {
			Edges []struct {
				Node struct{ ID, Name, Phone string }
			}
		}
		admin.GraphQL(t, `{ patients(first: 1, where: {phoneNotNil: true}) { edges { node { id name phone } } } }`, nil).Decode(t, &one)
		n := one["patients"].Edges[0].Node
		found := false
		for _, r := range rows[1:] {
			if len(r) != 3 {
				t.Fatalf("export row %q has %d columns", r, len(r))
			}
			if r[0] == n.ID {
				found = true
				if r[1] != n.Name || r[2] != n.Phone {
					t.Errorf("export row %q, API %s %s", r, n.Name, n.Phone)
				}
			}
		}
		if !found {
			t.Errorf("export lacks patient %s", n.ID)
		}
		// Without cols= the export keeps every column it had.
		_, all := p.fetchText("/e/Patient/export.csv")
		if h, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(all, "\uFEFF"))).Read(); len(h) <= 3 {
			t.Errorf("the export without a choice has only %q", h)
		}
		p.noErrors()
	})

	// A json field (the questionnaire's questions) reads as a document, not as JSON: keys and values, a
	// table of the questions with a column per key, plain lists on one line in the language's separator.
	t.Run("JSONDocument", func(t *testing.T) {
		var qs map[string]struct {
			Edges []struct {
				Node struct {
					ID        string
					Questions struct {
						Version float64
						Items   []map[string]any
					}
				}
			}
		}
		admin.GraphQL(t, `{ questionnaires(first: 1, where: {title: "出院患者随访问卷"}) { edges { node { id questions } } } }`, nil).Decode(t, &qs)
		if len(qs["questionnaires"].Edges) != 1 {
			t.Fatal("no questionnaire 出院患者随访问卷 in the demo data")
		}
		q := qs["questionnaires"].Edges[0].Node
		p := openBrowser(t, s)
		p.signIn("admin", "admin123")
		p.open("/lang?l=zh&next=/e/Questionnaire/" + q.ID)
		const field = `[data-field="questions"] dd`
		if got := p.text(field); strings.Contains(got, "{") || strings.Contains(got, `"`) {
			t.Errorf("the questions show as JSON: %q", got)
		}
		cols := p.texts(field + ` table.doc-table thead th`)
		if !slices.Contains(cols, "text") || !slices.Contains(cols, "options") || !slices.Contains(cols, "seq") {
			t.Fatalf("the questions' table has columns %q, want the items' keys", cols)
		}
		if n := p.count(field + ` table.doc-table tbody tr`); n != len(q.Questions.Items) {
			t.Errorf("the questions' table has %d rows, the API %d items", n, len(q.Questions.Items))
		}
		cell := func(row int, col string) string {
			return p.text(fmt.Sprintf(`%s table.doc-table tbody tr:nth-child(%d) td:nth-child(%d)`, field, row+1, slices.Index(cols, col)+1))
		}
		first := q.Questions.Items[0]
		if got := cell(0, "text"); got != first["text"] {
			t.Errorf("first question %q, API %q", got, first["text"])
		}
		var opts []string
		for _, o := range first["options"].([]any) {
			opts = append(opts, o.(string))
		}
		if got, want := cell(0, "options"), strings.Join(opts, "、"); got != want {
			t.Errorf("first question's options %q, want %q", got, want)
		}
		version := eval[string](p, `[...document.querySelectorAll('[data-field="questions"] dd > .doc > dl > div')].find(d => d.querySelector('dt').textContent === 'version')?.querySelector('dd').textContent ?? ''`)
		if got := strings.TrimSpace(version); got != fmt.Sprint(q.Questions.Version) {
			t.Errorf("version shows %q, API %v", got, q.Questions.Version)
		}
		p.screenshots("record-questionnaire")
		p.noErrors()
	})
}

// enumColor is the colour class the model gives value key of enum field f ("gray" when none).
func enumColor(f *metamodel.Field, key string) string {
	for _, v := range f.EnumRef.Values {
		if v.Key == key {
			return colorOf(v.Color)
		}
	}
	return "gray"
}

// colorOf is the stylesheet's name of a model colour: the palette's, grey spelled gray, others gray.
func colorOf(c string) string {
	switch c = strings.ToLower(c); c {
	case "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "gray", "cyan", "brown":
		return c
	}
	return "gray"
}
