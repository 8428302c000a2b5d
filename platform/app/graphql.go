package app

import (
	"context"
	"fmt"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/enforce/gqlenforce"
	"github.com/crmgen/crmgen/platform/gqlwrite"
)

// graphqlHandler builds the GraphQL endpoint: POST and GET transports, limits on what one request may
// cost (maxFields fields; see limits.go), one transaction per mutation operation (entgql.Transactioner,
// so a failed mutation writes nothing), and errors that name the field and rule, or, when the platform
// has no words for them, a request id (errors.go).
func graphqlHandler(rt *enforce.Runtime, b Backend, db *database.DB, maxFields int, direct bool) *handler.Server {
	srv := handler.New(b.Schema())
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postTransport{})
	if limit := apiUploadBody(rt.Model); limit > 0 {
		// uploadFile's files (the GraphQL multipart request spec); parts beyond MaxMemory wait in temporary
		// files. limitBodies bounds the body first, by the same limit (withUploads).
		srv.AddTransport(transport.MultipartForm{MaxUploadSize: limit, MaxMemory: 1 << 20})
	}
	// Parsed and validated documents are shared between requests: nothing about a reader is decided on
	// them (platform/enforce decides on the values that reach the database).
	srv.SetQueryCache(coercingCache{lru.New[*ast.QueryDocument](1000)})
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(fieldLimit{max: maxFields}) // after the persisted query has been looked up
	srv.Use(operationLimits{maxDepth: maxDepth, maxComplexity: maxComplexity, maxIntrospectionDepth: maxIntrospectionDepth})
	srv.Use(credentialLimit{})
	srv.Use(signInGuard{})
	srv.AroundFields(fieldGuard(rt))
	srv.AroundOperations(operationCaches(db))
	if !direct {
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			return next(gqlwrite.Off(ctx))
		})
	}
	srv.Use(entgql.Transactioner{TxOpener: txOpener{b}, SkipTxFunc: onlySessionFields})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		return &internalError{cause: fmt.Errorf("panic: %v", v)}
	})
	return srv
}

// fieldGuard is the one middleware around every field: it applies the reader's field rules
// (gqlenforce.Fields), where the model has any, and hides the words of errors meant for the log
// (hideInternalErrors). One layer rather than two: it runs for each of the thousands of fields a list
// answers.
func fieldGuard(rt *enforce.Runtime) graphql.FieldMiddleware {
	if len(rt.Model.Roles) == 0 && !restrictsAny(rt.Model) {
		return hideInternalErrors
	}
	fields := gqlenforce.Fields(rt)
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		v, err := fields(ctx, next)
		if err != nil && !presentable(err) {
			return v, &internalError{cause: err}
		}
		return v, err
	}
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

// sessionFields are the mutations that write no record: those of the auth service, which keeps its own
// tables through its own connection, and uploadFile, which writes to the file store. Holding a record
// transaction around them would only block that connection, or SQLite's writers while a file is stored.
var sessionFields = map[string]bool{"login": true, "logout": true, "createAPIToken": true, "revokeAPIToken": true,
	"changePassword": true, "setUserPassword": true, "uploadFile": true}

// onlySessionFields reports whether a mutation consists of session fields only (it then runs without
// the per-operation transaction). A fragment, whose fields it cannot see, keeps the transaction.
func onlySessionFields(op *ast.OperationDefinition) bool {
	for _, s := range op.SelectionSet {
		if f, ok := s.(*ast.Field); !ok || (!sessionFields[f.Name] && f.Name != "__typename") {
			return false
		}
	}
	return true
}

// requestTimeout bounds the work of one GraphQL request.
const requestTimeout = 30 * time.Second
