package enforce

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// Interceptor returns the query interceptor of entity. It runs on every query of the entity — lists,
// counts, node lookups, eager-loaded edges — and narrows it to the rows the context may see: for now,
// not soft-deleted.
func Interceptor(entity string) ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			if rt := current.Load(); rt != nil {
				if info := rt.entities[entity]; info != nil {
					if err := rt.narrow(ctx, info, q); err != nil {
						return nil, err
					}
				}
			}
			return next.Query(ctx, q)
		})
	})
}

// narrow limits q to the rows the context may read: not soft-deleted (unless asked), and within the read
// scopes of the principal's roles.
func (rt *Runtime) narrow(ctx context.Context, info *entityInfo, q ent.Query) error {
	if !includesDeleted(ctx) {
		if info.e.Has(metamodel.TraitSoftDelete) {
			if err := rt.Backend.WhereP(q, sql.FieldIsNull("deleted_at")); err != nil {
				return err
			}
		}
		if p := info.hiddenWithParent; p != nil {
			if err := rt.Backend.WhereP(q, p); err != nil {
				return err
			}
		}
	}
	if pred := rt.readPredicate(ctx, info.e); pred != nil {
		return rt.Backend.WhereP(q, pred)
	}
	return nil
}

// readPredicate is the row filter of the context's read scopes on e, or nil for every row.
func (rt *Runtime) readPredicate(ctx context.Context, e *metamodel.Entity) func(*sql.Selector) {
	a := rt.AccessOf(ctx, e.Name)
	if a.All {
		return nil
	}
	return rt.scopePredicate(auth.FromContext(ctx), e, a.Read)
}
