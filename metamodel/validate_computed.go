package metamodel

import "sort"

// computedReads warns where a computed field reads a field that some reader may be refused while the
// computed field itself says nothing about it: the platform makes a computed value at least as restricted
// as every field it reads (a hidden read hides it, a sensitive read masks it), and the model should say so
// where an architect will look for it.
func (b *builder) computedReads() {
	m := b.m
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if f.Computed.IsZero() {
				continue
			}
			for _, r := range m.ExprReads(e, f.Computed) {
				owner := m.Entity(r.Entity)
				if owner == nil {
					continue
				}
				what := r.Member
				if owner != e {
					what = owner.Name + "." + r.Member
				}
				if rf := owner.Field(r.Member); rf != nil && rf.Sensitive && !f.Sensitive {
					b.warnf(f.Pos, "computed field %q reads sensitive field %q, so it is left out of lists, search and exports like it; add sensitive: true to say so",
						e.Name+"."+f.Name, what)
				}
				var hiders []string
				for _, role := range m.Roles {
					p := role.Permissions[owner.Name]
					if p == nil || p.Fields[r.Member] != AccessHidden {
						continue
					}
					if own := role.Permissions[e.Name]; own != nil && own.Fields[f.Name] == AccessHidden {
						continue
					}
					hiders = append(hiders, role.Name)
				}
				sort.Strings(hiders)
				for _, role := range hiders {
					b.warnf(f.Pos, "role %q hides %q, which computed field %q reads, so the computed field is hidden from that role too; add %s: hidden to the role's fields to say so",
						role, what, e.Name+"."+f.Name, f.Name)
				}
			}
		}
	}
}
