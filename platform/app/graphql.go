package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/enforce/gqlenforce"
	"github.com/crmgen/crmgen/platform/process"
	"github.com/crmgen/crmgen/platform/workflow"
)

// Limits on a single GraphQL operation. Complexity counts every field once and multiplies list fields by
// their page size (entgql's connections declare it), so a deep or wide query is refused before it runs.
const (
	maxComplexity = 2000000
	maxDepth      = 12
	unboundedPage = 100
)

// graphqlHandler builds the GraphQL endpoint: POST and GET transports, a parsed-query cache, complexity and
// depth limits, one transaction per mutation operation (entgql.Transactioner, so a failed mutation writes
// nothing), and errors that name the field and rule.
func graphqlHandler(rt *enforce.Runtime, b Backend) *handler.Server {
	srv := handler.New(b.Schema())
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	// Parsed and validated documents are shared between requests: nothing about a reader is decided on
	// them (platform/enforce decides on the values that reach the database).
	srv.SetQueryCache(coercingCache{lru.New[*ast.QueryDocument](1000)})
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(operationLimits{maxDepth: maxDepth, maxComplexity: maxComplexity})
	srv.Use(signInGuard{})
	if len(rt.Model.Roles) > 0 || restrictsAny(rt.Model) {
		srv.AroundFields(gqlenforce.Fields(rt))
	}
	srv.AroundOperations(operationCaches)
	srv.Use(entgql.Transactioner{TxOpener: b, SkipTxFunc: onlySessionFields})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		logger(ctx).Error("graphql panic", "panic", fmt.Sprint(v))
		return errors.New("internal server error")
	})
	return srv
}

// restrictsAny reports whether some member of the model can be refused to some reader: only then do
// response fields need a decision each.
func restrictsAny(m *metamodel.Model) bool {
	for _, e := range m.Entities {
		if len(m.Restrictable(e)) > 0 {
			return true
		}
	}
	return false
}

// sessionFields are the mutations of the auth service, which keeps its own tables through its own
// connection: holding a record transaction around them would only block that connection on SQLite.
var sessionFields = map[string]bool{"login": true, "logout": true, "createAPIToken": true, "revokeAPIToken": true,
	"changePassword": true, "setUserPassword": true}

// onlySessionFields reports whether a mutation consists of session fields only (it then runs without
// the per-operation transaction).
func onlySessionFields(op *ast.OperationDefinition) bool {
	for _, s := range op.SelectionSet {
		if f, ok := s.(*ast.Field); !ok || (!sessionFields[f.Name] && f.Name != "__typename") {
			return false
		}
	}
	return true
}

// presentError maps the platform's errors to GraphQL errors whose extensions carry a machine-readable
// code, and for validation errors the entity, field and rule of each violation.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	if ext := processError(err); ext != nil {
		gerr.Message = err.Error()
		if inner := errors.Unwrap(err); inner != nil {
			gerr.Message = inner.Error() // without gqlgen's position and path, which the error carries apart
		}
		gerr.Extensions = ext
		return gerr
	}
	var ve *enforce.ValidationError
	var ce *enforce.ConflictError
	var re *enforce.RestrictError
	var fe *enforce.ForbiddenError
	var ne *enforce.NotFoundError
	var te *auth.ThrottledError
	var de *enforce.FieldDeniedError
	switch {
	case errors.As(err, &de):
		gerr.Message = de.Error()
		gerr.Extensions = map[string]any{"code": "FORBIDDEN_FIELD", "field": de.Field}
	case errors.As(err, &fe):
		gerr.Message = fe.Error()
		gerr.Extensions = map[string]any{"code": "FORBIDDEN"}
	case errors.As(err, &ne):
		gerr.Message = ne.Error()
		gerr.Extensions = map[string]any{"code": "NOT_FOUND"}
	case errors.As(err, &te):
		gerr.Message = "too many failed sign-ins; try again later"
		gerr.Extensions = map[string]any{"code": "THROTTLED", "retryAfterSeconds": int(te.RetryAfter.Seconds() + 0.999)}
	case errors.Is(err, auth.ErrWeakPassword):
		gerr.Message = err.Error()
		gerr.Extensions = map[string]any{"code": "VALIDATION", "field": "password", "rule": "minLen"}
	case errors.Is(err, auth.ErrInvalidCredentials), errors.Is(err, auth.ErrInactive), errors.Is(err, auth.ErrInvalidToken):
		gerr.Message = "invalid username or password"
		if errors.Is(err, auth.ErrInvalidToken) {
			gerr.Message = "sign in required"
		}
		gerr.Extensions = map[string]any{"code": "UNAUTHENTICATED"}
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

// processError returns the extensions of a refused workflow transition or a process failure, nil for
// other errors. extensions.check names the failed check of a transition, in METAMODEL.md's order.
func processError(err error) map[string]any {
	var (
		se *workflow.StateError
		re *workflow.RoleError
		ne *workflow.NotFoundError
		qe *workflow.RequiresError
		ge *workflow.GuardError
		ce *workflow.CommentError
		sc *process.StateConflictError
		ut *process.UnknownTransitionError
		cy *process.CycleError
		ae *process.ActionError
	)
	switch {
	case errors.As(err, &ne):
		return map[string]any{"code": "NOT_FOUND", "check": "read"}
	case errors.As(err, &se):
		return map[string]any{"code": "CONFLICT", "check": "state", "state": se.Current, "from": se.From}
	case errors.As(err, &re):
		return map[string]any{"code": "FORBIDDEN", "check": "role", "roles": re.Roles}
	case errors.As(err, &qe):
		return map[string]any{"code": "VALIDATION", "check": "requires", "field": qe.Missing[0], "rule": enforce.RuleRequired,
			"fields": qe.Missing}
	case errors.As(err, &ge):
		return map[string]any{"code": "VALIDATION", "check": "guard", "rule": "guard", "guard": ge.Guard}
	case errors.As(err, &ce):
		return map[string]any{"code": "VALIDATION", "check": "comment", "field": "comment", "rule": enforce.RuleRequired}
	case errors.As(err, &sc):
		return map[string]any{"code": "CONFLICT", "check": "state"}
	case errors.As(err, &ut):
		return map[string]any{"code": "VALIDATION", "field": "transition", "rule": enforce.RuleEnum, "transitions": ut.Known}
	case errors.As(err, &cy):
		return map[string]any{"code": "AUTOMATION_CYCLE", "chain": cy.Chain}
	case errors.As(err, &ae):
		// The action's own error decides the code (a created record's validation, say); the message keeps
		// which automation or transition ran it.
		ext := map[string]any{"code": "ACTION_FAILED"}
		if inner := presentError(context.Background(), ae.Err); inner.Extensions != nil {
			ext = inner.Extensions
		}
		ext["source"], ext["action"] = ae.Source, ae.Action
		return ext
	}
	return nil
}

// operationLimits refuses operations nested deeper than maxDepth selection levels or costing more than
// maxComplexity (fragments included).
type operationLimits struct{ maxDepth, maxComplexity int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationLimits{}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l operationLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := walker{frags: oc.Doc.Fragments, vars: oc.Variables}
	depth, cost := w.walk(oc.Operation.SelectionSet, 0)
	if depth > l.maxDepth {
		return gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, l.maxDepth)
	}
	if cost > l.maxComplexity {
		return gqlerror.Errorf("operation complexity %d exceeds the limit %d: request smaller pages (first/last) or fewer nested lists", cost, l.maxComplexity)
	}
	return nil
}

type walker struct {
	frags ast.FragmentDefinitionList
	vars  map[string]any
}

// saturated bounds costs so that multiplying them cannot overflow.
const saturated = 1 << 40

// walk returns the depth and cost of a selection set.
func (w walker) walk(set ast.SelectionSet, level int) (depth, cost int) {
	if level > 64 {
		return level, saturated // fragment cycles are rejected by validation; this only bounds the walk
	}
	for _, s := range set {
		var d, c int
		switch s := s.(type) {
		case *ast.Field:
			d, c = 1, 1
			if len(s.SelectionSet) > 0 {
				cd, cc := w.walk(s.SelectionSet, level+1)
				d += cd
				c += min(w.multiplier(s)*cc, saturated)
			}
		case *ast.InlineFragment:
			d, c = w.walk(s.SelectionSet, level+1)
		case *ast.FragmentSpread:
			if f := w.frags.ForName(s.Name); f != nil {
				d, c = w.walk(f.SelectionSet, level+1)
			}
		}
		depth = max(depth, d)
		cost = min(cost+c, saturated)
	}
	return depth, cost
}

// multiplier is how many times a field's selection may repeat: the page size of a list or connection
// (first/last, or unboundedPage when neither is given), else 1.
func (w walker) multiplier(f *ast.Field) int {
	if f.Definition == nil || f.Definition.Type == nil {
		return 1
	}
	if f.Definition.Type.Elem == nil && !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return 1
	}
	if strings.HasSuffix(f.Definition.Type.Name(), "Edge") {
		return 1 // a connection's edges: its page size was counted on the connection
	}
	n := 0
	for _, name := range []string{"first", "last"} {
		if a := f.Arguments.ForName(name); a != nil {
			if v, err := a.Value.Value(w.vars); err == nil {
				switch x := v.(type) {
				case int64:
					n = max(n, int(x))
				case int:
					n = max(n, x)
				case float64:
					n = max(n, int(x))
				}
			}
		}
	}
	if n <= 0 {
		n = unboundedPage
	}
	return n
}

// requestTimeout bounds the work of one GraphQL request.
const requestTimeout = 30 * time.Second
