package process

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/expr"
)

// load returns record id of entity as CEL expressions see it (metamodel.CELEnv): fields by name, each
// belongsTo relation an expression reads as the related record one level deep (nil when unset or not
// visible; the others as their id only). It reads as
// the system: callers decide what the user may see. A record that does not exist is nil, nil.
func (e *Engine) load(ctx context.Context, entity string, id int) (map[string]any, error) {
	sys := enforce.System(ctx)
	obj, err := e.get(sys, entity, id)
	if err != nil {
		if enforce.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return e.record(sys, e.Model.Entity(entity), obj)
}

// record returns obj, a record of ent as ent holds it, as CEL expressions see it (see load), reading the
// related records expressions need in ctx. It is nil when obj is not a record.
func (e *Engine) record(ctx context.Context, ent *metamodel.Entity, obj any) (map[string]any, error) {
	rec := expr.Record(ent, obj)
	if rec == nil {
		return nil, nil
	}
	for _, r := range ent.Relations {
		if r.Kind != metamodel.BelongsTo || !e.relations[ent.Name][r.Name] {
			continue // no expression reads the related record: its id will do
		}
		ref, _ := rec[r.Name].(map[string]any)
		if ref == nil {
			continue
		}
		rid, ok := ref["id"].(int64)
		if !ok {
			continue
		}
		var err error
		if rec[r.Name], err = e.related(ctx, r, rid); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// related returns the record id of r's target as the record's relation r shows it to expressions: its id
// and fields, without relations of its own; nil (an untyped nil, which CEL sees as null) when it does
// not exist.
func (e *Engine) related(ctx context.Context, r *metamodel.Relation, id int64) (any, error) {
	obj, err := e.get(ctx, r.Target.Name, int(id))
	if err != nil {
		if enforce.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	rec := expr.Record(r.Target, obj)
	for _, rr := range r.Target.Relations {
		delete(rec, rr.Name) // one level deep; the CEL type has no relations below
	}
	rec["id"] = id
	return rec, nil
}

type loadCacheKey struct{}

// loadCache remembers the records a read-only operation has loaded: a list showing each row's
// transitions loads the same related records (a physician, a customer) for many rows.
type loadCache struct {
	mu   sync.Mutex
	objs map[string]any
}

// WithLoadCache makes the records loaded in ctx shared for its lifetime. Use it only around work that
// writes nothing (a GraphQL query): a write would leave the cache stale.
func WithLoadCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, loadCacheKey{}, &loadCache{objs: map[string]any{}})
}

// get returns a record through the operation's load cache, if any.
func (e *Engine) get(ctx context.Context, entity string, id int) (any, error) {
	c, _ := ctx.Value(loadCacheKey{}).(*loadCache)
	if c == nil {
		return e.Backend.Get(ctx, entity, id)
	}
	key := entity + ":" + strconv.Itoa(id)
	c.mu.Lock()
	obj, ok := c.objs[key]
	c.mu.Unlock()
	if ok {
		return obj, nil
	}
	obj, err := e.Backend.Get(ctx, entity, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.objs[key] = obj
	c.mu.Unlock()
	return obj, nil
}

// storable turns values evaluated by expressions (keyed by field or relation name) into what
// Backend.Create and Update take: ints as int, decimals and floats as float64, relations by foreign-key
// name, JSON as raw JSON.
func storable(ent *metamodel.Entity, values map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(values))
	for name, v := range values {
		if r := ent.Relation(name); r != nil {
			switch r.Kind {
			case metamodel.BelongsTo:
				id, err := intOf(v)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", ent.Name, name, err)
				}
				if v == nil {
					out[r.FKField()] = nil
				} else {
					out[r.FKField()] = id
				}
			default:
				return nil, fmt.Errorf("%s.%s: only a belongsTo relation can be assigned", ent.Name, name)
			}
			continue
		}
		f := ent.Field(name)
		if f == nil {
			return nil, fmt.Errorf("%s has no field or relation %q", ent.Name, name)
		}
		if v == nil {
			out[name] = nil
			continue
		}
		switch f.Type {
		case metamodel.TypeInt:
			n, err := intOf(v)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", ent.Name, name, err)
			}
			out[name] = n
		case metamodel.TypeFloat, metamodel.TypeDecimal:
			switch x := v.(type) {
			case float64:
				out[name] = x
			case int64:
				out[name] = float64(x)
			default:
				return nil, fmt.Errorf("%s.%s: want a number, got %T", ent.Name, name, v)
			}
		case metamodel.TypeJSON:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", ent.Name, name, err)
			}
			out[name] = json.RawMessage(b)
		case metamodel.TypeDate, metamodel.TypeDateTime:
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("%s.%s: want a timestamp, got %T", ent.Name, name, v)
			}
			out[name] = t
		default:
			out[name] = v
		}
	}
	return out, nil
}

func intOf(v any) (int, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case uint64:
		return int(x), nil
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("want a whole number, got %v", x)
		}
		return int(x), nil
	}
	return 0, fmt.Errorf("want a whole number or an id, got %T", v)
}
