package process

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/extension"
	"github.com/crmgen/crmgen/platform/workflow"
)

// CycleError reports automations that set each other off without end: Chain names them in the order
// they ran, ending with the one that would have run again (or the one beyond MaxChain).
type CycleError struct {
	Chain []string
}

func (e *CycleError) Error() string {
	if len(e.Chain) > MaxChain {
		return fmt.Sprintf("automations set each other off more than %d deep (%s); nothing was saved",
			MaxChain, strings.Join(e.Chain, " → "))
	}
	return fmt.Sprintf("automations set each other off in a cycle (%s); nothing was saved", strings.Join(e.Chain, " → "))
}

// ActionError reports a failed action of a transition, timer or automation; the change that set it off
// was rolled back with it.
type ActionError struct {
	Source string // "automation dissatisfiedSurvey", "transition complete", "timer 2 of FollowUpProcess"
	Action string // "create FollowUp", "notify", "set"
	Err    error
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("%s: %s failed: %v", e.Source, e.Action, e.Err)
}

func (e *ActionError) Unwrap() error { return e.Err }

type (
	chainKey struct{}
	quietKey struct{}
)

// chain is the automations running for one change, innermost first.
type chain struct {
	automation string
	prev       *chain
}

func (c *chain) names() []string {
	var out []string
	for l := c; l != nil; l = l.prev {
		out = append(out, l.automation)
	}
	slices.Reverse(out)
	return out
}

// quiet marks the update of an automation's `set`: part of the change that set it off, not a change
// that sets off automations again.
func quiet(ctx context.Context) context.Context { return context.WithValue(ctx, quietKey{}, true) }

func isQuiet(ctx context.Context) bool { v, _ := ctx.Value(quietKey{}).(bool); return v }

// triggers returns the automations of entity that run on event ("create", "update", "delete" or
// "transition:<name>").
func (e *Engine) triggers(entity, event string) []*metamodel.Automation {
	var out []*metamodel.Automation
	for _, a := range e.automations[entity] {
		if slices.Contains(a.On, event) {
			out = append(out, a)
		}
	}
	return out
}

// automate sets off the automations of a mutation: it loads the records as they are before an update or
// delete, and returns what runs once the mutation has succeeded.
func (e *Engine) automate(ctx context.Context, entity string, m ent.Mutation) (func(context.Context, ent.Value) error, error) {
	if isQuiet(ctx) || enforce.IsLoading(ctx) {
		return nil, nil
	}
	var event string
	switch {
	case m.Op().Is(ent.OpCreate):
		event = "create"
	case m.Op().Is(ent.OpUpdate | ent.OpUpdateOne):
		event = "update"
	default:
		event = "delete"
	}
	as := e.triggers(entity, event)
	if len(as) == 0 {
		return nil, nil
	}
	me := e.Model.Entity(entity)
	if event == "create" {
		return func(ctx context.Context, v ent.Value) error {
			id, ok := m.(ider).ID()
			if !ok {
				return fmt.Errorf("automations of %s: created record has no id", entity)
			}
			// What the create returned is the record as written, defaults, owner and stored computed
			// fields included: reading it back would cost a query on every create. The app's own
			// after-write hooks may have changed it since, so then it is read.
			var rec map[string]any
			var err error
			if !extension.Has(entity) {
				if rec, err = e.record(enforce.System(ctx), me, v); err != nil {
					return err
				}
			}
			if rec == nil {
				if rec, err = e.load(ctx, entity, id); err != nil {
					return err
				}
			}
			return e.runAll(ctx, as, me, id, rec, nil)
		}, nil
	}
	var ids []int
	if id, ok := m.(ider).ID(); ok {
		ids = []int{id}
	} else {
		var err error
		if ids, err = m.(interface {
			IDs(context.Context) ([]int, error)
		}).IDs(ctx); err != nil {
			return nil, err
		}
	}
	olds := make([]map[string]any, len(ids))
	for i, id := range ids {
		var err error
		if olds[i], err = e.load(ctx, entity, id); err != nil {
			return nil, err
		}
	}
	if event == "delete" {
		// Delete automations run while the record still exists, so that they see it as it was and their
		// notifications reach the users who may read it; a failing delete rolls them back with it.
		for i, id := range ids {
			if olds[i] == nil {
				continue
			}
			if err := e.runAll(ctx, as, me, id, olds[i], nil); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return func(ctx context.Context, _ ent.Value) error {
		for i, id := range ids {
			if olds[i] == nil {
				continue // not visible before: the mutation did not change it
			}
			rec, err := e.load(ctx, entity, id)
			if err != nil {
				return err
			}
			if rec == nil {
				continue
			}
			if err := e.runAll(ctx, as, me, id, rec, olds[i]); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// afterTransition runs the automations on transition name of a record.
func (e *Engine) afterTransition(ctx context.Context, ent *metamodel.Entity, id int, name string, rec, old map[string]any) error {
	return e.runAll(ctx, e.triggers(ent.Name, "transition:"+name), ent, id, rec, old)
}

// runAll runs automations whose `when` holds, in model order.
func (e *Engine) runAll(ctx context.Context, as []*metamodel.Automation, ent *metamodel.Entity, id int, rec, old map[string]any) error {
	for _, a := range as {
		if err := e.runAutomation(ctx, a, ent, id, rec, old); err != nil {
			return err
		}
	}
	return nil
}

// runAutomation runs a when its `when` holds for rec. Only an automation that runs counts toward a cycle:
// one that creates a record of its own entity for which its `when` does not hold (a visit's follow-up
// task) stops there, and is no cycle.
func (e *Engine) runAutomation(ctx context.Context, a *metamodel.Automation, ent *metamodel.Entity, id int, rec, old map[string]any) error {
	now := e.now()
	if a.When.Src != "" {
		v, err := workflow.Eval(e.Model, ent.Name, a.When.Src, rec, workflow.Vars{User: principal(ctx), Now: now, Old: old})
		if err != nil {
			return &ActionError{Source: "automation " + a.Name, Action: "when", Err: err}
		}
		if ok, _ := v.(bool); !ok {
			return nil
		}
	}
	c, _ := ctx.Value(chainKey{}).(*chain)
	next := &chain{automation: a.Name, prev: c}
	for l := c; l != nil; l = l.prev {
		if l.automation == a.Name {
			return &CycleError{Chain: next.names()}
		}
	}
	if names := next.names(); len(names) > MaxChain {
		return &CycleError{Chain: names}
	}
	occasion := fmt.Sprintf("automation:%s:%s:%d:%d", a.Name, ent.Name, id, now.UnixNano())
	return e.do(context.WithValue(ctx, chainKey{}, next), "automation "+a.Name, occasion, ent, id, rec, old, a.Do)
}

// principal is the user ctx acts for, nil for the system.
func principal(ctx context.Context) *auth.Principal {
	if enforce.IsSystem(ctx) {
		return nil
	}
	return auth.FromContext(ctx)
}

// do runs actions about record id of ent, in order; each later action sees the record as earlier `set`s
// left it. Model-defined writes run as the system (see the package comment).
func (e *Engine) do(ctx context.Context, source, occasion string, ent *metamodel.Entity, id int, rec, old map[string]any,
	actions []*metamodel.Action) error {
	vars := workflow.Vars{User: principal(ctx), Now: e.now(), Old: old}
	for i, a := range actions {
		var err error
		action := "notify"
		switch {
		case len(a.Set) > 0:
			action = "set"
			err = e.set(ctx, ent, id, a.Set, rec, vars)
			if err == nil {
				rec, err = e.load(ctx, ent.Name, id)
			}
		case a.Create != nil:
			action = "create " + a.Create.Entity
			err = e.create(ctx, ent, a.Create, rec, vars)
		case a.Notify != nil:
			err = e.notify(ctx, a.Notify, ent, id, rec, fmt.Sprintf("%s:%d", occasion, i))
		case a.Run != "":
			action = "run " + a.Run
			err = enforce.Refusal(e.Model, ent.Name, extension.RunAction(enforce.System(ctx), a.Run,
				&extension.Run{Entity: ent.Name, ID: id, Record: rec}))
			if err == nil {
				rec, err = e.load(ctx, ent.Name, id) // the action may have changed the record
			}
		}
		if err != nil {
			return &ActionError{Source: source, Action: action, Err: err}
		}
	}
	return nil
}

func (e *Engine) set(ctx context.Context, ent *metamodel.Entity, id int, as []*metamodel.Assignment, rec map[string]any, vars workflow.Vars) error {
	values, err := workflow.Assign(e.Model, ent.Name, ent, as, rec, vars)
	if err != nil {
		return err
	}
	vals, err := storable(ent, values)
	if err != nil {
		return err
	}
	return e.Backend.Update(quiet(enforce.System(ctx)), ent.Name, id, vals)
}

func (e *Engine) create(ctx context.Context, ent *metamodel.Entity, c *metamodel.CreateAction, rec map[string]any, vars workflow.Vars) error {
	target := e.Model.Entity(c.Entity)
	if target == nil {
		return fmt.Errorf("unknown entity %q", c.Entity)
	}
	values, err := workflow.Assign(e.Model, ent.Name, target, c.Values, rec, vars)
	if err != nil {
		return err
	}
	vals, err := storable(target, values)
	if err != nil {
		return err
	}
	for k, v := range vals {
		if v == nil {
			delete(vals, k) // unset on a new record
		}
	}
	_, err = e.Backend.Create(enforce.System(ctx), target.Name, vals)
	return err
}
