// Package expr evaluates the model's CEL expressions at run time: computed fields now, and the guards,
// conditions and assignments of workflows and automations. Programs are compiled once per expression and
// evaluated against records converted to the shape metamodel.CELEnv declares.
package expr

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
)

// progKey names a compiled expression: the same text means different things in different models (a test
// process runs several), so the model is part of the key.
type progKey struct {
	m           *metamodel.Model
	entity, src string
}

var programs sync.Map // progKey → cel.Program

// Program returns the compiled program of src about records of entity.
func Program(m *metamodel.Model, entity string, src string) (cel.Program, error) {
	key := progKey{m, entity, src}
	if p, ok := programs.Load(key); ok {
		return p.(cel.Program), nil
	}
	e := m.Entity(entity)
	if e == nil {
		return nil, fmt.Errorf("expr: unknown entity %q", entity)
	}
	ast, err := m.CompileExpr(e, metamodel.Expr{Src: src}, nil)
	if err != nil {
		return nil, err
	}
	env, err := m.CELEnv(e)
	if err != nil {
		return nil, err
	}
	p, err := env.Program(ast)
	if err != nil {
		return nil, err
	}
	programs.Store(key, p)
	return p, nil
}

// Eval evaluates src with record (and optionally old) given as Record maps.
func Eval(m *metamodel.Model, entity, src string, record, old map[string]any) (any, error) {
	p, err := Program(m, entity, src)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{"record": record, "now": time.Now(), "user": map[string]any{}}
	if old != nil {
		vars["old"] = old
	}
	out, _, err := p.Eval(vars)
	if err != nil {
		return nil, err
	}
	return out.Value(), nil
}

// Computed evaluates the computed field entity.field of obj, an ent entity struct.
func Computed(ctx context.Context, entity, field string, obj any) (any, error) {
	rt := enforce.FromContext(ctx)
	if rt == nil {
		return nil, fmt.Errorf("expr: no enforcement runtime in the context")
	}
	e := rt.Model.Entity(entity)
	if e == nil || e.Field(field) == nil {
		return nil, fmt.Errorf("expr: unknown field %s.%s", entity, field)
	}
	f := e.Field(field)
	v, err := Eval(rt.Model, entity, f.Computed.Src, Record(e, obj), nil)
	if err != nil {
		// A computed value that cannot be evaluated (a missing input, say) is null, not a failed query.
		return nil, nil
	}
	return Coerce(f, v), nil
}

// Coerce fits an expression's value to a field: a decimal is rounded to its scale (so 3 × 19.99 × 0.85
// is 50.97, not 50.9745), an int field takes a whole number.
func Coerce(f *metamodel.Field, v any) any {
	switch f.Type {
	case metamodel.TypeDecimal:
		if x, ok := toFloat(v); ok {
			p := math.Pow10(f.Scale)
			return math.Round(x*p) / p
		}
	case metamodel.TypeFloat:
		if x, ok := toFloat(v); ok {
			return x
		}
	case metamodel.TypeInt:
		if x, ok := toFloat(v); ok {
			return int64(math.Round(x))
		}
	}
	return v
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

type structIndex map[string][]int // ent JSON name → field index path

var indexes sync.Map // reflect.Type → structIndex

func indexOf(t reflect.Type) structIndex {
	if ix, ok := indexes.Load(t); ok {
		return ix.(structIndex)
	}
	ix := structIndex{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			ix[name] = f.Index
		}
	}
	indexes.Store(t, ix)
	return ix
}

// Record converts an ent entity struct (pointer) into the map CEL expressions see: fields by model name,
// belongsTo relations as {"id": …} (or the loaded related record's fields when the edge was loaded).
func Record(e *metamodel.Entity, obj any) map[string]any {
	rv := reflect.ValueOf(obj)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	ix := indexOf(rv.Type())
	out := map[string]any{}
	if p, ok := ix["id"]; ok {
		out["id"] = plain(rv.FieldByIndex(p))
	}
	for _, f := range e.Fields {
		if p, ok := ix[f.EntName()]; ok {
			out[f.Name] = plain(rv.FieldByIndex(p))
		}
	}
	for _, r := range e.Relations {
		if r.Kind != metamodel.BelongsTo {
			continue
		}
		if p, ok := ix[r.FKColumn()]; ok {
			if id := plain(rv.FieldByIndex(p)); id != nil {
				out[r.Name] = map[string]any{"id": id}
			} else {
				out[r.Name] = nil
			}
		}
	}
	return out
}

// Value converts a value as ent holds it (a mutation's field value) into what expressions see, as Record
// converts a loaded record's fields.
func Value(v any) any {
	if v == nil {
		return nil
	}
	return plain(reflect.ValueOf(v))
}

// plain turns a struct field into a CEL-friendly value: pointers dereferenced (nil stays nil), named string
// types (ent enums) as string, ints as int64, JSON decoded.
func plain(v reflect.Value) any {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Bool:
		return v.Bool()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x
	case json.RawMessage:
		if len(x) == 0 {
			return nil
		}
		var out any
		if json.Unmarshal(x, &out) != nil {
			return nil
		}
		return out
	}
	return v.Interface()
}
