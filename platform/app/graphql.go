package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/crmgen/crmgen/platform/enforce"
)

// Limits on a single GraphQL operation. Complexity counts every field once and multiplies list fields by
// their page size (entgql's connections declare it), so a deep or wide query is refused before it runs.
const (
	maxComplexity = 20000
	maxDepth      = 12
)

// graphqlHandler builds the GraphQL endpoint: POST and GET transports, a parsed-query cache, complexity and
// depth limits, one transaction per mutation operation (entgql.Transactioner, so a failed mutation writes
// nothing), and errors that name the field and rule.
func graphqlHandler(b Backend) *handler.Server {
	srv := handler.New(b.Schema())
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(maxComplexity))
	srv.Use(depthLimit{max: maxDepth})
	srv.Use(entgql.Transactioner{TxOpener: b})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		logger(ctx).Error("graphql panic", "panic", fmt.Sprint(v))
		return errors.New("internal server error")
	})
	return srv
}

// presentError maps the platform's errors to GraphQL errors whose extensions carry a machine-readable
// code, and for validation errors the entity, field and rule of each violation.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	var ve *enforce.ValidationError
	var ce *enforce.ConflictError
	var re *enforce.RestrictError
	switch {
	case errors.As(err, &ve):
		gerr.Message = ve.Error()
		fields := make([]map[string]any, len(ve.Fields))
		for i, f := range ve.Fields {
			fields[i] = map[string]any{"entity": f.Entity, "field": f.Field, "rule": f.Rule, "message": f.Msg}
		}
		gerr.Extensions = map[string]any{"code": "VALIDATION", "fields": fields}
		if len(ve.Fields) > 0 {
			gerr.Extensions["field"] = ve.Fields[0].Field
			gerr.Extensions["rule"] = ve.Fields[0].Rule
		}
	case errors.As(err, &ce):
		gerr.Message = ce.Error()
		gerr.Extensions = map[string]any{"code": "CONFLICT"}
	case errors.As(err, &re):
		gerr.Message = re.Error()
		gerr.Extensions = map[string]any{"code": "RESTRICTED", "relations": re.Relations}
	default:
		if enforce.IsNotFound(err) {
			gerr.Message = "not found"
			gerr.Extensions = map[string]any{"code": "NOT_FOUND"}
		}
	}
	return gerr
}

// depthLimit refuses operations nested deeper than max selection levels (fragments included).
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0); depth > d.max {
		return gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, d.max)
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen int) int {
	if seen > 64 {
		return seen // fragment cycles are rejected by validation; this only bounds the walk
	}
	max := 0
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = 1
			} else {
				d = 1 + selectionDepth(s.SelectionSet, frags, seen+1)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, frags, seen+1)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				d = selectionDepth(f.SelectionSet, frags, seen+1)
			}
		}
		if d > max {
			max = d
		}
	}
	return max
}

// requestTimeout bounds the work of one GraphQL request.
const requestTimeout = 30 * time.Second
