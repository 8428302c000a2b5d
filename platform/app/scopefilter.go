package app

import (
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// A filter through a relation (hasTicketsWith: {subject: …}, hasTickets: true, ticketID: …) is evaluated
// by entgql as a SQL subquery that the read interceptor never sees, so it could tell a user which of their
// rows relate to rows they may not read. The guard therefore rewrites every such filter for its reader:
// the related rows are narrowed to those the reader may read, expressed in the same where-input language.

// scoped returns the where-input v of entity with every relation filter narrowed to readable rows, and
// whether anything changed.
func (w argWalker) scoped(entity string, v any) (any, bool) {
	e := w.rt.Model.Entity(entity)
	if e == nil {
		return v, false
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		changed := false
		for i, item := range x {
			var c bool
			out[i], c = w.scoped(entity, item)
			changed = changed || c
		}
		return out, changed
	case map[string]any:
		out := map[string]any{}
		var extra []any
		changed := false
		for key, val := range x {
			switch key {
			case "and", "or", "not":
				nv, c := w.scoped(entity, val)
				out[key], changed = nv, changed || c
				continue
			}
			if member := memberOfKey(w, e, key); member != "" {
				if shown := w.rt.AccessOf(w.ctx, entity).PerRow[member]; shown != nil && !w.rt.AccessOf(w.ctx, entity).All {
					// The member is visible on the rows of the roles that show it: the filter applies there.
					extra = append(extra, w.scopesWhere(e, shown))
					changed = true
				}
			}
			rel, kind := relationFilter(e, key)
			if rel == nil {
				out[key] = val
				continue
			}
			readable := w.readableWhere(rel.Target)
			switch kind {
			case "with":
				inner, _ := w.scoped(rel.Target.Name, val)
				if readable == nil {
					out[key] = inner
					continue
				}
				items, ok := inner.([]any)
				if !ok {
					items = []any{inner}
				}
				out[key] = []any{map[string]any{"and": append(items, readable)}}
				changed = true
			case "has":
				if readable == nil {
					out[key] = val
					continue
				}
				with := "has" + metamodel.Pascal(rel.GraphQLName()) + "With"
				if b, _ := val.(bool); b {
					extra = append(extra, map[string]any{with: []any{readable}})
				} else {
					extra = append(extra, map[string]any{"not": map[string]any{with: []any{readable}}})
				}
				changed = true
			case "fk":
				out[key] = val
				if readable != nil && !strings.HasSuffix(key, "IsNil") {
					with := "has" + metamodel.Pascal(rel.GraphQLName()) + "With"
					extra = append(extra, map[string]any{with: []any{readable}})
					changed = true
				}
			}
		}
		if len(extra) > 0 {
			if prev, ok := out["and"].([]any); ok {
				extra = append(prev, extra...)
			}
			out["and"] = extra
		}
		return out, changed
	}
	return v, false
}

// memberOfKey returns the field or relation a where-input key filters on ("" for and/or/not).
func memberOfKey(w argWalker, e *metamodel.Entity, key string) string {
	if rel, _ := relationFilter(e, key); rel != nil {
		return rel.Name
	}
	for _, suffix := range whereSuffixes {
		if name, ok := strings.CutSuffix(key, suffix); ok && name != "" {
			if member, ok := w.rt.Member(e.Name, name); ok {
				return member
			}
		}
	}
	return ""
}

// scopesWhere is the where-input selecting the rows of e within any of scopes.
func (w argWalker) scopesWhere(e *metamodel.Entity, scopes []*metamodel.Scope) map[string]any {
	p := auth.FromContext(w.ctx)
	var ors []any
	for _, sc := range scopes {
		if sc.Kind == metamodel.ScopeAll {
			return map[string]any{}
		}
		if c := scopeWhere(w.rt.Model, e, sc, p); c != nil {
			ors = append(ors, c)
		}
	}
	if len(ors) == 0 {
		ors = []any{map[string]any{"id": "0"}} // no row has id 0
	}
	return map[string]any{"or": ors}
}

// relationFilter recognizes the where-input keys that look through relation r: has<R>With (kind "with"),
// has<R> ("has") and <r>ID… predicates of a belongsTo's foreign key ("fk").
func relationFilter(e *metamodel.Entity, key string) (*metamodel.Relation, string) {
	for _, r := range e.Relations {
		p := "has" + metamodel.Pascal(r.GraphQLName())
		switch key {
		case p + "With":
			return r, "with"
		case p:
			return r, "has"
		}
		if r.Kind == metamodel.BelongsTo && strings.HasPrefix(key, r.GraphQLFKName()) {
			rest := key[len(r.GraphQLFKName()):]
			for _, suffix := range whereSuffixes {
				if rest == suffix {
					return r, "fk"
				}
			}
		}
	}
	return nil, ""
}

// readableWhere is the where-input selecting the rows of e that the reader may read, or nil for all of
// them.
func (w argWalker) readableWhere(e *metamodel.Entity) map[string]any {
	a := w.rt.AccessOf(w.ctx, e.Name)
	var conds []any
	if e.Has(metamodel.TraitSoftDelete) {
		conds = append(conds, map[string]any{"deletedAtIsNil": true})
	}
	if !a.All && !everyRow(a.Read) {
		conds = append(conds, w.scopesWhere(e, a.Read))
	}
	if len(conds) == 0 {
		return nil
	}
	return map[string]any{"and": conds}
}

func everyRow(scopes []*metamodel.Scope) bool {
	for _, s := range scopes {
		if s.Kind == metamodel.ScopeAll {
			return true
		}
	}
	return false
}

// scopeWhere expresses one row scope as a where-input (the same rule the interceptor applies in SQL).
func scopeWhere(m *metamodel.Model, e *metamodel.Entity, sc *metamodel.Scope, p *auth.Principal) map[string]any {
	if p == nil {
		return nil
	}
	id := strconv.Itoa(p.ID)
	teams := make([]any, len(p.Teams))
	for i, t := range p.Teams {
		teams[i] = strconv.Itoa(t)
	}
	switch sc.Kind {
	case metamodel.ScopeOwn:
		if r := e.Relation(e.OwnerField); r != nil {
			return map[string]any{r.GraphQLFKName(): id}
		}
	case metamodel.ScopeTeam:
		r := e.Relation(e.OwnerField)
		team := m.Entity("User").Relation("team")
		if r != nil && team != nil && len(teams) > 0 {
			return map[string]any{"has" + metamodel.Pascal(r.GraphQLName()) + "With": []any{
				map[string]any{team.GraphQLFKName() + "In": teams}}}
		}
	case metamodel.ScopeField:
		r := e.Relation(sc.Field)
		if r == nil {
			return nil
		}
		switch {
		case sc.Equals == "user.id":
			return map[string]any{r.GraphQLFKName(): id}
		case sc.Subteams && len(teams) > 0:
			return map[string]any{r.GraphQLFKName() + "In": teams}
		case p.Team != 0:
			return map[string]any{r.GraphQLFKName(): strconv.Itoa(p.Team)}
		}
	}
	return nil
}

// bindScoped replaces a field argument with a request variable holding its rewritten value.
func (w argWalker) bindScoped(arg *ast.Argument, def *ast.ArgumentDefinition, v any) {
	name := "__crmScoped" + strconv.Itoa(len(w.oc.Variables))
	if w.oc.Variables == nil {
		w.oc.Variables = map[string]any{}
	}
	w.oc.Variables[name] = v
	arg.Value = &ast.Value{Kind: ast.Variable, Raw: name, Position: arg.Value.Position, ExpectedType: def.Type}
}
