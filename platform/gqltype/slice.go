package gqltype

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalSlice marshals the elements of a list one after another. gqlgen's own MarshalSliceConcurrently
// starts a goroutine per element: for the rows of a page — whose fields the ent query has already loaded,
// so resolving them waits on nothing — the goroutines and their stack growth cost more than the work
// (a fifth of a list query's CPU). The generator points gqlgen's output here. It keeps gqlgen's contract:
// each element gets a field context with its index, and a panic in one becomes a null and an error.
func MarshalSlice(ctx context.Context, length int, _ int64, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		fc := &graphql.FieldContext{Index: &i}
		childCtx := graphql.WithFieldContext(ctx, fc)
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}
