package enforce

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
)

// Stored computed fields (`computed: …, stored: true`) are recomputed on every write of their record, in
// the write path every path goes through: the record's values after the change go through the field's
// expression, and the result is written with the change.

// Computer computes stored computed fields. The expressions run in CEL over records shaped as every
// expression of the model sees them, which platform/process owns (it builds on this package), so the
// installed Effects provide it: an Effects that also implements Computer gets these fields computed.
type Computer interface {
	// Compute returns the value of each stored computed field of entity (by field name; nil for null) for
	// the record as m leaves it: on create the mutation's values, on update the record's values with m's
	// changes applied.
	Compute(ctx context.Context, entity string, m ent.Mutation) (map[string]any, error)
}

// hasStored reports whether e has stored computed fields.
func hasStored(e *metamodel.Entity) bool {
	for _, f := range e.Fields {
		if f.Stored && !f.Computed.IsZero() {
			return true
		}
	}
	return false
}

// compute writes the stored computed fields of the record m creates or updates into m. Updates of many
// rows at once, which the platform issues only to mark soft deletes, are left as they are: one statement
// cannot write a value per row.
func (rt *Runtime) compute(ctx context.Context, info *entityInfo, m ent.Mutation) error {
	if !m.Op().Is(ent.OpCreate|ent.OpUpdateOne) || !hasStored(info.e) {
		return nil
	}
	c, ok := rt.Effects.(Computer)
	if !ok {
		return nil
	}
	values, err := c.Compute(ctx, info.e.Name, m)
	if err != nil {
		return err
	}
	for _, f := range info.e.Fields {
		v, ok := values[f.Name]
		if !ok {
			continue
		}
		if v == nil {
			if !m.Op().Is(ent.OpCreate) {
				if err := m.ClearField(f.EntName()); err != nil {
					return fmt.Errorf("%s.%s: %w", info.e.Name, f.Name, err)
				}
			}
			continue
		}
		if err := m.SetField(f.EntName(), entValue(m, f, v)); err != nil {
			return fmt.Errorf("%s.%s: %w", info.e.Name, f.Name, err)
		}
	}
	return nil
}

// entValue turns an expression's value (as platform/expr coerces it to the field) into the Go type of the
// field's ent setter.
func entValue(m ent.Mutation, f *metamodel.Field, v any) any {
	switch f.Type {
	case metamodel.TypeInt:
		if n, ok := v.(int64); ok {
			return int(n)
		}
	case metamodel.TypeJSON:
		if b, err := json.Marshal(v); err == nil {
			return json.RawMessage(b)
		}
	case metamodel.TypeEnum:
		// An ent enum is a named string type of the generated package, which only generated code can name;
		// the mutation's own field of that type tells it.
		if s, ok := v.(string); ok {
			t := reflect.TypeOf(m)
			if t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if sf, ok := t.FieldByName(f.EntName()); ok && sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.String {
				return reflect.ValueOf(s).Convert(sf.Type.Elem()).Interface()
			}
		}
	}
	return v
}
