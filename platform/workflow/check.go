// Package workflow runs the model's workflows at run time: it decides whether a user may run a transition
// on a record (Check, Available), computes the values a transition writes (Apply), records each step in a
// record's history (RecordStep, History) and keeps the durable timers of workflow states (ScheduleOnEntry,
// CancelOnExit, ClaimDue, MarkFired). It writes no records itself: the caller runs a transition and its
// effects in one transaction through the mutation's own driver.
package workflow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/expr"
)

// StateError refuses a transition because the record is not in one of its from states.
type StateError struct {
	Workflow, Transition string
	Current              string   // the record's state ("" when unset)
	From                 []string // the states the transition starts from
}

func (e *StateError) Error() string {
	if e.Current == "" {
		return fmt.Sprintf("transition %q of workflow %q: the record is not in state %s", e.Transition, e.Workflow,
			quoteList(e.From, "or"))
	}
	return fmt.Sprintf("transition %q of workflow %q: the record is in state %q, want %s", e.Transition, e.Workflow,
		e.Current, quoteList(e.From, "or"))
}

// RoleError refuses a transition because the user holds none of its roles.
type RoleError struct {
	Workflow, Transition string
	Roles                []string
}

func (e *RoleError) Error() string {
	return fmt.Sprintf("transition %q of workflow %q: only role %s may run it", e.Transition, e.Workflow,
		quoteList(e.Roles, "or"))
}

// NotFoundError refuses a transition because the user may not read the record, or it does not exist:
// the two answer alike. Its message names nothing of the record, not even the id the user gave: a row
// the user may not read does not exist for them.
type NotFoundError struct {
	Entity string
}

func (e *NotFoundError) Error() string { return e.Entity + " not found" }

// RequiresError refuses a transition because required fields or relations are not set; Missing names all
// of them, in the order the transition lists them.
type RequiresError struct {
	Workflow, Transition string
	Missing              []string
}

func (e *RequiresError) Error() string {
	return fmt.Sprintf("transition %q of workflow %q requires %s", e.Transition, e.Workflow, quoteList(e.Missing, "and"))
}

// GuardError refuses a transition because its guard does not hold. Guard is the guard's source text, for
// developers; Message is the transition's guardMessage, for users. Err is set when the guard could not be
// evaluated (a null related record, say), which also refuses.
type GuardError struct {
	Workflow, Transition string
	Guard                string
	Message              metamodel.Text
	Err                  error
}

func (e *GuardError) Error() string {
	msg := fmt.Sprintf("transition %q of workflow %q: guard %s does not hold", e.Transition, e.Workflow, e.Guard)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *GuardError) Unwrap() error { return e.Err }

// CommentError refuses a transition that requires a comment when none is given.
type CommentError struct {
	Workflow, Transition string
}

func (e *CommentError) Error() string {
	return fmt.Sprintf("transition %q of workflow %q requires a comment", e.Transition, e.Workflow)
}

func quoteList(names []string, conj string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return "(none)"
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// Check reports whether p may run transition t of workflow w on rec (the record as metamodel.CELEnv shapes
// it: fields by name, belongsTo relations as nested maps or nil). canRead says whether p may read the row
// under the row scopes of their roles. The checks run in METAMODEL.md's order — the record is in a from
// state, the user holds one of the roles, requires are set, the guard holds, a required comment is
// given — except that an unreadable row is refused first, as a *NotFoundError, so that no other refusal
// tells the user the row exists or which state it is in. The first failing check is returned as one of
// *NotFoundError, *StateError, *RoleError, *RequiresError, *GuardError or *CommentError.
//
// The role check passes when the user holds one of t.Roles directly or through inheritance, when one of
// their roles is a superuser (superusers hold every role), and when t lists no roles. A nil p is the
// system (timers running a transition): it passes the role check and reads every row.
func Check(m *metamodel.Model, w *metamodel.Workflow, t *metamodel.Transition, rec map[string]any, p *auth.Principal,
	canRead bool, comment string) error {
	return check(m, w, t, rec, p, canRead, comment, true, time.Now())
}

// Available returns the transitions of w that p may run on rec now — every check of Check but the
// comment passes — in the order the model declares them: the buttons a screen shows.
func Available(m *metamodel.Model, w *metamodel.Workflow, rec map[string]any, p *auth.Principal, canRead bool) []*metamodel.Transition {
	if !canRead && p != nil {
		return nil
	}
	now := time.Now()
	var out []*metamodel.Transition
	for _, t := range w.Transitions {
		if check(m, w, t, rec, p, canRead, "", false, now) == nil {
			out = append(out, t)
		}
	}
	return out
}

func check(m *metamodel.Model, w *metamodel.Workflow, t *metamodel.Transition, rec map[string]any, p *auth.Principal,
	canRead bool, comment string, withComment bool, now time.Time) error {
	if p != nil && !canRead {
		return &NotFoundError{Entity: w.Entity}
	}
	cur, _ := rec[w.Field].(string)
	if !slices.Contains(t.From, cur) {
		return &StateError{Workflow: w.Name, Transition: t.Name, Current: cur, From: t.From}
	}
	if !holdsOne(m, p, t.Roles) {
		return &RoleError{Workflow: w.Name, Transition: t.Name, Roles: t.Roles}
	}
	var missing []string
	for _, name := range t.Requires {
		if isEmpty(rec[name]) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return &RequiresError{Workflow: w.Name, Transition: t.Name, Missing: missing}
	}
	if t.Guard.Src != "" {
		out, err := eval(m, w.Entity, t.Guard.Src, rec, p, now)
		if err != nil {
			return &GuardError{Workflow: w.Name, Transition: t.Name, Guard: t.Guard.Src, Message: t.GuardMessage, Err: err}
		}
		if ok, _ := out.Value().(bool); !ok {
			return &GuardError{Workflow: w.Name, Transition: t.Name, Guard: t.Guard.Src, Message: t.GuardMessage}
		}
	}
	if withComment && t.Comment == metamodel.CommentRequired && strings.TrimSpace(comment) == "" {
		return &CommentError{Workflow: w.Name, Transition: t.Name}
	}
	return nil
}

// holdsOne reports whether p holds one of roles, counting inherited roles; superusers hold every role.
func holdsOne(m *metamodel.Model, p *auth.Principal, roles []string) bool {
	if p == nil || len(roles) == 0 {
		return true
	}
	seen := map[string]bool{}
	var walk func(name string) bool
	walk = func(name string) bool {
		if seen[name] {
			return false
		}
		seen[name] = true
		if slices.Contains(roles, name) {
			return true
		}
		r := m.Role(name)
		if r == nil {
			return false
		}
		if r.Superuser {
			return true
		}
		for _, in := range r.Inherits {
			if walk(in) {
				return true
			}
		}
		return false
	}
	for _, name := range p.Roles {
		if walk(name) {
			return true
		}
	}
	return false
}

// isEmpty reports whether a required field or relation counts as not set: null, an empty or blank string,
// an empty list, or a related record without an id.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case []int:
		return len(x) == 0
	case []int64:
		return len(x) == 0
	case map[string]any:
		return x == nil || x["id"] == nil
	}
	return false
}

// userVar is the `user` variable of p; the system (nil) is user 0 named "system" with no roles.
func userVar(p *auth.Principal) map[string]any {
	if p == nil {
		return map[string]any{"id": int64(0), "username": "system", "roles": []string{}, "team": int64(0)}
	}
	roles := p.Roles
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{"id": int64(p.ID), "username": p.Username, "roles": roles, "team": int64(p.Team)}
}

// eval evaluates src about a record of entity with record, user and now bound.
func eval(m *metamodel.Model, entity, src string, rec map[string]any, p *auth.Principal, now time.Time) (ref.Val, error) {
	return evalVars(m, entity, src, rec, Vars{User: p, Now: now})
}

func evalVars(m *metamodel.Model, entity, src string, rec map[string]any, v Vars) (ref.Val, error) {
	prog, err := expr.Program(m, entity, src)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{"record": rec, "user": userVar(v.User), "now": v.Now}
	if v.Old != nil {
		vars["old"] = v.Old
	}
	out, _, err := prog.Eval(vars)
	if err != nil {
		return nil, err
	}
	if types.IsError(out) {
		return nil, fmt.Errorf("%v", out)
	}
	return out, nil
}

// Find returns the transition of w named name, or nil.
func Find(w *metamodel.Workflow, name string) *metamodel.Transition {
	for _, t := range w.Transitions {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// IsRefusal reports whether err is one of Check's refusals (the user's request cannot be granted), as
// opposed to a failure of the system.
func IsRefusal(err error) bool {
	var (
		se *StateError
		re *RoleError
		ne *NotFoundError
		qe *RequiresError
		ge *GuardError
		ce *CommentError
	)
	return errors.As(err, &se) || errors.As(err, &re) || errors.As(err, &ne) || errors.As(err, &qe) ||
		errors.As(err, &ge) || errors.As(err, &ce)
}
