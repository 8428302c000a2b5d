package workflow

import (
	"fmt"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/expr"
)

// Apply returns the values transition t writes on rec: the workflow's state field set to t.To and each of
// t's `set` assignments, evaluated against rec as it is before the transition, with `now` the current time
// and `user` the system. Use ApplyAs to evaluate as the user running the transition. Apply writes nothing.
func Apply(m *metamodel.Model, w *metamodel.Workflow, t *metamodel.Transition, rec map[string]any) (map[string]any, error) {
	return ApplyAs(m, w, t, rec, nil, time.Now())
}

// ApplyAs is Apply with the user running the transition (nil is the system) and the time it runs at.
// A decimal value is rounded to the field's scale and an int field takes a whole number (expr.Coerce); a
// timestamp is a time.Time; a relation takes the id of a related record or an id; null is nil.
func ApplyAs(m *metamodel.Model, w *metamodel.Workflow, t *metamodel.Transition, rec map[string]any,
	p *auth.Principal, now time.Time) (map[string]any, error) {
	e := m.Entity(w.Entity)
	if e == nil {
		return nil, fmt.Errorf("workflow %q: unknown entity %q", w.Name, w.Entity)
	}
	out, err := Assign(m, w.Entity, e, t.Set, rec, Vars{User: p, Now: now})
	if err != nil {
		return nil, fmt.Errorf("transition %q of workflow %q: %w", t.Name, w.Name, err)
	}
	out[w.Field] = t.To
	return out, nil
}

// Vars are an expression's variables besides record: the user running it (nil is the system), the time
// it runs at, and the record before an update (nil elsewhere).
type Vars struct {
	User *auth.Principal
	Now  time.Time
	Old  map[string]any
}

// Eval evaluates src about rec, a record of entity, and returns its value as a plain Go value (null is
// nil, a timestamp a time.Time).
func Eval(m *metamodel.Model, entity, src string, rec map[string]any, v Vars) (any, error) {
	out, err := evalVars(m, entity, src, rec, v)
	if err != nil {
		return nil, err
	}
	return native(out), nil
}

// Assign evaluates assignments about rec, a record of entity, into values for a record of target (the
// same entity for `set`, another one for an action's `create`): a field takes the value fitted to its
// type (expr.Coerce), a relation the id of the related record or the id given. Values are keyed by field
// or relation name.
func Assign(m *metamodel.Model, entity string, target *metamodel.Entity, as []*metamodel.Assignment,
	rec map[string]any, v Vars) (map[string]any, error) {
	out := map[string]any{}
	for _, a := range as {
		val, err := Eval(m, entity, a.Value.Src, rec, v)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", a.Name, err)
		}
		switch {
		case target.Field(a.Name) != nil:
			out[a.Name] = expr.Coerce(target.Field(a.Name), val)
		case target.Relation(a.Name) != nil:
			id, err := relationID(val)
			if err != nil {
				return nil, fmt.Errorf("set %s: %w", a.Name, err)
			}
			out[a.Name] = id
		default:
			return nil, fmt.Errorf("%s has no field or relation %q", target.Name, a.Name)
		}
	}
	return out, nil
}

// native unwraps a CEL value; null is nil.
func native(v ref.Val) any {
	if v == nil || v == types.NullValue || v.Type() == types.NullType {
		return nil
	}
	return v.Value()
}

// relationID returns the id a relation is set to from a related record or an id.
func relationID(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return relationID(x["id"])
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case float64:
		return int64(x), nil
	}
	if g, ok := v.(interface{ Get(ref.Val) ref.Val }); ok {
		return relationID(native(g.Get(types.String("id"))))
	}
	return nil, fmt.Errorf("want a related record or an id, got %T", v)
}
