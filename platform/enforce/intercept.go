package enforce

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// Interceptor returns the query interceptor of entity. It runs on every query of the entity — lists,
// counts, node lookups, eager-loaded edges — and narrows it to the rows the context may read (ReadFilter).
func Interceptor(entity string) ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			rt := FromContext(ctx)
			if rt == nil {
				return nil, errNoRuntime
			}
			info, err := rt.entity(entity)
			if err != nil {
				return nil, err
			}
			if p := rt.readFilter(ctx, info); p != nil {
				if err := rt.Backend.WhereP(q, p); err != nil {
					return nil, err
				}
			}
			ctx, slot := withRefusalSlot(ctx)
			v, err := next.Query(ctx, q)
			if refusal := slot.refused(); refusal != nil {
				return nil, refusal // a filter was refused, in this query or a subquery of it
			}
			return v, err
		})
	})
}

// ReadFilter returns the predicate selecting the rows of entity the context may read, or nil for every
// row: not soft-deleted (unless the context includes deleted rows), not hidden with a soft-deleted
// parent, and within the read scopes of the principal's roles. It is the one definition of "readable":
// the interceptor applies it to every query of the entity, relation filters to their subqueries (Related),
// and paths that write their own SQL (reports) to their rows.
func (rt *Runtime) ReadFilter(ctx context.Context, entity string) (func(*sql.Selector), error) {
	info, err := rt.entity(entity)
	if err != nil {
		return nil, err
	}
	return rt.readFilter(ctx, info), nil
}

func (rt *Runtime) readFilter(ctx context.Context, info *entityInfo) func(*sql.Selector) {
	var preds []func(*sql.Selector)
	if !includesDeleted(ctx) {
		if info.e.Has(metamodel.TraitSoftDelete) {
			preds = append(preds, sql.FieldIsNull("deleted_at"))
		}
		if p := info.hiddenWithParent; p != nil {
			preds = append(preds, p)
		}
	}
	if p := rt.readPredicate(ctx, info.e); p != nil {
		preds = append(preds, p)
	}
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return sql.AndPredicates(preds...)
}

// Edge applies a relation filter (Has<Edge>, Has<Edge>With on the edge named edge of entity, whose rows
// are of target) to s as the reader of the selector's context may see the relation:
//   - a relation hidden from them, or shown on none of the rows they read, is refused (FieldDeniedError);
//   - the related rows are those they may read (ReadFilter of target), so a filter through a relation
//     tells nothing about rows they cannot see;
//   - a relation shown on some of their rows only is matched on those rows only.
//
// apply adds the relation's condition to s given the predicate on the related rows. Edge reports whether
// it filtered s; when it did not, nothing restricts the relation and the caller adds its plain condition.
// The generated where-functions call it (templates/ent/enforce.tmpl).
func Edge(s *sql.Selector, entity, edge, target string, apply func(s *sql.Selector, related func(*sql.Selector))) bool {
	ctx := s.Context()
	rt := FromContext(ctx)
	if rt == nil {
		s.AddError(errNoRuntime)
		return true
	}
	info, err := rt.entity(entity)
	if err != nil {
		s.AddError(err)
		return true
	}
	r := info.edges[edge]
	if r == nil {
		return false
	}
	a := rt.AccessOf(ctx, entity)
	if !a.Lists(r.Name) {
		refuse(ctx, s, &FieldDeniedError{Entity: entity, Field: r.Name})
		return true
	}
	related := rt.readFilter(ctx, rt.entities[target])
	var shown func(*sql.Selector)
	if scopes := a.PerRow[r.Name]; scopes != nil && !a.All {
		shown = rt.scopePredicate(auth.FromContext(ctx), info.e, scopes)
	}
	if related == nil && shown == nil {
		return false
	}
	if related == nil {
		related = func(*sql.Selector) {}
	}
	cond := func(s *sql.Selector) { apply(s, related) }
	if shown == nil {
		cond(s)
		return true
	}
	// One condition for the caller: inside or/not, ent combines each predicate's conditions as one.
	sql.AndPredicates(cond, shown)(s)
	return true
}

// readPredicate is the row filter of the context's read scopes on e, or nil for every row.
func (rt *Runtime) readPredicate(ctx context.Context, e *metamodel.Entity) func(*sql.Selector) {
	a := rt.AccessOf(ctx, e.Name)
	if a.All {
		return nil
	}
	return rt.scopePredicate(auth.FromContext(ctx), e, a.Read)
}
