// Package enforce is the one enforcement point of a generated application: the ent hook and interceptor
// that every generated schema installs. Every path that reads or writes records (GraphQL, admin screens,
// data loading, jobs) goes through the ent client, so the rules here — validation, numbering, versioning,
// soft delete, and the role-based row and field rules that build on them — cannot be bypassed.
//
// The generated schemas call Hook and Interceptor with their entity's name when the ent runtime
// initializes; the closures, and the guarded predicates of the generated where-functions, look the rules
// up in the Runtime that the operation's context carries (NewContext). A context without one may do
// nothing: every path into the database starts from a context the app gave its runtime.
package enforce

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
	"github.com/crmgen/crmgen/platform/auth"
)

// Backend is what enforcement needs from the generated code beyond ent's generic interfaces.
type Backend interface {
	// Mutate executes a (rewritten) mutation with the client of ctx.
	Mutate(ctx context.Context, m ent.Mutation) (ent.Value, error)
	// Exists reports whether a record of entity with id exists, is visible in ctx, and matches ps.
	Exists(ctx context.Context, entity string, id int, ps ...func(*sql.Selector)) (bool, error)
	// WhereP adds storage-level predicates to a query of any entity (through ent's intercept package).
	WhereP(q ent.Query, ps ...func(*sql.Selector)) error
}

// Effects are the model's processes that run with every mutation of a record, whatever path made it:
// workflows (whose state field changes only through a transition) and automations. platform/process
// implements them; they live outside this package because they run CEL and write further records.
type Effects interface {
	// Mutation is called for each mutation of entity after it has been authorized and before it runs. It
	// may refuse it or add to it; after, when not nil, runs once the mutation has succeeded, in the same
	// transaction, and its error rolls the mutation back. It is given what the mutation returned: for a
	// create, the record as it was written (so an automation need not read it back).
	Mutation(ctx context.Context, entity string, m ent.Mutation) (after func(ctx context.Context, v ent.Value) error, err error)
}

// Runtime is the installed model and backend.
type Runtime struct {
	Model   *metamodel.Model
	Dialect string // entgo.io/ent/dialect name: "sqlite3" or "postgres"
	Backend Backend
	Effects Effects // nil runs no processes
	// Changed, when set, is told of every mutation that succeeded: the entity and the id of the record
	// (0 when the mutation may have changed several). The app forgets what it caches about users and
	// teams there.
	Changed func(entity string, id int)
	// Files keeps the contents of file and image fields. A reference written to such a field is checked
	// against it (attach.Verify); nil refuses every reference.
	Files attach.Store

	entities map[string]*entityInfo
	policies policies
}

// entityInfo indexes an entity by the ent names that mutations and queries use.
type entityInfo struct {
	e      *metamodel.Entity
	fields map[string]*metamodel.Field    // ent field name → field
	fks    map[string]*metamodel.Relation // FK ent field ("region_id") → belongsTo relation
	cols   map[string]string              // SQL column → model field or relation name
	edges  map[string]*metamodel.Relation // ent edge name → relation
	gql    map[string]string              // GraphQL field name → model field or relation name
	// hiddenWithParent hides records whose cascade parent is soft-deleted (nil if none can be).
	hiddenWithParent func(*sql.Selector)
}

// New returns the runtime of model m over backend b on a database of dialect. Effects may be set before
// the runtime is used.
func New(m *metamodel.Model, dialect string, b Backend) *Runtime {
	rt := &Runtime{Model: m, Dialect: dialect, Backend: b}
	rt.entities = map[string]*entityInfo{}
	for _, e := range rt.Model.Entities {
		info := &entityInfo{e: e, fields: map[string]*metamodel.Field{}, fks: map[string]*metamodel.Relation{},
			edges: map[string]*metamodel.Relation{}, cols: map[string]string{}, gql: map[string]string{}}
		for _, f := range e.Fields {
			info.fields[f.EntName()] = f
			info.cols[f.Column()] = f.Name
			info.gql[f.GraphQLName()] = f.Name
		}
		for _, r := range e.Relations {
			info.edges[r.EntName()] = r
			info.gql[r.GraphQLName()] = r.Name
			if r.Kind == metamodel.BelongsTo {
				info.fks[r.FKColumn()] = r
				info.cols[r.FKColumn()] = r.Name
				info.gql[r.GraphQLFKName()] = r.Name
			}
		}
		info.hiddenWithParent = hiddenWithParent(e)
		rt.entities[e.Name] = info
	}
	return rt
}

type runtimeCtxKey struct{}

// NewContext returns ctx carrying rt: the rules every hook, interceptor and guarded predicate applies to
// what runs in ctx.
func NewContext(ctx context.Context, rt *Runtime) context.Context {
	return context.WithValue(ctx, runtimeCtxKey{}, rt)
}

// FromContext returns the runtime ctx carries, or nil.
func FromContext(ctx context.Context) *Runtime {
	rt, _ := ctx.Value(runtimeCtxKey{}).(*Runtime)
	return rt
}

// errNoRuntime refuses an operation whose context carries no runtime: it could only run without rules.
var errNoRuntime = errors.New("enforce: no runtime in the operation's context (start it from a context the app made with enforce.NewContext)")

// Member returns the model field or relation behind a GraphQL field of entity ("regionID" → "region").
func (rt *Runtime) Member(entity, graphqlName string) (string, bool) {
	info := rt.entities[entity]
	if info == nil {
		return "", false
	}
	name, ok := info.gql[graphqlName]
	return name, ok
}

// MemberByColumn returns the model field or relation stored in column of entity.
func (rt *Runtime) MemberByColumn(entity, column string) (string, bool) {
	info := rt.entities[entity]
	if info == nil {
		return "", false
	}
	name, ok := info.cols[column]
	return name, ok
}

func (rt *Runtime) entity(name string) (*entityInfo, error) {
	info := rt.entities[name]
	if info == nil {
		return nil, fmt.Errorf("enforce: entity %q is not in the installed model", name)
	}
	return info, nil
}

type ctxKey int

const (
	systemKey ctxKey = iota
	includeDeletedKey
	hardDeleteKey
	restoringKey
	noAuditKey
	authorizedKey
	noEffectsKey
	loadingKey
)

// Loading marks ctx as loading a model's data: a snapshot of records whose automations have run already
// (their effects are in the data), so they do not run again. Workflow states are still recorded and their
// timers scheduled.
func Loading(ctx context.Context) context.Context { return context.WithValue(ctx, loadingKey, true) }

// IsLoading reports whether ctx loads a model's data.
func IsLoading(ctx context.Context) bool { v, _ := ctx.Value(loadingKey).(bool); return v }

// withoutEffects marks a mutation the platform runs as part of another one whose effects already run
// (the update a soft delete becomes is a delete, not an update, to automations).
func withoutEffects(ctx context.Context) context.Context {
	return context.WithValue(ctx, noEffectsKey, true)
}

func effectsOff(ctx context.Context) bool { v, _ := ctx.Value(noEffectsKey).(bool); return v }

// authorized marks a mutation the platform runs on behalf of one it already authorized (the update a
// soft delete becomes is authorized as the delete, not as an update).
func authorized(ctx context.Context) context.Context {
	return context.WithValue(ctx, authorizedKey, true)
}

func isAuthorized(ctx context.Context) bool { v, _ := ctx.Value(authorizedKey).(bool); return v }

// Restoring marks ctx as restoring soft-deleted records: an update that may match deleted rows, needs the
// right to delete them, and is recorded as a restore.
func Restoring(ctx context.Context) context.Context {
	return context.WithValue(IncludeDeleted(ctx), restoringKey, true)
}

func restoring(ctx context.Context) bool { v, _ := ctx.Value(restoringKey).(bool); return v }

// withoutAudit marks a mutation the platform runs on behalf of another one that records the history.
func withoutAudit(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAuditKey, true)
}

func auditOff(ctx context.Context) bool { v, _ := ctx.Value(noAuditKey).(bool); return v }

// System marks ctx as the system acting (data loading, workflows, timers): it may set readonly fields.
func System(ctx context.Context) context.Context { return context.WithValue(ctx, systemKey, true) }

// ActingAs returns ctx acting for p rather than as the system: the platform uses it to ask what another
// user may see (may the recipient of a notification read its record?).
func ActingAs(ctx context.Context, p *auth.Principal) context.Context {
	ctx = context.WithValue(ctx, rowCacheKey, (*rowCache)(nil)) // the request's answers are for its own user
	return auth.WithPrincipal(context.WithValue(ctx, systemKey, false), p)
}

// IsSystem reports whether ctx acts as the system.
func IsSystem(ctx context.Context) bool { v, _ := ctx.Value(systemKey).(bool); return v }

// IncludeDeleted makes soft-deleted rows visible in ctx (for restore and audit screens).
func IncludeDeleted(ctx context.Context) context.Context {
	return context.WithValue(ctx, includeDeletedKey, true)
}

func includesDeleted(ctx context.Context) bool { v, _ := ctx.Value(includeDeletedKey).(bool); return v }

// HardDelete makes deletes in ctx remove soft-delete rows for good.
func HardDelete(ctx context.Context) context.Context {
	return context.WithValue(ctx, hardDeleteKey, true)
}

func hardDeletes(ctx context.Context) bool { v, _ := ctx.Value(hardDeleteKey).(bool); return v }
