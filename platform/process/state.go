package process

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/workflow"
)

// stepCreated names the workflow history step of a record created in the initial state, which is not a
// transition (workflow.StepSeeded names that of a record loaded with the model's data).
const stepCreated = "(created)"

type transitionKey struct{}

// running is the transition a context carries out: it alone may write the state field of one record,
// and only while the record is still in the state the transition was checked in.
type running struct {
	w    *metamodel.Workflow
	id   int
	from string
}

func withTransition(ctx context.Context, r *running) context.Context {
	return context.WithValue(ctx, transitionKey{}, r)
}

func transitionOf(ctx context.Context) *running {
	r, _ := ctx.Value(transitionKey{}).(*running)
	return r
}

type (
	ider       interface{ ID() (int, bool) }
	predicater interface {
		WhereP(...func(*sql.Selector))
	}
)

// guardState keeps w's state field to transitions. A create starts in the initial state (the field's
// default) and, once saved, records the step and schedules the state's timers; the system may create a
// record in another state (demo data). A record loaded with the model's data, in whatever state, is
// recorded as seeded. An update may write the field only as part of the transition running in ctx, and
// then only if the record is still in the transition's from state.
func (e *Engine) guardState(ctx context.Context, w *metamodel.Workflow, m ent.Mutation) (func(context.Context, ent.Value) error, error) {
	col := w.EntityRef.Field(w.Field).EntName()
	v, set := m.Field(col)
	cleared := m.FieldCleared(col)
	switch {
	case m.Op().Is(ent.OpCreate):
		state := w.Initial
		if set {
			state = fmt.Sprint(v)
		}
		if state != w.Initial && !enforce.IsSystem(ctx) {
			return nil, e.stateWriteError(w, fmt.Sprintf("a new %s starts in state %q", w.Entity, w.Initial))
		}
		return func(ctx context.Context, _ ent.Value) error {
			id, ok := m.(ider).ID()
			if !ok {
				return fmt.Errorf("workflow %s: created %s has no id", w.Name, w.Entity)
			}
			step := stepCreated
			if state != w.Initial || enforce.IsLoading(ctx) {
				step = workflow.StepSeeded
			}
			return e.enter(ctx, w, id, "", state, step, "")
		}, nil
	case !set && !cleared:
		return e.reschedule(w, m), nil
	}
	r := transitionOf(ctx)
	id, one := m.(ider).ID()
	if r == nil || r.w != w || !one || id != r.id || m.Op().Is(ent.OpUpdate) {
		return nil, e.stateWriteError(w, "")
	}
	m.(predicater).WhereP(sql.FieldEQ(col, r.from))
	return nil, nil
}

// stateWriteError refuses a direct write of w's state field, naming the transitions to use.
func (e *Engine) stateWriteError(w *metamodel.Workflow, why string) error {
	names := make([]string, len(w.Transitions))
	for i, t := range w.Transitions {
		names[i] = t.Name
	}
	msg := fmt.Sprintf("changes only through a transition of workflow %s: call transition%s(id, transition) with one of %s",
		w.Name, w.Entity, strings.Join(names, ", "))
	if why != "" {
		msg = why + "; it " + msg
	}
	return &enforce.ValidationError{Fields: []*enforce.FieldError{{Entity: w.Entity, Field: w.Field,
		Rule: enforce.RuleWorkflow, Msg: msg}}}
}

// enter records that record id of w's entity entered state (from "" on create) and schedules the
// state's timers, in the transaction of ctx.
func (e *Engine) enter(ctx context.Context, w *metamodel.Workflow, id int, from, to, step, comment string) error {
	conn := e.Backend.Conn(ctx)
	now := e.now()
	s := workflow.Step{Workflow: w.Name, Entity: w.Entity, RecordID: id, From: from, To: to, Transition: step,
		Comment: comment, At: now, Username: "system"}
	if p := auth.FromContext(ctx); p != nil {
		uid := p.ID
		s.UserID, s.Username = &uid, p.Username
	}
	if err := workflow.RecordStep(ctx, conn, e.Dialect, s); err != nil {
		return err
	}
	if from != "" && from != to {
		if err := workflow.CancelOnExit(ctx, conn, e.Dialect, w.Entity, id, from); err != nil {
			return err
		}
	}
	if from == to || !hasTimers(w, to) {
		return nil
	}
	rec, err := e.load(ctx, w.Entity, id)
	if err != nil {
		return err
	}
	return workflow.ScheduleOnEntry(ctx, conn, e.Dialect, e.Model, w, w.Entity, id, to, rec, now)
}

func hasTimers(w *metamodel.Workflow, state string) bool {
	for _, t := range w.Timers {
		if t.State == state {
			return true
		}
	}
	return false
}

// reschedule returns, for an update of one record of w's entity that does not change its state, what
// moves the `at` timers of its state with the update (an appointment moved, a due date set); nil when w
// has no `at` timers.
func (e *Engine) reschedule(w *metamodel.Workflow, m ent.Mutation) func(context.Context, ent.Value) error {
	id, one := m.(ider).ID()
	if !one || !m.Op().Is(ent.OpUpdateOne) || !slices.ContainsFunc(w.Timers, func(t *metamodel.Timer) bool { return t.At.Src != "" }) {
		return nil
	}
	return func(ctx context.Context, _ ent.Value) error {
		rec, err := e.load(ctx, w.Entity, id)
		if err != nil || rec == nil {
			return err
		}
		state, _ := rec[w.Field].(string)
		if !workflow.HasAtTimers(w, state) {
			return nil
		}
		return workflow.Reschedule(ctx, e.Backend.Conn(ctx), e.Dialect, e.Model, w, w.Entity, id, state, rec, e.now())
	}
}
