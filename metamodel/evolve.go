package metamodel

import (
	"fmt"
	"sort"
)

// A model changes after go-live. Compare tells what a change does to the data of an app generated from the
// earlier model (its backend/model.json): what is added, renamed (renamedFrom), dropped or narrowed. A
// destructive change loses or rejects data that exists: dropping an entity, field or belongsTo relation
// (the migration drops the column or table, and its values with it), narrowing a type or a length, removing
// an enum value rows may hold, or making a field required without a default (rows without a value then fail
// every update). `crmgen generate` refuses those unless told --allow-destructive, naming the element and its
// place in the model; `crmgen diff` prints every change.

// Change is one difference between two models, in the terms of the new one.
type Change struct {
	Kind        string // added, renamed, dropped, type, required, maxLen, enum
	What        string // entity, field, relation, enum value
	Name        string // Entity or Entity.member
	Detail      string // for type, maxLen and enum changes: from → to
	Destructive bool
	Pos         Pos // where the new model says it (the entity's position for something dropped)
}

// String says the change in plain words.
func (c Change) String() string {
	var s string
	switch c.Kind {
	case "type":
		s = fmt.Sprintf("type of field %s changed (%s)", c.Name, c.Detail)
	case "maxLen":
		s = fmt.Sprintf("maxLen of field %s lowered (%s)", c.Name, c.Detail)
	case "enum":
		s = fmt.Sprintf("enum value %s of field %s removed", c.Detail, c.Name)
	case "required":
		s = fmt.Sprintf("field %s became required", c.Name)
		if c.Detail != "" {
			s = fmt.Sprintf("added field %s, %s", c.Name, c.Detail)
		}
	default:
		s = fmt.Sprintf("%s %s %s", c.Kind, c.What, c.Name)
		if c.Detail != "" {
			s += " (" + c.Detail + ")"
		}
	}
	if c.Destructive {
		s += ": destructive"
		switch c.Kind {
		case "dropped":
			s += ", the migration deletes its stored values (renamedFrom keeps them under a new name)"
		case "type", "maxLen":
			s += ", existing values may not fit"
		case "enum":
			s += ", rows holding it no longer validate"
		case "required":
			s += ", rows without a value can no longer be saved"
		}
	}
	return s
}

// typeWidening lists the type changes that keep every stored value valid.
var typeWidening = map[[2]FieldType]bool{
	{TypeInt, TypeFloat}: true, {TypeInt, TypeDecimal}: true, {TypeFloat, TypeDecimal}: true, {TypeDecimal, TypeFloat}: true,
	{TypeString, TypeText}: true, {TypeEmail, TypeString}: true, {TypePhone, TypeString}: true, {TypeURL, TypeString}: true,
	{TypeEmail, TypeText}: true, {TypePhone, TypeText}: true, {TypeURL, TypeText}: true, {TypeEnum, TypeString}: true,
	{TypeDate, TypeDateTime}: true,
}

// Compare lists what changes from old (the model an app was generated from) to cur, entities in cur's
// order, then what was dropped.
func Compare(old, cur *Model) []Change {
	var out []Change
	olds := map[string]*Entity{}
	for _, e := range old.Entities {
		olds[e.Name] = e
	}
	seen := map[string]bool{}
	for _, e := range cur.Entities {
		prev := olds[e.Name]
		if prev == nil && e.RenamedFrom != "" && olds[e.RenamedFrom] != nil {
			prev = olds[e.RenamedFrom]
			out = append(out, Change{Kind: "renamed", What: "entity", Name: e.Name, Detail: e.RenamedFrom + " → " + e.Name, Pos: e.Pos})
		}
		if prev == nil {
			out = append(out, Change{Kind: "added", What: "entity", Name: e.Name, Pos: e.Pos})
			continue
		}
		seen[prev.Name] = true
		out = append(out, compareEntity(prev, e, old, cur)...)
	}
	var dropped []string
	for name := range olds {
		if !seen[name] {
			dropped = append(dropped, name)
		}
	}
	sort.Strings(dropped)
	for _, name := range dropped {
		out = append(out, Change{Kind: "dropped", What: "entity", Name: name, Destructive: true, Pos: cur.App.Pos})
	}
	return out
}

func compareEntity(prev, e *Entity, old, cur *Model) []Change {
	var out []Change
	seen := map[string]bool{}
	for _, f := range e.Fields {
		if f.System || virtual(f) {
			continue
		}
		q := e.Name + "." + f.Name
		p := prev.Field(f.Name)
		if p == nil && f.RenamedFrom != "" && prev.Field(f.RenamedFrom) != nil {
			p = prev.Field(f.RenamedFrom)
			out = append(out, Change{Kind: "renamed", What: "field", Name: q, Detail: f.RenamedFrom + " → " + f.Name, Pos: f.Pos})
		}
		if p == nil || virtual(p) {
			c := Change{Kind: "added", What: "field", Name: q, Pos: f.Pos}
			if f.Required && f.Default == nil && !f.Readonly && f.AutoNumber == "" {
				c.Kind, c.Detail, c.Destructive = "required", "required and without a default", true
			}
			out = append(out, c)
			continue
		}
		seen[p.Name] = true
		if p.Type != f.Type {
			out = append(out, Change{Kind: "type", What: "field", Name: q, Detail: string(p.Type) + " → " + string(f.Type),
				Destructive: !typeWidening[[2]FieldType{p.Type, f.Type}], Pos: cur.posOf(f, "type", f.Pos)})
		}
		if f.MaxLen != nil && (p.MaxLen == nil || *f.MaxLen < *p.MaxLen) && f.Type.stringy() && p.Type.stringy() {
			from := "no limit"
			if p.MaxLen != nil {
				from = fmt.Sprint(*p.MaxLen)
			}
			out = append(out, Change{Kind: "maxLen", What: "field", Name: q, Detail: fmt.Sprintf("%s → %d", from, *f.MaxLen), Destructive: true,
				Pos: cur.posOf(f, "maxLen", f.Pos)})
		}
		if f.Required && !p.Required && f.Default == nil {
			out = append(out, Change{Kind: "required", What: "field", Name: q, Destructive: true, Pos: cur.posOf(f, "required", f.Pos)})
		}
		if f.Type == TypeEnum && p.Type == TypeEnum {
			for _, v := range valueKeys(old, p.Enum) {
				if !contains(valueKeys(cur, f.Enum), v) {
					out = append(out, Change{Kind: "enum", What: "field", Name: q, Detail: v, Destructive: true,
						Pos: cur.posOf(f, "enum", f.Pos)})
				}
			}
		}
	}
	for _, p := range prev.Fields {
		if !seen[p.Name] && !p.System && !virtual(p) && e.Field(p.Name) == nil {
			out = append(out, Change{Kind: "dropped", What: "field", Name: e.Name + "." + p.Name, Destructive: true, Pos: e.Pos})
		}
	}
	for _, r := range e.Relations {
		if r.Kind == BelongsTo && prev.Relation(r.Name) == nil {
			out = append(out, Change{Kind: "added", What: "relation", Name: e.Name + "." + r.Name, Pos: r.Pos})
		}
	}
	for _, r := range prev.Relations {
		if r.Kind == BelongsTo && e.Relation(r.Name) == nil {
			out = append(out, Change{Kind: "dropped", What: "relation", Name: e.Name + "." + r.Name, Destructive: true, Pos: e.Pos})
		}
	}
	return out
}

// valueKeys are the value keys of the enum named name in m.
func valueKeys(m *Model, name string) []string {
	var out []string
	for _, en := range m.Enums {
		if en.Name == name {
			for _, v := range en.Values {
				out = append(out, v.Key)
			}
		}
	}
	return out
}
