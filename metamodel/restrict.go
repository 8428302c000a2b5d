package metamodel

import "sync"

// Restrictable lists the members (fields and relations, by name) of e that some reader may be refused:
//   - sensitive fields, left out of lists for readers without a visible rule;
//   - fields and relations some role hides;
//   - belongsTo relations whose related row a reader may not see: in a model with roles any row may be
//     out of a reader's scope, and a soft-deleted row (or one hidden with its soft-deleted parent) is out
//     of everyone's sight;
//   - computed fields that read any of these, here or through a relation: a computed value is at least
//     as restricted as every field it reads.
//
// The answer depends on the model only. The generator makes these members nullable in GraphQL (null is
// what a refused reader gets) and guards their filters; the platform decides per reader which of them
// apply (platform/enforce). A member missing here is never restricted for anyone.
func (m *Model) Restrictable(e *Entity) map[string]bool {
	if m.restrict == nil { // a model that was never linked
		return m.computeRestrictable()[e.Name]
	}
	m.restrict.once.Do(func() { m.restrict.members = m.computeRestrictable() })
	return m.restrict.members[e.Name]
}

// restrictCache computes Restrictable once per linked model.
type restrictCache struct {
	once    sync.Once
	members map[string]map[string]bool
}

func (m *Model) computeRestrictable() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, e := range m.Entities {
		out[e.Name] = map[string]bool{}
	}
	for _, e := range m.Entities {
		set := out[e.Name]
		for _, f := range e.Fields {
			if f.Sensitive {
				set[f.Name] = true
			}
		}
		for _, r := range e.Relations {
			if r.Kind == BelongsTo && r.Target != nil && (len(m.Roles) > 0 || mayVanish(r.Target)) {
				set[r.Name] = true
			}
		}
		for _, role := range m.Roles {
			if p := role.Permissions[e.Name]; p != nil {
				for name, rule := range p.Fields {
					if rule == AccessHidden {
						set[name] = true
					}
				}
			}
		}
	}
	// Computed fields inherit the restrictions of what they read, through chains of computed fields.
	for changed := true; changed; {
		changed = false
		for _, e := range m.Entities {
			for _, f := range e.Fields {
				if f.Computed.IsZero() || out[e.Name][f.Name] {
					continue
				}
				for _, r := range m.ExprReads(e, f.Computed) {
					if out[r.Entity][r.Member] {
						out[e.Name][f.Name] = true
						changed = true
						break
					}
				}
			}
		}
	}
	return out
}

// mayVanish reports whether rows of e can be hidden from every reader while they still exist: soft
// deleted, or hidden with a soft-deleted parent through a cascade relation.
func mayVanish(e *Entity) bool {
	if e.Has(TraitSoftDelete) {
		return true
	}
	for _, r := range e.Relations {
		if r.Kind == BelongsTo && r.OnDelete == OnDeleteCascade && r.Target != nil && r.Target.Has(TraitSoftDelete) {
			return true
		}
	}
	return false
}
