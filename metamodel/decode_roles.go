package metamodel

import "gopkg.in/yaml.v3"

var (
	roleKeys       = objectKeys("role")
	permissionKeys = objectKeys("permission")
)

var scopeWords = []string{string(ScopeNone), string(ScopeOwn), string(ScopeTeam), string(ScopeAll)}

func (l *loader) roles(n *yaml.Node) {
	l.named(n, "role", "roles", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		r := &Role{Name: name, Pos: l.at(k)}
		l.m.Roles = append(l.m.Roles, r)
		what := "role " + quote(name)
		l.mapping(v, what, roleKeys, func(key string, k, v *yaml.Node) {
			l.mark(r, key, v)
			switch key {
			case "label":
				r.Label = l.text(v, what+" label")
			case "superuser":
				r.Superuser = l.boolean(v, what+" superuser")
			case "inherits":
				r.Inherits = l.strList(v, what+" inherits", r, "inherits", true)
			case "permissions":
				r.Permissions = map[string]*Permission{}
				l.mapping(v, what+" permissions", nil, func(ent string, k, v *yaml.Node) {
					p := l.permission(name, ent, k, v)
					r.Permissions[ent] = p
				})
			}
		})
	})
}

func (l *loader) permission(role, ent string, k, v *yaml.Node) *Permission {
	p := &Permission{Pos: l.at(k)}
	what := "permission of role " + quote(role) + " on " + quote(ent)
	l.mapping(v, what, permissionKeys, func(key string, k, v *yaml.Node) {
		l.mark(p, key, v)
		w := what + " " + key
		switch key {
		case "read":
			p.Read = l.scope(v, w)
		case "update":
			p.Update = l.scope(v, w)
		case "delete":
			p.Delete = l.scope(v, w)
		case "create":
			p.Create = l.boolean(v, w)
		case "export":
			p.Export = l.boolean(v, w)
		case "import":
			p.Import = l.boolean(v, w)
		case "fields":
			p.Fields = map[string]string{}
			l.mapping(v, w, nil, func(f string, k, v *yaml.Node) {
				l.mark(p, "fields."+f, k)
				a := l.str(v, w+"."+f)
				switch a {
				case AccessHidden, AccessReadonly, AccessVisible:
				case "":
					return
				default:
					l.errorf(l.at(v), "unknown field access %q for %q%s", a, f,
						hint(a, []string{AccessHidden, AccessReadonly, AccessVisible}))
					return
				}
				p.Fields[f] = a
			})
		}
	})
	return p
}

// ParseScope reads a scope word (none, own, team, all); field scopes are written as mappings.
func ParseScope(s string) (ScopeKind, bool) {
	switch ScopeKind(s) {
	case ScopeNone, ScopeOwn, ScopeTeam, ScopeAll:
		return ScopeKind(s), true
	}
	return "", false
}

func (l *loader) scope(n *yaml.Node, what string) *Scope {
	n = deref(n)
	s := &Scope{Pos: l.at(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		k, ok := ParseScope(n.Value)
		if !ok {
			if n.Tag == "!!bool" {
				l.errorf(l.at(n), "%s: want a scope, got %s (use all or none)", what, n.Value)
			} else {
				l.errorf(l.at(n), "unknown scope %q in %s%s", n.Value, what,
					hint(n.Value, append(append([]string{}, scopeWords...), "{field: F, equals: user.id | user.team}")))
			}
			return nil
		}
		s.Kind = k
		return s
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(l.at(n), "%s: want none, own, team, all or {field: F, equals: user.id | user.team}, got %s",
			what, describe(n))
		return nil
	}
	s.Kind = ScopeField
	l.mapping(n, what, objectKeys("fieldScope"), func(key string, k, v *yaml.Node) {
		l.mark(s, key, v)
		switch key {
		case "field":
			s.Field = l.str(v, what+" field")
		case "equals":
			s.Equals = l.str(v, what+" equals")
		case "subteams":
			s.Subteams = l.boolean(v, what+" subteams")
		}
	})
	if !l.m.hasKey(s, "field") {
		l.errorf(s.Pos, "%s: field scope has no field (want {field: F, equals: user.id | user.team})", what)
		return nil
	}
	if !l.m.hasKey(s, "equals") {
		l.errorf(s.Pos, "%s: field scope has no equals (want user.id or user.team)", what)
		return nil
	}
	return s
}
