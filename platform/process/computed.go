package process

import (
	"context"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/expr"
)

var _ enforce.Computer = (*Engine)(nil)

// Compute implements enforce.Computer: the stored computed fields of entity for the record as m leaves
// it, each through the program that computes the field at read time (platform/expr). The record is
// shaped as for every other expression, belongsTo relations one level deep, so a stored field may read a
// related record (`record.vendor.city`). Fields are computed in model order, each seeing the ones before
// it; a value the expression cannot give (a null input) is null, as at read time.
func (e *Engine) Compute(ctx context.Context, entity string, m ent.Mutation) (map[string]any, error) {
	en := e.Model.Entity(entity)
	if en == nil {
		return nil, nil
	}
	rec, err := e.after(ctx, en, m)
	if err != nil || rec == nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range en.Fields {
		if !f.Stored || f.Computed.IsZero() {
			continue
		}
		var v any
		if got, err := expr.Eval(e.Model, entity, f.Computed.Src, rec, nil); err == nil {
			v = expr.Coerce(f, got)
		}
		out[f.Name], rec[f.Name] = v, v
	}
	return out, nil
}

// after returns the record of en as m leaves it: for an update the stored record with m's changes
// applied, for a create m's values (every field the record has, null where m sets none). It reads as the
// system, so the values do not depend on who writes. It is nil when the record to update does not exist:
// the update will find nothing either.
func (e *Engine) after(ctx context.Context, en *metamodel.Entity, m ent.Mutation) (map[string]any, error) {
	var rec map[string]any
	if id, ok := m.(ider).ID(); ok && !m.Op().Is(ent.OpCreate) {
		old, err := e.load(ctx, en.Name, id)
		if err != nil || old == nil {
			return nil, err
		}
		rec = old
	} else {
		rec = map[string]any{"id": nil}
		for _, f := range en.Fields {
			if f.Computed.IsZero() || f.Stored {
				rec[f.Name] = nil
			}
		}
		for _, r := range en.Relations {
			if r.Kind == metamodel.BelongsTo {
				rec[r.Name] = nil
			}
		}
	}
	for _, f := range en.Fields {
		if v, ok := m.Field(f.EntName()); ok {
			rec[f.Name] = expr.Value(v)
		} else if m.FieldCleared(f.EntName()) {
			rec[f.Name] = nil
		}
	}
	for _, r := range en.Relations {
		if r.Kind != metamodel.BelongsTo {
			continue
		}
		if v, ok := m.Field(r.FKColumn()); ok {
			id, err := intOf(v)
			if err != nil {
				return nil, err
			}
			if rec[r.Name], err = e.related(enforce.System(ctx), r, int64(id)); err != nil {
				return nil, err
			}
		} else if m.FieldCleared(r.FKColumn()) {
			rec[r.Name] = nil
		}
	}
	return rec, nil
}
