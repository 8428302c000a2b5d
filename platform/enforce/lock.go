package enforce

import (
	"context"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
)

// Locked states (METAMODEL.md, workflows): a state with `lock: true`, the default of a `final: true`
// state, makes its records read-only. No update or delete passes, from any path, except by a superuser
// or by the system, which runs the transitions that leave the state.

// LockedError refuses a change of a record in a locked state. State is the state's name.
type LockedError struct {
	Entity, Workflow, State string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is in state %q of workflow %q, which locks it: it cannot be changed or deleted until a transition leaves that state",
		e.Entity, e.State, e.Workflow)
}

// lockedStates are the locked states of e's workflows, with their state fields.
func lockedStates(m *metamodel.Model, e *metamodel.Entity) []*LockedError {
	var out []*LockedError
	for _, w := range m.Workflows {
		if w.Entity != e.Name {
			continue
		}
		for _, s := range w.States {
			if s.Locked() {
				out = append(out, &LockedError{Entity: e.Name, Workflow: w.Name, State: s.Name})
			}
		}
	}
	return out
}

// checkLock refuses an update or delete of one record in a locked state, and keeps a statement over many
// records off the locked ones. It runs after authorize, so a record the user may not read stays "not
// found" rather than telling its state.
func (rt *Runtime) checkLock(ctx context.Context, info *entityInfo, m ent.Mutation) error {
	if !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne) || IsSystem(ctx) || isAuthorized(ctx) ||
		restoring(ctx) || rt.AccessOf(ctx, info.e.Name).All {
		return nil
	}
	locks := lockedStates(rt.Model, info.e)
	if len(locks) == 0 {
		return nil
	}
	if !m.Op().Is(ent.OpUpdateOne | ent.OpDeleteOne) {
		for _, l := range locks {
			m.(predicater).WhereP(sql.FieldNEQ(stateColumn(rt.Model, l), l.State))
		}
		return nil
	}
	ids, err := m.(idser).IDs(ctx)
	if err != nil || len(ids) != 1 {
		return err // authorize has answered "not found" already
	}
	for _, l := range locks {
		if ok, err := rt.Backend.Exists(ctx, info.e.Name, ids[0], sql.FieldEQ(stateColumn(rt.Model, l), l.State)); err != nil {
			return err
		} else if ok {
			return l
		}
	}
	return nil
}

// stateColumn is the SQL column of the state field of l's workflow.
func stateColumn(m *metamodel.Model, l *LockedError) string {
	w := m.Workflow(l.Workflow)
	return w.EntityRef.Field(w.Field).Column()
}
