package enforce

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/audit"
	"github.com/crmgen/crmgen/platform/extension"
)

// Interfaces every generated mutation and query implements beyond ent.Mutation / ent.Query.
type (
	opSetter   interface{ SetOp(ent.Op) }
	predicater interface {
		WhereP(...func(*sql.Selector))
	}
	oldFielder interface {
		OldField(ctx context.Context, name string) (ent.Value, error)
	}
)

// Hook returns the mutation hook of entity. Generated schemas install exactly one, so the generated
// runtime's hook slots do not depend on the model.
func Hook(entity string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			rt := FromContext(ctx)
			if rt == nil {
				return nil, errNoRuntime
			}
			info, err := rt.entity(entity)
			if err != nil {
				return nil, err
			}
			ctx, slot := withRefusalSlot(ctx)
			v, err := rt.mutate(ctx, info, m, next)
			if refusal := slot.refused(); refusal != nil {
				return nil, refusal // a predicate of the mutation was refused (see Filter)
			}
			if err == nil && rt.Changed != nil {
				id, _ := m.(interface{ ID() (int, bool) }).ID()
				if !m.Op().Is(ent.OpUpdateOne | ent.OpDeleteOne | ent.OpCreate) {
					id = 0
				}
				rt.Changed(entity, id)
			}
			return v, err
		})
	}
}

func (rt *Runtime) mutate(ctx context.Context, info *entityInfo, m ent.Mutation, next ent.Mutator) (ent.Value, error) {
	if !isAuthorized(ctx) {
		if err := rt.authorize(ctx, info, rt.AccessOf(ctx, info.e.Name), m); err != nil {
			return nil, err
		}
	}
	if err := rt.checkLock(ctx, info, m); err != nil {
		return nil, err
	}
	if rt.Effects == nil || effectsOff(ctx) {
		return rt.apply(ctx, info, m, next)
	}
	after, err := rt.Effects.Mutation(ctx, info.e.Name, m)
	if err != nil {
		return nil, err
	}
	v, err := rt.apply(ctx, info, m, next)
	if err != nil || after == nil {
		return v, err
	}
	return v, after(ctx, v)
}

// apply runs an authorized mutation with the platform's rules: owner stamping, defaults, the app's own
// hooks (platform/extension), validation, stored computed fields, soft delete, optimistic locking and the
// audit trail.
func (rt *Runtime) apply(ctx context.Context, info *entityInfo, m ent.Mutation, next ent.Mutator) (ent.Value, error) {
	e := info.e
	record := !auditOff(ctx)
	switch {
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
		if err := rt.beforeHooks(ctx, info, m, extension.Delete); err != nil {
			return nil, err
		}
		if err := rt.checkRestrict(ctx, info, m); err != nil {
			return nil, err
		}
		soft := e.Has(metamodel.TraitSoftDelete) && !hardDeletes(ctx)
		var pending *pendingAudit
		if record {
			var err error
			if pending, err = rt.beforeAudit(ctx, info, m, audit.OpDelete); err != nil {
				return nil, err
			}
			if !soft {
				if err := rt.lastValues(ctx, info, pending); err != nil {
					return nil, err
				}
			}
		}
		var (
			v   ent.Value
			err error
		)
		if soft {
			v, err = rt.softDelete(ctx, m)
		} else if err = rt.nullReferences(ctx, info, m); err == nil {
			if v, err = next.Mutate(ctx, m); err != nil {
				err = translate(err, info, true)
			}
		}
		if err != nil {
			return nil, err
		}
		if err := rt.writeAudit(ctx, info, m, pending); err != nil {
			return nil, err
		}
		return v, rt.afterHooks(ctx, info, m, extension.Delete)
	case m.Op().Is(ent.OpCreate):
		handover, err := rt.stampOwner(ctx, info, m)
		if err != nil {
			return nil, err
		}
		bySystem, err := rt.applyDefaults(ctx, info, m)
		if err != nil {
			return nil, err
		}
		if err := rt.beforeHooks(ctx, info, m, extension.Create); err != nil {
			return nil, err
		}
		if err := rt.validate(ctx, info, m, true, bySystem); err != nil {
			return nil, err
		}
		if err := rt.compute(ctx, info, m); err != nil {
			return nil, err
		}
		if err := rt.checkHandover(ctx, info, m, handover); err != nil {
			return nil, err
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, translate(err, info, false)
		}
		if record {
			if err := rt.writeAudit(ctx, info, m, afterCreateAudit(ctx, info, m)); err != nil {
				return nil, err
			}
		}
		return v, rt.afterHooks(ctx, info, m, extension.Create)
	}
	// update, update one
	if err := rt.beforeHooks(ctx, info, m, extension.Update); err != nil {
		return nil, err
	}
	if err := rt.validate(ctx, info, m, false, nil); err != nil {
		return nil, err
	}
	if err := rt.compute(ctx, info, m); err != nil {
		return nil, err
	}
	if e.Has(metamodel.TraitSoftDelete) && !includesDeleted(ctx) {
		m.(predicater).WhereP(sql.FieldIsNull("deleted_at"))
	}
	var pending *pendingAudit
	if record {
		op := audit.OpUpdate
		switch {
		case restoring(ctx):
			op = audit.OpRestore
		case IsLoading(ctx):
			op = audit.OpSeed // data loading sets a reference to a record it loaded later
		}
		var err error
		if pending, err = rt.beforeAudit(ctx, info, m, op); err != nil {
			return nil, err
		}
		if pending != nil && op != audit.OpRestore && len(pending.changes) == 0 {
			pending = nil // nothing changed that the history shows
		}
	}
	var (
		v   ent.Value
		err error
	)
	if e.Has(metamodel.TraitVersioned) {
		v, err = rt.versionedUpdate(ctx, info, m, next)
	} else if v, err = next.Mutate(ctx, m); err != nil {
		err = translate(err, info, false)
	}
	if err != nil {
		return nil, err
	}
	if err := rt.writeAudit(ctx, info, m, pending); err != nil {
		return nil, err
	}
	return v, rt.afterHooks(ctx, info, m, extension.Update)
}

// versionedUpdate implements optimistic locking: the update applies only to the version the client read
// (the mutation's version value, when given) and increments it; a concurrent change makes it fail with a
// ConflictError instead of being lost.
func (rt *Runtime) versionedUpdate(ctx context.Context, info *entityInfo, m ent.Mutation, next ent.Mutator) (ent.Value, error) {
	if !m.Op().Is(ent.OpUpdateOne) {
		if err := m.AddField("version", 1); err != nil {
			return nil, err
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, translate(err, info, false)
		}
		return v, nil
	}
	oldV, err := m.(oldFielder).OldField(ctx, "version")
	if err != nil {
		return nil, err
	}
	old, _ := oldV.(int)
	expected := old
	if v, ok := m.Field("version"); ok {
		expected, _ = v.(int)
	}
	id, _ := m.(interface{ ID() (int, bool) }).ID()
	if expected != old {
		return nil, &ConflictError{Entity: info.e.Name, ID: id, Expected: expected, Found: old}
	}
	if err := m.SetField("version", expected+1); err != nil {
		return nil, err
	}
	m.(predicater).WhereP(sql.FieldEQ("version", expected))
	v, err := next.Mutate(ctx, m)
	if err != nil {
		if IsNotFound(err) {
			return nil, &ConflictError{Entity: info.e.Name, ID: id, Expected: expected, Found: expected + 1}
		}
		return nil, translate(err, info, false)
	}
	return v, nil
}
