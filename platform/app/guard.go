package app

import (
	"context"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/gqlwrite"
	"github.com/crmgen/crmgen/platform/process"
)

// publicFields are the root fields answered without a principal.
var publicFields = map[string]bool{"login": true, "__typename": true}

// signInGuard refuses, before anything runs, operations without a principal, except signing in. What a
// signed-in user may see is decided by platform/enforce on the values that reach the database and on the
// fields of the response (gqlenforce), never on the request's syntax.
type signInGuard struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = signInGuard{}

func (signInGuard) ExtensionName() string                   { return "SignInGuard" }
func (signInGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (signInGuard) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if auth.FromContext(ctx) == nil && !enforce.IsSystem(ctx) {
		for _, s := range oc.Operation.SelectionSet {
			f, ok := s.(*ast.Field)
			if !ok || !publicFields[f.Name] {
				return &gqlerror.Error{Message: "sign in required: use the login mutation, or send Authorization: Bearer <token>",
					Extensions: map[string]any{"code": "UNAUTHENTICATED"}}
			}
		}
	}
	return nil
}

// operationCaches gives an operation its caches: readability answers, and for a query the records the
// process engine loads (a query writes nothing, so records loaded for one row serve the next) and its
// compiled lists, which read their rows through pgx on Postgres (db.Rows) — unless the query runs in a
// held transaction (an import's), whose rows another connection would not see.
func operationCaches(db *database.DB) graphql.OperationMiddleware {
	var rows gqlwrite.Rows
	if db != nil && db.Dialect == dialect.Postgres {
		rows = db.Rows
	}
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		ctx = enforce.WithRowCache(ctx)
		if oc.Operation != nil && oc.Operation.Operation == ast.Query {
			ctx = process.WithLoadCache(ctx)
			if _, held := ctx.Value(heldKey{}).(*heldTx); !held {
				ctx = gqlwrite.WithLists(ctx, rows)
			}
		}
		return next(ctx)
	}
}
