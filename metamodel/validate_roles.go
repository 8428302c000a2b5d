package metamodel

import (
	"sort"
	"strings"
)

var scopeRank = map[ScopeKind]int{ScopeNone: 0, ScopeOwn: 1, ScopeField: 1, ScopeTeam: 2, ScopeAll: 3}
var accessRank = map[string]int{AccessHidden: 0, AccessReadonly: 1, AccessVisible: 2}

// roles checks permissions and flattens inheritance: a role's permissions become the union of its own and
// those of every role it inherits, transitively.
func (b *builder) roles() {
	for _, r := range b.m.Roles {
		for i, in := range r.Inherits {
			if b.m.Role(in) == nil {
				b.errorf(b.m.posOf(r, "inherits."+itoa(i), r.Pos), "unknown role %q inherited by role %q%s", in, r.Name,
					didYouMean(in, b.roleNames()))
			}
		}
		for _, ent := range sortedKeys(r.Permissions) {
			p := r.Permissions[ent]
			e := b.m.Entity(ent)
			if e == nil {
				b.errorf(p.Pos, "unknown entity %q in permissions of role %q%s", ent, r.Name, didYouMean(ent, b.entityNames()))
				continue
			}
			for _, s := range []*Scope{p.Read, p.Update, p.Delete} {
				b.scope(r, e, s)
			}
			for _, f := range sortedKeys(p.Fields) {
				if e.Field(f) == nil && e.Relation(f) == nil {
					b.errorf(b.m.posOf(p, "fields."+f, p.Pos), "unknown field %q of entity %q in role %q%s", f, e.Name, r.Name,
						didYouMean(f, memberNames(e)))
				} else if fl := e.Field(f); fl != nil && fl.Secret {
					b.errorf(b.m.posOf(p, "fields."+f, p.Pos), "field %q is secret; no role can see it", e.Name+"."+f)
				}
			}
		}
	}
	b.flattenRoles()
}

func (b *builder) scope(r *Role, e *Entity, s *Scope) {
	if s == nil {
		return
	}
	switch s.Kind {
	case ScopeOwn, ScopeTeam:
		if e.OwnerField == "" {
			b.errorf(s.Pos, "scope %q on %q needs an owner, but entity %q has no owner trait or ownerField (use all or {field: F, equals: ...})",
				s.Kind, e.Name, e.Name)
		}
	case ScopeField:
		fp := b.m.posOf(s, "field", s.Pos)
		ep := b.m.posOf(s, "equals", s.Pos)
		rel := e.Relation(s.Field)
		switch {
		case rel == nil:
			b.errorf(fp, "unknown relation %q of entity %q in scope of role %q%s", s.Field, e.Name, r.Name,
				didYouMean(s.Field, scopeRelations(e)))
			return
		case rel.Kind != BelongsTo || (rel.To != "User" && rel.To != "Team"):
			b.errorf(fp, "scope field %q of entity %q must be a belongsTo relation to User or Team", s.Field, e.Name)
			return
		}
		switch s.Equals {
		case "user.id", "user.team":
		default:
			b.errorf(ep, "scope equals %q is not supported (want user.id or user.team)", s.Equals)
			return
		}
		if rel.To == "User" && s.Equals != "user.id" {
			b.errorf(ep, "relation %q points to User, so the scope must use equals: user.id", e.Name+"."+s.Field)
		}
		if rel.To == "Team" && s.Equals != "user.team" {
			b.errorf(ep, "relation %q points to Team, so the scope must use equals: user.team", e.Name+"."+s.Field)
		}
		if s.Subteams && s.Equals != "user.team" {
			b.errorf(b.m.posOf(s, "subteams", s.Pos), "subteams is only allowed with equals: user.team")
		}
	}
}

func scopeRelations(e *Entity) []string {
	var out []string
	for _, r := range e.Relations {
		if r.Kind == BelongsTo && (r.To == "User" || r.To == "Team") {
			out = append(out, r.Name)
		}
	}
	return out
}

// flattenRoles merges inherited permissions into each role, reporting inheritance cycles.
func (b *builder) flattenRoles() {
	done := map[string]bool{}
	var visit func(r *Role, path []string)
	visit = func(r *Role, path []string) {
		if done[r.Name] {
			return
		}
		for i, p := range path {
			if p == r.Name {
				cycle := append(append([]string{}, path[i:]...), r.Name)
				start := b.m.Role(cycle[0])
				b.errorf(start.Pos, "role %q inherits itself through %s", cycle[0], strings.Join(cycle, " → "))
				return
			}
		}
		path = append(path, r.Name)
		for _, in := range r.Inherits {
			parent := b.m.Role(in)
			if parent == nil {
				continue
			}
			visit(parent, path)
			if !done[parent.Name] {
				continue
			}
			if parent.Superuser {
				r.Superuser = true
			}
			for _, ent := range sortedKeys(parent.Permissions) {
				if r.Permissions == nil {
					r.Permissions = map[string]*Permission{}
				}
				r.Permissions[ent] = b.union(r, ent, r.Permissions[ent], parent.Permissions[ent])
			}
		}
		if !contains(path[:len(path)-1], r.Name) {
			done[r.Name] = true
		}
	}
	roles := append([]*Role{}, b.m.Roles...)
	sort.SliceStable(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
	for _, r := range roles {
		visit(r, nil)
	}
}

// union merges an inherited permission into a role's own: the wider scope wins, flags are or-ed, and field
// rules are kept from whichever side gives one (the more open rule when both do).
func (b *builder) union(r *Role, ent string, own, inh *Permission) *Permission {
	if inh == nil {
		return own
	}
	out := &Permission{Pos: inh.Pos}
	if own != nil {
		*out = *own
		out.Fields = nil
	}
	out.Read = b.wider(r, ent, "read", out.Read, inh.Read)
	out.Update = b.wider(r, ent, "update", out.Update, inh.Update)
	out.Delete = b.wider(r, ent, "delete", out.Delete, inh.Delete)
	out.Create = out.Create || inh.Create
	out.Export = out.Export || inh.Export
	out.Import = out.Import || inh.Import
	fields := map[string]string{}
	for k, v := range inh.Fields {
		fields[k] = v
	}
	if own != nil {
		for k, v := range own.Fields {
			if o, ok := fields[k]; !ok || accessRank[v] > accessRank[o] {
				fields[k] = v
			}
		}
	}
	if len(fields) > 0 {
		out.Fields = fields
	}
	return out
}

func (b *builder) wider(r *Role, ent, verb string, a, c *Scope) *Scope {
	switch {
	case c == nil:
		return a
	case a == nil:
		cp := *c
		return &cp
	case scopeRank[c.Kind] > scopeRank[a.Kind]:
		cp := *c
		return &cp
	case scopeRank[c.Kind] == scopeRank[a.Kind] && c.Kind == ScopeField && a.Kind == ScopeField &&
		(c.Field != a.Field || c.Equals != a.Equals):
		b.warnf(r.Pos, "role %q gets %s scopes on different fields of %q (%q and %q, inherited); only %q applies",
			r.Name, verb, ent, a.Field, c.Field, a.Field)
	case scopeRank[c.Kind] == scopeRank[a.Kind] && c.Kind != a.Kind:
		b.warnf(r.Pos, "role %q gets %s scope %s and an inherited %s scope on %q; only %s applies", r.Name, verb, a.Kind,
			c.Kind, ent, a.Kind)
	case c.Kind == ScopeField && a.Kind == ScopeField && c.Subteams && !a.Subteams:
		cp := *c
		return &cp
	}
	return a
}
