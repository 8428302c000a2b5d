package enforce

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
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

func (rt *Runtime) narrow(ctx context.Context, info *entityInfo, q ent.Query) error {
	if info.e.Has(metamodel.TraitSoftDelete) && !includesDeleted(ctx) {
		return rt.Backend.WhereP(q, sql.FieldIsNull("deleted_at"))
	}
	return nil
}
