// Package diagram draws a built model as Mermaid diagrams: one entity-relationship diagram of its entities,
// fields and relations, and one state diagram per workflow. The CLI writes them (`crmgen graph`), the
// examples' READMEs embed them, and the admin screens of a generated app render them for superusers, so
// all three show the same picture of the model. Output is deterministic: the same model and locale give
// the same text.
package diagram

import (
	"fmt"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
)

// Diagram is one Mermaid diagram of a model.
type Diagram struct {
	// Name identifies the diagram: "entities", or the workflow's name.
	Name string
	// Title is its heading in the chosen locale: the app's title, or the workflow's label.
	Title string
	// Source is the Mermaid text, starting with erDiagram or stateDiagram-v2 and ending in a newline.
	Source string
}

// All returns the diagrams of a built model with labels in locale (falling back as Model.Localize does):
// the entity-relationship diagram, then one state diagram per workflow in the model's order.
func All(m *metamodel.Model, locale string) []Diagram {
	out := []Diagram{{Name: "entities", Title: m.Localize(m.App.Title, locale, m.App.Name), Source: Entities(m, locale)}}
	for _, w := range m.Workflows {
		out = append(out, Diagram{Name: w.Name, Title: m.Localize(w.Label, locale, w.Name), Source: Workflow(m, w, locale)})
	}
	return out
}

// Markdown writes diagrams as a Markdown document: a third-level heading (to sit in a README's section) and
// a ```mermaid block each, which GitHub, GitLab and most Markdown viewers render.
func Markdown(ds []Diagram) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n```mermaid\n%s```\n", d.Title, d.Source)
	}
	return b.String()
}

// Entities returns the entity-relationship diagram: every entity with its label and fields (type, name,
// PK/UK, label), and every declared relation once, with its cardinality: a belongsTo is many-to-one
// (zero-or-one or exactly-one on the target's side, one-to-one when unique, a tree when it points to its
// own entity), a manyToMany many-to-many; the line is labelled with the names of the relation and of
// its inverse, as the API and the model's expressions call them.
// Fields and relations the platform adds (timestamps, owner) are left out: every entity has them.
func Entities(m *metamodel.Model, locale string) string {
	var b strings.Builder
	b.WriteString("erDiagram\n")
	for _, e := range m.Entities {
		fmt.Fprintf(&b, "    %s[%s] {\n", e.Name, quote(m.Localize(e.Label, locale, e.Name)))
		fmt.Fprintf(&b, "        int id PK\n")
		for _, f := range e.Fields {
			if f.Secret || f.System && f.StateOf == "" {
				continue
			}
			key := ""
			if f.Unique {
				key = " UK"
			}
			note := ""
			if n := fieldNote(m, f, locale); n != "" {
				note = " " + quote(n)
			}
			fmt.Fprintf(&b, "        %s %s%s%s\n", fieldType(f), f.Name, key, note)
		}
		b.WriteString("    }\n")
	}
	for _, e := range m.Entities {
		for _, r := range e.Relations {
			if r.Derived || r.System || r.Target == nil {
				continue
			}
			label := r.Name
			if r.InverseRel != nil {
				label += " / " + r.InverseRel.Name
			}
			switch r.Kind {
			case metamodel.ManyToMany:
				fmt.Fprintf(&b, "    %s }o--o{ %s : %s\n", e.Name, r.Target.Name, quote(label))
			default:
				one := "|o" // the target: zero or one
				if r.Required {
					one = "||"
				}
				many := "o{" // this entity: zero or more per target
				if r.Unique {
					many = "o|"
				}
				fmt.Fprintf(&b, "    %s %s--%s %s : %s\n", r.Target.Name, one, many, e.Name, quote(label))
			}
		}
	}
	return b.String()
}

// fieldType names a field's type for the diagram: its model type, with the enum's name, the decimal's
// precision or "list" for multiple attachments.
func fieldType(f *metamodel.Field) string {
	switch {
	case f.Type == metamodel.TypeEnum && f.Enum != "":
		return "enum(" + f.Enum + ")"
	case f.Type == metamodel.TypeDecimal && f.Precision > 0:
		return fmt.Sprintf("decimal(%d,%d)", f.Precision, f.Scale)
	}
	return string(f.Type)
}

// fieldNote is the comment of a field: its label (when it has one), and whether it is required, computed
// or a workflow's state.
func fieldNote(m *metamodel.Model, f *metamodel.Field, locale string) string {
	var parts []string
	if l := m.Localize(f.Label, locale, f.Name); l != f.Name {
		parts = append(parts, l)
	}
	if f.Required {
		parts = append(parts, word(locale, "required"))
	}
	if !f.Computed.IsZero() {
		parts = append(parts, word(locale, "computed"))
	}
	if f.StateOf != "" {
		parts = append(parts, word(locale, "state of")+" "+f.StateOf)
	}
	return strings.Join(parts, ", ")
}

// words are the diagrams' own words in the languages of the admin screens; other locales get English.
var words = map[string]map[string]string{
	"zh": {"required": "必填", "computed": "计算", "state of": "流程状态", "after %s": "%s后", "at %s": "于 %s",
		"notify": "通知", "run": "执行", "timer": "定时"},
}

// word translates one of the diagrams' own words into locale.
func word(locale, w string) string {
	if t, ok := words[locale][w]; ok {
		return t
	}
	return w
}

// Workflow returns the state diagram of w: its states with their labels (final ones lead to the end),
// the initial state, each transition from each of its from states labelled with its label and the roles
// that may run it, and each state's timers as a note (after or at, and what they do).
func Workflow(m *metamodel.Model, w *metamodel.Workflow, locale string) string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, s := range w.States {
		fmt.Fprintf(&b, "    state %s as %s\n", quote(m.Localize(s.Label, locale, s.Name)), stateID(s.Name))
	}
	if w.Initial != "" {
		fmt.Fprintf(&b, "    [*] --> %s\n", stateID(w.Initial))
	}
	for _, t := range w.Transitions {
		label := m.Localize(t.Label, locale, t.Name)
		if len(t.Roles) > 0 {
			label += " (" + strings.Join(t.Roles, ", ") + ")"
		}
		for _, from := range t.From {
			fmt.Fprintf(&b, "    %s --> %s : %s\n", stateID(from), stateID(t.To), text(label))
		}
	}
	for _, s := range w.States {
		if s.Final {
			fmt.Fprintf(&b, "    %s --> [*]\n", stateID(s.Name))
		}
	}
	for _, s := range w.States {
		var lines []string
		for _, tm := range w.Timers {
			if tm.State == s.Name {
				lines = append(lines, timerText(m, w, tm, locale))
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "    note right of %s\n", stateID(s.Name))
		for _, l := range lines {
			fmt.Fprintf(&b, "        %s\n", text(l))
		}
		b.WriteString("    end note\n")
	}
	return b.String()
}

// timerText says when a timer fires and what it does: "timer after 72h: notify deptHead", "timer at
// record.dueAt - duration('24h'): run assign".
func timerText(m *metamodel.Model, w *metamodel.Workflow, tm *metamodel.Timer, locale string) string {
	when := fmt.Sprintf(word(locale, "after %s"), tm.After)
	if tm.After == "" {
		when = fmt.Sprintf(word(locale, "at %s"), tm.At.Src)
	}
	var does []string
	if tm.Notify != nil {
		var to []string
		to = append(to, tm.Notify.Roles...)
		to = append(to, tm.Notify.Users...)
		if tm.Notify.Field != "" {
			to = append(to, tm.Notify.Field)
		}
		does = append(does, word(locale, "notify")+" "+strings.Join(to, ", "))
	}
	if tm.Transition != "" {
		name := tm.Transition
		for _, t := range w.Transitions {
			if t.Name == tm.Transition {
				name = m.Localize(t.Label, locale, t.Name)
			}
		}
		does = append(does, word(locale, "run")+" "+name)
	}
	return word(locale, "timer") + " " + when + ": " + strings.Join(does, " · ")
}

// stateID is the Mermaid id of a state: prefixed, so that no state name can be a keyword of the syntax
// (end, state, note, direction).
func stateID(name string) string { return "s_" + name }

// quote writes s as a Mermaid quoted string; Mermaid has no escape for a double quote inside one.
func quote(s string) string { return `"` + text(s) + `"` }

// text makes a label safe on one line of Mermaid: no newline, double quote, semicolon (which ends a
// statement) or # (which starts an entity code such as #quot;).
func text(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", `"`, "'", ";", ",", "#", "♯").Replace(s)
}
