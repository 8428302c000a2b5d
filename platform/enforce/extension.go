package enforce

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/extension"
)

// The app's own hooks (platform/extension) run here, inside the enforcement point: after the write has
// been authorized and its defaults filled, before validation (so what a hook sets is validated like the
// caller's input), and after the write in the same transaction.

// beforeHooks runs entity's BeforeWrite hooks, if it has any.
func (rt *Runtime) beforeHooks(ctx context.Context, info *entityInfo, m ent.Mutation, op extension.Op) error {
	if !extension.Has(info.e.Name) {
		return nil
	}
	return rt.hookError(info, extension.RunBefore(ctx, info.e.Name, op, &hookRecord{rt: rt, info: info, m: m}))
}

// afterHooks runs entity's AfterWrite hooks, if it has any.
func (rt *Runtime) afterHooks(ctx context.Context, info *entityInfo, m ent.Mutation, op extension.Op) error {
	if !extension.Has(info.e.Name) {
		return nil
	}
	return rt.hookError(info, extension.RunAfter(ctx, info.e.Name, op, &hookRecord{rt: rt, info: info, m: m, done: true}))
}

func (rt *Runtime) hookError(info *entityInfo, err error) error {
	return Refusal(rt.Model, info.e.Name, err)
}

// Refusal turns a refusal of the app's own code (extension.Refuse) about a record of entity into the
// ValidationError every path already presents to users (the API's extensions, the admin form's field
// errors), with the code's message in each locale. Other errors are returned as they are.
func Refusal(m *metamodel.Model, entity string, err error) error {
	var fe *extension.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	return &ValidationError{Fields: []*FieldError{{Entity: entity, Field: fe.Field, Rule: fe.Rule,
		Msg: m.Localize(fe.Message, "en", fe.Rule), Messages: fe.Message}}}
}

// hookRecord is extension.Record over an ent mutation: model names in, plain values out.
type hookRecord struct {
	rt   *Runtime
	info *entityInfo
	m    ent.Mutation
	done bool // the write has been made: nothing may be set any more
}

// entName is the ent field behind a model field or belongsTo relation (its foreign key).
func (r *hookRecord) entName(field string) (string, *metamodel.Field, error) {
	if f := r.info.e.Field(field); f != nil {
		return f.EntName(), f, nil
	}
	if rel := r.info.e.Relation(field); rel != nil && rel.Kind == metamodel.BelongsTo {
		return rel.FKColumn(), nil, nil
	}
	return "", nil, fmt.Errorf("extend: %s has no field or belongsTo relation %q", r.info.e.Name, field)
}

func (r *hookRecord) Value(ctx context.Context, field string) (any, bool, error) {
	name, _, err := r.entName(field)
	if err != nil {
		return nil, false, err
	}
	if v, ok := r.m.Field(name); ok {
		return hookValue(v)
	}
	if !r.m.Op().Is(ent.OpUpdateOne|ent.OpDeleteOne) || r.done {
		return nil, false, nil
	}
	v, err := r.m.(oldFielder).OldField(ctx, name)
	if err != nil {
		return nil, false, err
	}
	return hookValue(v)
}

// hookValue dereferences ent's pointers (nillable fields) and turns named strings (enums) into strings.
func hookValue(v ent.Value) (any, bool, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil, false, nil
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, false, nil
		}
		v = rv.Elem().Interface()
	}
	return plain(v), true, nil
}

func (r *hookRecord) Sets(field string) bool {
	name, _, err := r.entName(field)
	if err != nil {
		return false
	}
	_, ok := r.m.Field(name)
	return ok
}

func (r *hookRecord) Set(field string, v any) error {
	if r.done {
		return fmt.Errorf("extend: %s.%s: set in an AfterWrite hook (the write has been made; set it in BeforeWrite)", r.info.e.Name, field)
	}
	name, f, err := r.entName(field)
	if err != nil {
		return err
	}
	if v == nil {
		return r.m.ClearField(name)
	}
	if f != nil {
		switch f.Type {
		case metamodel.TypeDate, metamodel.TypeDateTime:
			if s, ok := v.(string); ok {
				t, err := ParseTime(s, r.rt.Model.App.Location())
				if err != nil {
					return fmt.Errorf("extend: %s.%s: %w", r.info.e.Name, field, err)
				}
				v = t
			}
		case metamodel.TypeInt:
			if rv := reflect.ValueOf(v); rv.CanInt() {
				v = int(rv.Int())
			}
		}
		v = entValue(r.m, f, v)
	} else if rv := reflect.ValueOf(v); rv.CanInt() {
		v = int(rv.Int())
	}
	if err := r.m.SetField(name, v); err != nil {
		return fmt.Errorf("extend: %s.%s: %w", r.info.e.Name, field, err)
	}
	return nil
}

func (r *hookRecord) ID() (int, bool) {
	if m, ok := r.m.(interface{ ID() (int, bool) }); ok {
		return m.ID()
	}
	return 0, false
}
