// Package process runs the model's processes inside a generated application: workflow transitions, the
// automations that follow record changes, the timers of workflow states, and the notifications all of
// them send. It plugs into platform/enforce as its Effects, so the rules hold on every path that writes a
// record — GraphQL, admin screens, data loading, timers — and everything a change sets off commits or
// rolls back with it, in its transaction.
//
// Decisions (see also the README's "Processes" section):
//   - The state field of a workflow changes only through a transition. A create starts in the initial
//     state (the system, loading demo data, may create records in any state: the step is recorded as
//     seeded); any other write of the field is refused with the transitions to use instead.
//   - A transition updates the record on the condition that it is still in the state it was checked in,
//     so of two concurrent transitions exactly one wins; the other is a CONFLICT.
//   - An automation's `set` is part of the change that triggered it: it does not trigger automations
//     again. Its `create` does (a chain), and a chain that comes back to an automation already running
//     for it is an error that rolls everything back, as is a chain deeper than MaxChain.
//   - Model-defined effects (set, create, transitions run by timers) run as the system: the model's
//     author decided them, not the user's roles. The user stays the author in audit and history.
package process

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/expr"
	"github.com/crmgen/crmgen/platform/outbox"
	"github.com/crmgen/crmgen/platform/workflow"
)

// Conn runs SQL: an ent client, which runs it in its transaction when it has one.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

// Backend is the generated record access processes need.
type Backend interface {
	enforce.Backend
	OpenTx(ctx context.Context) (context.Context, driver.Tx, error)
	// Get returns one record (an ent entity struct) as ctx may see it.
	Get(ctx context.Context, entity string, id int) (any, error)
	// Create and Update take values keyed by field name, belongsTo relations by foreign-key name with an
	// int, manyToMany relations by name with []int (see platform/seed).
	Create(ctx context.Context, entity string, values map[string]any) (int, error)
	Update(ctx context.Context, entity string, id int, values map[string]any) error
	// Conn runs SQL in the transaction of ctx, if any.
	Conn(ctx context.Context) Conn
}

// MaxChain bounds how many automations one change may set off in a row.
const MaxChain = 8

// Engine runs the processes of one model.
type Engine struct {
	Model   *metamodel.Model
	Dialect string
	Backend Backend
	DB      *stdsql.DB // claims timers outside any record transaction
	// Channels are the delivery channels configured besides the in-app inbox (outbox.ChannelEmail,
	// ChannelSMS, ChannelWebhook); notifications are queued only for these.
	Channels []string
	// Dispatcher delivers the outbox; the engine shows and requeues its dead letters.
	Dispatcher *outbox.Dispatcher
	Log        *slog.Logger
	// Now returns the current time; tests leave it nil.
	Now func() time.Time

	rt          *enforce.Runtime
	workflows   map[string][]*metamodel.Workflow   // by entity
	automations map[string][]*metamodel.Automation // by entity
	relations   map[string]map[string]bool         // by entity: see relationsRead
}

// Install indexes e's model and makes e the effects of rt: the engine that the operations of contexts
// carrying rt (enforce.NewContext) run, and that FromContext finds.
func Install(e *Engine, rt *enforce.Runtime) {
	e.workflows = map[string][]*metamodel.Workflow{}
	e.automations = map[string][]*metamodel.Automation{}
	for _, w := range e.Model.Workflows {
		e.workflows[w.Entity] = append(e.workflows[w.Entity], w)
	}
	for _, a := range e.Model.Automations {
		e.automations[a.Entity] = append(e.automations[a.Entity], a)
	}
	e.relations = relationsRead(e.Model)
	if e.Log == nil {
		e.Log = slog.Default()
	}
	rt.Effects = e
	e.rt = rt
}

// FromContext returns the engine of the enforcement runtime ctx carries, or nil.
func FromContext(ctx context.Context) *Engine {
	rt := enforce.FromContext(ctx)
	if rt == nil {
		return nil
	}
	e, _ := rt.Effects.(*Engine)
	return e
}

// Migrate creates the tables of workflow history, timers, outbox and inbox.
func Migrate(ctx context.Context, db *stdsql.DB, dialect string) error {
	if err := outbox.Migrate(ctx, db, dialect); err != nil {
		return err
	}
	for _, ddl := range slices.Concat(workflow.HistoryDDL(dialect), workflow.TimersDDL(dialect)) {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("create workflow tables: %w", err)
		}
	}
	return nil
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Mutation implements enforce.Effects: it keeps workflow state fields to transitions and sets off the
// automations of the change.
func (e *Engine) Mutation(ctx context.Context, entity string, m ent.Mutation) (func(context.Context, ent.Value) error, error) {
	var afters []func(context.Context, ent.Value) error
	for _, w := range e.workflows[entity] {
		after, err := e.guardState(ctx, w, m)
		if err != nil {
			return nil, err
		}
		if after != nil {
			afters = append(afters, after)
		}
	}
	if after, err := e.automate(ctx, entity, m); err != nil {
		return nil, err
	} else if after != nil {
		afters = append(afters, after)
	}
	if len(afters) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, v ent.Value) error {
		for _, after := range afters {
			if err := after(ctx, v); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// Compile compiles every expression of the model's workflows, automations and computed fields into a
// program, once, so that the app fails at start rather than at the first transition if one does not
// compile (it cannot after `crmgen validate`, unless the model was changed by hand).
func Compile(m *metamodel.Model) error {
	for _, s := range exprSites(m) {
		if _, err := expr.Program(m, s.entity, s.src.Src); err != nil {
			return fmt.Errorf("%s: %s: %w", s.what, s.src.Src, err)
		}
	}
	return nil
}

// site is one expression of the model, about records of entity.
type site struct {
	entity, what string
	src          metamodel.Expr
}

// exprSites lists every expression the engine evaluates: computed fields, guards, sets, timers, the
// conditions and values of automations.
func exprSites(m *metamodel.Model) []site {
	var sites []site
	add := func(entity, what string, x metamodel.Expr) {
		if x.Src != "" {
			sites = append(sites, site{entity, what, x})
		}
	}
	actions := func(entity, what string, as []*metamodel.Action) {
		for _, a := range as {
			for _, s := range a.Set {
				add(entity, what+" set "+s.Name, s.Value)
			}
			if a.Create != nil {
				for _, v := range a.Create.Values {
					add(entity, what+" create "+a.Create.Entity+"."+v.Name, v.Value)
				}
			}
		}
	}
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			add(e.Name, "computed field "+f.Name, f.Computed)
		}
	}
	for _, w := range m.Workflows {
		for _, t := range w.Transitions {
			what := "workflow " + w.Name + " transition " + t.Name
			add(w.Entity, what+" guard", t.Guard)
			for _, s := range t.Set {
				add(w.Entity, what+" set "+s.Name, s.Value)
			}
			actions(w.Entity, what, t.Do)
		}
		for i, tm := range w.Timers {
			add(w.Entity, fmt.Sprintf("workflow %s timer %d", w.Name, i+1), tm.At)
		}
	}
	for _, a := range m.Automations {
		add(a.Entity, "automation "+a.Name+" when", a.When)
		actions(a.Entity, "automation "+a.Name, a.Do)
	}
	return sites
}

// relationsRead lists, per entity, the belongsTo relations whose related record the engine must load
// with a record: those an expression reads (record.customer.grade, or the relation itself), and the User
// relations notifications are sent to. The others keep only the related record's id, which saves a
// query per relation on every write.
func relationsRead(m *metamodel.Model) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	mark := func(entity, rel string) {
		if out[entity] == nil {
			out[entity] = map[string]bool{}
		}
		out[entity][rel] = true
	}
	for _, s := range exprSites(m) {
		e := m.Entity(s.entity)
		for _, r := range m.ExprReads(e, s.src) {
			if r.Entity == e.Name && e.Relation(r.Member) != nil {
				mark(e.Name, r.Member)
			}
		}
	}
	notifies := func(entity string, n *metamodel.Notify) {
		if n != nil && n.Field != "" {
			mark(entity, n.Field)
		}
	}
	for _, w := range m.Workflows {
		for _, t := range w.Transitions {
			for _, a := range t.Do {
				notifies(w.Entity, a.Notify)
			}
		}
		for _, tm := range w.Timers {
			notifies(w.Entity, tm.Notify)
		}
	}
	for _, a := range m.Automations {
		for _, act := range a.Do {
			notifies(a.Entity, act.Notify)
		}
	}
	return out
}
