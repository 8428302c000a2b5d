package admin

import (
	"context"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
)

// What the screens derive from the model: which members an entity's list, filters, form and related
// lists show, and how they are named in GraphQL. The role's view of them (hidden, masked, readonly) is
// applied per request from the access the enforcement layer computes.

// member is a field or a relation end of an entity, as a screen shows it.
type member struct {
	Name  string
	Field *metamodel.Field    // nil for a relation
	Rel   *metamodel.Relation // nil for a field
}

// memberOf looks name up among e's fields, then its relations.
func memberOf(e *metamodel.Entity, name string) (member, bool) {
	if f := e.Field(name); f != nil && !f.Secret {
		return member{Name: name, Field: f}, true
	}
	if r := e.Relation(name); r != nil {
		return member{Name: name, Rel: r}, true
	}
	return member{}, false
}

// gqlName is the member's GraphQL field name.
func (m member) gqlName() string {
	if m.Field != nil {
		return m.Field.GraphQLName()
	}
	return m.Rel.GraphQLName()
}

// label is the member's label in lang.
func (s *server) memberLabel(m member, lang string) string {
	if m.Field != nil {
		return s.cfg.Model.Localize(m.Field.Label, lang, m.Name)
	}
	if len(m.Rel.Label) == 0 && m.Rel.Derived {
		return s.entityLabel(m.Rel.Target, lang)
	}
	return s.cfg.Model.Localize(m.Rel.Label, lang, m.Name)
}

func (s *server) entityLabel(e *metamodel.Entity, lang string) string {
	return s.cfg.Model.Localize(e.Label, lang, e.Name)
}

// access is what the principal of ctx may do with entity. Without an enforcement runtime in ctx (unit
// tests of the screens alone) everything is offered; the API still decides.
func access(ctx context.Context, entity string) *enforce.Access {
	rt := enforce.FromContext(ctx)
	if rt == nil {
		return &enforce.Access{All: true}
	}
	return rt.AccessOf(ctx, entity)
}

// listColumns are the members of e's list: views.list.columns, else the display field and the next
// scalar fields and belongsTo relations, up to seven.
func listColumns(e *metamodel.Entity) []member {
	if v := e.Views; v != nil && v.List != nil && len(v.List.Columns) > 0 {
		var out []member
		for _, c := range v.List.Columns {
			if m, ok := memberOf(e, c); ok {
				out = append(out, m)
			}
		}
		return out
	}
	var out []member
	if e.Display != "" {
		out = append(out, member{Name: e.Display, Field: e.Field(e.Display)})
	}
	for _, f := range e.Fields {
		if len(out) >= 7 {
			break
		}
		if f.Name == e.Display || f.Secret || f.Type == metamodel.TypeJSON || f.Type == metamodel.TypeText || f.Type.Attachment() ||
			(f.System && f.StateOf == "") || f.Sensitive {
			continue
		}
		out = append(out, member{Name: f.Name, Field: f})
	}
	for _, r := range e.Relations {
		if len(out) >= 7 {
			break
		}
		if r.Kind == metamodel.BelongsTo && !r.System {
			out = append(out, member{Name: r.Name, Rel: r})
		}
	}
	return out
}

// listFilters are the members e's list can be filtered by: views.list.filters, else its enums, booleans,
// dates and belongsTo relations.
func listFilters(e *metamodel.Entity) []member {
	var names []string
	if v := e.Views; v != nil && v.List != nil && len(v.List.Filters) > 0 {
		names = v.List.Filters
	} else {
		for _, f := range e.Fields {
			switch f.Type {
			case metamodel.TypeEnum, metamodel.TypeBool, metamodel.TypeDate, metamodel.TypeDateTime:
				if !f.Secret && !(f.System && f.StateOf == "") {
					names = append(names, f.Name)
				}
			}
		}
		for _, r := range e.Relations {
			if r.Kind == metamodel.BelongsTo && !r.System {
				names = append(names, r.Name)
			}
		}
	}
	var out []member
	for _, n := range names {
		if m, ok := memberOf(e, n); ok && filterable(m) {
			out = append(out, m)
		}
	}
	return out
}

// filterable reports whether the list offers a filter for m.
func filterable(m member) bool {
	if m.Rel != nil {
		return m.Rel.Kind == metamodel.BelongsTo || m.Rel.Kind == metamodel.ManyToMany
	}
	switch m.Field.Type {
	case metamodel.TypeEnum, metamodel.TypeBool, metamodel.TypeDate, metamodel.TypeDateTime:
		return true
	}
	return false
}

// formSection is a labelled group of form members.
type formSection struct {
	Label   metamodel.Text
	Members []member
}

// formSections are e's form: views.form's sections, else one section of every member a user may set.
func formSections(e *metamodel.Entity) []formSection {
	if v := e.Views; v != nil && v.Form != nil && len(v.Form.Sections) > 0 {
		var out []formSection
		for _, sec := range v.Form.Sections {
			fs := formSection{Label: sec.Label}
			for _, n := range sec.Fields {
				if m, ok := memberOf(e, n); ok {
					fs.Members = append(fs.Members, m)
				}
			}
			out = append(out, fs)
		}
		return out
	}
	var ms []member
	for _, f := range e.Fields {
		if f.Secret || (f.System && f.StateOf == "") || f.AutoNumber != "" || !f.Computed.IsZero() {
			continue
		}
		ms = append(ms, member{Name: f.Name, Field: f})
	}
	for _, r := range e.Relations {
		if (r.Kind == metamodel.BelongsTo || (r.Kind == metamodel.ManyToMany && !r.Derived)) && !r.System {
			ms = append(ms, member{Name: r.Name, Rel: r})
		}
	}
	return []formSection{{Members: ms}}
}

// detailMembers are every field and to-one relation the detail screen shows, in model order.
func detailMembers(e *metamodel.Entity) []member {
	var out []member
	for _, f := range e.Fields {
		if f.Secret || f.Type == metamodel.TypeJSON && f.System {
			continue
		}
		out = append(out, member{Name: f.Name, Field: f})
	}
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo || r.Kind == metamodel.HasOne || (r.Kind == metamodel.ManyToMany && !r.Derived) {
			out = append(out, member{Name: r.Name, Rel: r})
		}
	}
	return out
}

// relatedLists are the to-many relation ends shown as lists under a record.
func relatedLists(e *metamodel.Entity) []*metamodel.Relation {
	var out []*metamodel.Relation
	for _, r := range e.Relations {
		if r.Kind == metamodel.HasMany || (r.Kind == metamodel.ManyToMany && r.Derived) {
			out = append(out, r)
		}
	}
	return out
}

// treeParent is the relation making e a tree (a belongsTo to itself), or nil.
func treeParent(e *metamodel.Entity) *metamodel.Relation {
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo && r.To == e.Name {
			return r
		}
	}
	return nil
}

// displaySelection is the GraphQL selection that names a record of e: its id and title fields.
func displaySelection(e *metamodel.Entity) string {
	sel := "id"
	for _, f := range e.TitleFields() {
		sel += " " + f.GraphQLName()
	}
	return sel
}

// displayOf renders the name of a record of e from a node selected with displaySelection.
func (s *server) displayOf(e *metamodel.Entity, n map[string]any, lang string) string {
	if n == nil {
		return ""
	}
	for _, f := range e.TitleFields() {
		if v := str(n[f.GraphQLName()]); v != "" {
			return v
		}
	}
	return s.entityLabel(e, lang) + " #" + str(n["id"])
}
