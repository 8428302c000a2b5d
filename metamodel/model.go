package metamodel

import (
	"encoding/json"
	"fmt"
)

// Entity returns the entity named name, or nil.
func (m *Model) Entity(name string) *Entity { return m.entityByName[name] }

// Enum returns the enum named name, or nil.
func (m *Model) Enum(name string) *Enum { return m.enumByName[name] }

// Role returns the role named name, or nil.
func (m *Model) Role(name string) *Role { return m.roleByName[name] }

// Workflow returns the workflow named name, or nil.
func (m *Model) Workflow(name string) *Workflow { return m.workflowByName[name] }

// Report returns the report named name, or nil.
func (m *Model) Report(name string) *Report { return m.reportByName[name] }

// WorkflowsOf returns the workflows of entity, in the model's order.
func (m *Model) WorkflowsOf(entity string) []*Workflow {
	var out []*Workflow
	for _, w := range m.Workflows {
		if w.Entity == entity {
			out = append(out, w)
		}
	}
	return out
}

// AutomationsOf returns the automations of entity, in the model's order.
func (m *Model) AutomationsOf(entity string) []*Automation {
	var out []*Automation
	for _, a := range m.Automations {
		if a.Entity == entity {
			out = append(out, a)
		}
	}
	return out
}

// WorkflowOf returns the workflow whose state field is entity.field, or nil.
func (m *Model) WorkflowOf(entity, field string) *Workflow {
	for _, w := range m.Workflows {
		if w.Entity == entity && w.Field == field {
			return w
		}
	}
	return nil
}

// Localize returns t in locale, falling back to the default locale, to a plain (unlocalized) string, to any
// locale in the order of app.locales, and finally to fallback.
func (m *Model) Localize(t Text, locale, fallback string) string {
	if s := t[locale]; s != "" {
		return s
	}
	if s := t[m.App.DefaultLocale]; s != "" {
		return s
	}
	if s := t[""]; s != "" {
		return s
	}
	for _, l := range m.App.Locales {
		if s := t[l]; s != "" {
			return s
		}
	}
	return fallback
}

// Field returns the field named name, or nil.
func (e *Entity) Field(name string) *Field { return e.fieldByName[name] }

// TitleFields are the fields a record of e is titled by, in order of precedence: the first with a value
// names the record. A user is titled by their display name, by username (User's display field) when it is
// empty; any other record by its display field. Screens, search and reports all title records this way.
func (e *Entity) TitleFields() []*Field {
	var out []*Field
	if e.Name == "User" {
		if f := e.Field("displayName"); f != nil {
			out = append(out, f)
		}
	}
	if f := e.Field(e.Display); f != nil && (len(out) == 0 || out[0] != f) {
		out = append(out, f)
	}
	return out
}

// TextSearchFields are the fields a search for text over e's records reads: its `search` fields and its
// title fields, those that hold text and are stored and not secret, each once. The screens' search box and
// the API's search argument match them; on Postgres each has a bigram index (platform/database) so a
// search of two characters or more does not read the table.
func (e *Entity) TextSearchFields() []*Field {
	var out []*Field
	seen := map[*Field]bool{}
	add := func(f *Field) {
		if seen[f] || !f.Type.Stringy() || f.Secret || (f.Computed.Src != "" && !f.Stored) {
			return
		}
		seen[f] = true
		out = append(out, f)
	}
	for _, f := range e.Fields {
		if f.Search {
			add(f)
		}
	}
	for _, f := range e.TitleFields() {
		add(f)
	}
	return out
}

// Relation returns the relation end named name (declared or derived), or nil.
func (e *Entity) Relation(name string) *Relation { return e.relationByName[name] }

// Has reports whether the entity has the trait.
func (e *Entity) Has(trait string) bool {
	for _, t := range e.Traits {
		if t == trait {
			return true
		}
	}
	return false
}

// Edge reports whether the relation end is stored as a foreign key on its entity's table.
func (r *Relation) Edge() bool { return r.Kind == BelongsTo }

// Many reports whether the relation end holds a list.
func (r *Relation) Many() bool { return r.Kind == HasMany || r.Kind == ManyToMany }

// Marshal returns the JSON form of a built model, which generated apps embed. It is deterministic: slices
// keep their order and encoding/json sorts map keys.
func Marshal(m *Model) ([]byte, error) {
	return json.MarshalIndent(m, "", "  ")
}

// Unmarshal reads the JSON form written by Marshal and re-links its references. It does not validate:
// the JSON comes from a model that Build accepted.
func Unmarshal(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode model: %w", err)
	}
	if err := m.link(); err != nil {
		return nil, err
	}
	return &m, nil
}

// link builds the lookup indexes and turns names into pointers. Build calls it after deriving inverse
// relations and system fields; Unmarshal calls it on the embedded JSON. A dangling name is an error here
// (Build reports it earlier with a position).
func (m *Model) link() error {
	if m.envs == nil {
		m.envs = newEnvCache()
	}
	m.restrict = &restrictCache{}
	m.enumByName = map[string]*Enum{}
	for _, e := range m.Enums {
		m.enumByName[e.Name] = e
	}
	m.entityByName = map[string]*Entity{}
	for _, e := range m.Entities {
		m.entityByName[e.Name] = e
	}
	m.roleByName = map[string]*Role{}
	for _, r := range m.Roles {
		m.roleByName[r.Name] = r
	}
	m.workflowByName = map[string]*Workflow{}
	for _, w := range m.Workflows {
		m.workflowByName[w.Name] = w
		w.EntityRef = m.entityByName[w.Entity]
	}
	m.reportByName = map[string]*Report{}
	for _, r := range m.Reports {
		m.reportByName[r.Name] = r
	}
	for _, e := range m.Entities {
		e.fieldByName = map[string]*Field{}
		for _, f := range e.Fields {
			f.Entity = e
			e.fieldByName[f.Name] = f
			if f.Type == TypeEnum {
				f.EnumRef = m.enumByName[f.Enum]
				if f.EnumRef == nil {
					return fmt.Errorf("link: field %s.%s: unknown enum %q", e.Name, f.Name, f.Enum)
				}
			}
		}
		e.relationByName = map[string]*Relation{}
		for _, r := range e.Relations {
			r.Entity = e
			r.Target = m.entityByName[r.To]
			if r.Target == nil {
				return fmt.Errorf("link: relation %s.%s: unknown entity %q", e.Name, r.Name, r.To)
			}
			e.relationByName[r.Name] = r
		}
	}
	for _, e := range m.Entities {
		for _, r := range e.Relations {
			r.InverseRel = r.Target.relationByName[r.Inverse]
			if r.InverseRel == nil {
				return fmt.Errorf("link: relation %s.%s: no inverse %s.%s", e.Name, r.Name, r.To, r.Inverse)
			}
		}
	}
	return nil
}
