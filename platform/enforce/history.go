package enforce

import (
	"context"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/audit"
)

// History returns the history of one record as the principal of ctx may see it, under the same field
// rules as the record itself in the same place: the caller has read the record through the client (so it
// is readable); changes of fields hidden from the principal, or shown on other rows only, are left out,
// and so are masked sensitive fields when the record is one of a list (listed); a related record the
// principal may not read answers null, as the foreign key does (and leaves a many-to-many change's lists);
// the user who made a change is left out when the principal may not read that user.
func (rt *Runtime) History(ctx context.Context, q audit.Querier, entity string, id int, listed bool) ([]audit.Entry, error) {
	info, err := rt.entity(entity)
	if err != nil {
		return nil, err
	}
	entries, err := audit.History(ctx, q, rt.Dialect, entity, id)
	if err != nil {
		return nil, err
	}
	a := rt.AccessOf(ctx, entity)
	for i := range entries {
		kept := entries[i].Changes[:0]
		for _, c := range entries[i].Changes {
			if listed && !a.Lists(c.Field) {
				continue
			}
			visible, err := rt.VisibleOn(ctx, entity, c.Field, id)
			if err != nil {
				return nil, err
			}
			if !visible {
				continue
			}
			if r := info.e.Relation(c.Field); r != nil {
				if c.Old, err = rt.readableRefs(ctx, r, c.Old); err != nil {
					return nil, err
				}
				if c.New, err = rt.readableRefs(ctx, r, c.New); err != nil {
					return nil, err
				}
			}
			kept = append(kept, c)
		}
		entries[i].Changes = kept
		if uid := entries[i].UserID; uid != nil {
			ok, err := rt.Readable(ctx, "User", *uid)
			if err != nil {
				return nil, err
			}
			if !ok {
				entries[i].UserID, entries[i].Username = nil, ""
			}
		}
	}
	return entries, nil
}

// readableRefs keeps, of a recorded value of relation r (a foreign key, or a many-to-many change's
// {added: [ids]} or {removed: [ids]}), the ids of rows the principal of ctx may read.
func (rt *Runtime) readableRefs(ctx context.Context, r *metamodel.Relation, v any) (any, error) {
	switch x := v.(type) {
	case float64:
		ok, err := rt.Readable(ctx, r.To, int(x))
		if err != nil || !ok {
			return nil, err
		}
		return x, nil
	case map[string]any:
		out := map[string]any{}
		for k, list := range x {
			ids, _ := list.([]any)
			var kept []any
			for _, id := range ids {
				n, isNum := id.(float64)
				if !isNum {
					continue
				}
				ok, err := rt.Readable(ctx, r.To, int(n))
				if err != nil {
					return nil, err
				}
				if ok {
					kept = append(kept, id)
				}
			}
			if len(kept) > 0 {
				out[k] = kept
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return v, nil
}
