package process

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/workflow"
)

// StateConflictError reports a transition that lost a race: the record left the state the transition
// was checked in before it could be updated. Nothing was written; reload and decide again.
type StateConflictError struct {
	Entity     string
	ID         int
	Transition string
	From       string
}

func (e *StateConflictError) Error() string {
	return fmt.Sprintf("%s %d left state %q while transition %q was running (someone else changed it first): reload and try again",
		e.Entity, e.ID, e.From, e.Transition)
}

// UnknownTransitionError reports a transition name the entity's workflows do not have.
type UnknownTransitionError struct {
	Entity, Name string
	Known        []string
}

func (e *UnknownTransitionError) Error() string {
	return fmt.Sprintf("%s has no transition %q (its transitions: %s)", e.Entity, e.Name, strings.Join(e.Known, ", "))
}

// find returns the workflow and transition of entity named name.
func (e *Engine) find(entity, name string) (*metamodel.Workflow, *metamodel.Transition, error) {
	var known []string
	for _, w := range e.workflows[entity] {
		if t := workflow.Find(w, name); t != nil {
			return w, t, nil
		}
		for _, t := range w.Transitions {
			known = append(known, t.Name)
		}
	}
	return nil, nil, &UnknownTransitionError{Entity: entity, Name: name, Known: known}
}

// Transition runs transition name on record id of entity as the principal of ctx (the system when ctx
// acts as the system), in the transaction of ctx: the checks in METAMODEL.md's order, then the update of
// the state and the transition's `set`, its actions, the history step, the timers of the states left and
// entered, and the automations on the transition. The first refusal is returned as one of
// platform/workflow's refusal errors; nothing is written then.
func (e *Engine) Transition(ctx context.Context, entity string, id int, name, comment string) error {
	w, t, err := e.find(entity, name)
	if err != nil {
		return err
	}
	p := principal(ctx)
	canRead := true
	if p != nil {
		if canRead, err = e.Backend.Exists(ctx, entity, id); err != nil {
			return err
		}
	}
	rec, err := e.load(ctx, entity, id)
	if err != nil {
		return err
	}
	if rec == nil {
		// The same refusal as for a record the user may not read: the answer must not tell which it is.
		return &workflow.NotFoundError{Entity: entity}
	}
	if err := workflow.Check(e.Model, w, t, rec, p, canRead, comment); err != nil {
		var se *workflow.StateError
		if errors.As(err, &se) && p != nil {
			if ok, verr := e.stateVisible(ctx, w, id); verr != nil {
				return verr
			} else if !ok {
				se.Current = "" // the refusal must not show a state the user may not see
			}
		}
		return err
	}
	return e.run(ctx, w, t, id, rec, p, comment)
}

// run carries out a checked transition.
func (e *Engine) run(ctx context.Context, w *metamodel.Workflow, t *metamodel.Transition, id int, rec map[string]any,
	p *auth.Principal, comment string) error {
	now := e.now()
	values, err := workflow.ApplyAs(e.Model, w, t, rec, p, now)
	if err != nil {
		return err
	}
	from, _ := rec[w.Field].(string)
	vals, err := storable(w.EntityRef, values)
	if err != nil {
		return fmt.Errorf("transition %s: %w", t.Name, err)
	}
	upd := withTransition(enforce.System(ctx), &running{w: w, id: id, from: from})
	if err := e.Backend.Update(upd, w.Entity, id, vals); err != nil {
		if enforce.IsNotFound(err) {
			return &StateConflictError{Entity: w.Entity, ID: id, Transition: t.Name, From: from}
		}
		return err
	}
	if err := e.enter(ctx, w, id, from, t.To, t.Name, comment); err != nil {
		return err
	}
	after, err := e.load(ctx, w.Entity, id)
	if err != nil {
		return err
	}
	occasion := fmt.Sprintf("transition:%s:%d:%s:%d", w.Entity, id, t.Name, now.UnixNano())
	src := "transition " + t.Name
	if err := e.do(ctx, src, occasion, w.EntityRef, id, after, rec, t.Do); err != nil {
		return err
	}
	return e.afterTransition(ctx, w.EntityRef, id, t.Name, after, rec)
}

// TransitionView is a transition as screens show it: a button.
type TransitionView struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	From     []string `json:"from"`
	To       string   `json:"to"`
	ToLabel  string   `json:"toLabel"`
	Comment  *string  `json:"comment"` // "required", "optional" or nil
	Requires []string `json:"requires"`
}

// Available returns the transitions the principal of ctx may run on record id now, labelled in locale.
// A record the principal may not read has none.
func (e *Engine) Available(ctx context.Context, entity string, id int, locale string) ([]*TransitionView, error) {
	ws := e.workflows[entity]
	if len(ws) == 0 {
		return nil, nil
	}
	p := auth.FromContext(ctx)
	canRead, err := e.readable(ctx, entity, id)
	if err != nil || !canRead {
		return []*TransitionView{}, err
	}
	rec, err := e.load(ctx, entity, id)
	if err != nil || rec == nil {
		return []*TransitionView{}, err
	}
	out := []*TransitionView{}
	for _, w := range ws {
		if ok, err := e.stateVisible(ctx, w, id); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		for _, t := range workflow.Available(e.Model, w, rec, p, canRead) {
			out = append(out, e.view(w, t, locale))
		}
	}
	return out, nil
}

func (e *Engine) view(w *metamodel.Workflow, t *metamodel.Transition, locale string) *TransitionView {
	v := &TransitionView{Name: t.Name, Label: e.Model.Localize(t.Label, locale, t.Name), From: t.From, To: t.To,
		ToLabel: t.To, Requires: t.Requires}
	if v.Requires == nil {
		v.Requires = []string{}
	}
	for _, s := range w.States {
		if s.Name == t.To {
			v.ToLabel = e.Model.Localize(s.Label, locale, s.Name)
		}
	}
	if t.Comment != "" {
		c := t.Comment
		v.Comment = &c
	}
	return v
}

// StepView is one step of a record's workflow history.
type StepView struct {
	Workflow   string    `json:"workflow"`
	From       *string   `json:"from"`
	To         string    `json:"to"`
	Transition string    `json:"transition"`
	User       *string   `json:"user"`
	At         time.Time `json:"at"`
	Comment    *string   `json:"comment"`
}

// History returns the workflow steps of record id, oldest first, or nothing when the principal of ctx
// may not read the record.
func (e *Engine) History(ctx context.Context, entity string, id int) ([]*StepView, error) {
	out := []*StepView{}
	if len(e.workflows[entity]) == 0 {
		return out, nil
	}
	if ok, err := e.readable(ctx, entity, id); err != nil || !ok {
		return out, err
	}
	steps, err := workflow.History(ctx, e.Backend.Conn(ctx), e.Dialect, entity, id)
	if err != nil {
		return nil, err
	}
	visible := map[string]bool{}
	for _, w := range e.workflows[entity] {
		if visible[w.Name], err = e.stateVisible(ctx, w, id); err != nil {
			return nil, err
		}
	}
	for _, s := range steps {
		if !visible[s.Workflow] {
			continue
		}
		v := &StepView{Workflow: s.Workflow, To: s.To, Transition: s.Transition, At: s.At}
		if s.From != "" {
			from := s.From
			v.From = &from
		}
		if s.Username != "" {
			u := s.Username
			v.User = &u
		}
		if s.Comment != "" {
			c := s.Comment
			v.Comment = &c
		}
		out = append(out, v)
	}
	return out, nil
}

// readable reports whether the principal of ctx may read record id, through the request's cache of such
// answers when there is one.
func (e *Engine) readable(ctx context.Context, entity string, id int) (bool, error) {
	if e.rt != nil {
		return e.rt.Readable(ctx, entity, id)
	}
	return e.Backend.Exists(ctx, entity, id)
}

// stateVisible reports whether the principal of ctx may see w's state field on record id: a field hidden
// from them keeps its workflow's buttons and history hidden too.
func (e *Engine) stateVisible(ctx context.Context, w *metamodel.Workflow, id int) (bool, error) {
	if e.rt == nil || principal(ctx) == nil {
		return true, nil
	}
	if e.rt.Hidden(ctx, w.Entity, w.Field) {
		return false, nil
	}
	if e.rt.PerRow(ctx, w.Entity, w.Field) {
		return e.rt.VisibleOn(ctx, w.Entity, w.Field, id)
	}
	return true, nil
}
