package metamodel

var onDeleteActions = []string{OnDeleteRestrict, OnDeleteCascade, OnDeleteSetNull}

// relations checks declared relations, fills their defaults and derives the inverse ends on the targets.
func (b *builder) relations() {
	type pending struct {
		r *Relation
		e *Entity
	}
	var derive []pending
	for _, e := range b.m.Entities {
		for _, r := range e.Relations {
			if r.Derived {
				continue
			}
			q := e.Name + "." + r.Name
			if r.Kind == "" {
				r.Kind = BelongsTo
			}
			kp := b.m.posOf(r, "kind", r.Pos)
			switch r.Kind {
			case BelongsTo:
				if r.OnDelete == "" {
					r.OnDelete = OnDeleteRestrict
				} else if !contains(onDeleteActions, r.OnDelete) {
					b.errorf(b.m.posOf(r, "onDelete", r.Pos), "unknown onDelete %q of relation %q%s", r.OnDelete, q,
						hint(r.OnDelete, onDeleteActions))
				} else if r.OnDelete == OnDeleteSetNull && r.Required {
					b.errorf(b.m.posOf(r, "onDelete", r.Pos), "relation %q is required, so onDelete cannot be setNull (use restrict or cascade)", q)
				}
			case ManyToMany:
				if r.OnDelete != "" {
					b.errorf(b.m.posOf(r, "onDelete", r.Pos), "onDelete is only for belongsTo relations; relation %q is manyToMany (its join rows are always removed)", q)
					r.OnDelete = ""
				}
				if r.Required {
					b.errorf(b.m.posOf(r, "required", r.Pos), "required is only for belongsTo relations; relation %q is manyToMany", q)
				}
				if r.Unique {
					b.errorf(b.m.posOf(r, "unique", r.Pos), "unique is only for belongsTo relations; relation %q is manyToMany", q)
				}
			case HasMany, HasOne:
				b.errorf(kp, "relation kind %q is derived, not declared: declare belongsTo on %q with inverse: %q instead",
					r.Kind, r.To, r.Name)
				continue
			default:
				b.errorf(kp, "unknown relation kind %q of relation %q%s", r.Kind, q,
					hint(string(r.Kind), []string{string(BelongsTo), string(ManyToMany)}))
				continue
			}
			t := b.entity(r.To)
			if t == nil {
				if r.To != "" {
					b.errorf(b.m.posOf(r, "to", r.Pos), "unknown entity %q for relation %q%s", r.To, q,
						didYouMean(r.To, b.entityNames()))
				}
				continue
			}
			r.Target = t
			if r.Inverse == "" {
				r.Inverse = lowerCamel(plural(lowerCamel(e.Name))) + "By" + pascal(r.Name)
				b.m.src[r] = withKey(b.m.src[r], "defaultInverse")
			} else if !isLowerCamel(r.Inverse) {
				b.errorf(b.m.posOf(r, "inverse", r.Pos), "inverse name %q of relation %q must be lowerCamelCase (rename to %q)",
					r.Inverse, q, lowerCamel(r.Inverse))
				continue
			} else if p, s := memberNameProblem(r.Inverse, t.Name, true, false); p != "" {
				b.errorf(b.m.posOf(r, "inverse", r.Pos), "inverse name %q of relation %q %s (rename to %q)", r.Inverse, q, p, s)
				continue
			} else if !NameRoundTrips(r.Inverse) {
				b.errorf(b.m.posOf(r, "inverse", r.Pos), "inverse name %q of relation %q does not survive the mapping to snake_case and back (rename to %q)",
					r.Inverse, q, Camel(Snake(r.Inverse)))
				continue
			}
			derive = append(derive, pending{r, e})
		}
	}
	for _, d := range derive {
		r, e, t := d.r, d.e, d.r.Target
		q := e.Name + "." + r.Name
		ip := b.m.posOf(r, "inverse", r.Pos)
		_, isDefault := b.m.src[r]["defaultInverse"]
		what := "inverse"
		if isDefault {
			what = "default inverse"
		}
		if t == e && r.Inverse == r.Name {
			b.errorf(ip, "inverse %q of relation %q names the relation itself (choose another inverse name)", r.Inverse, q)
			continue
		}
		if f := fieldIn(t.Fields, r.Inverse); f != nil {
			b.errorf(ip, "%s %q of relation %q collides with field %q (set inverse: to another name)", what, r.Inverse, q,
				t.Name+"."+f.Name)
			continue
		}
		if o := relIn(t.Relations, r.Inverse); o != nil {
			switch {
			case !o.Derived && o.To == e.Name && o.Inverse == r.Name:
				b.errorf(r.Pos, "relations %q and %q declare the same association twice (declare one side only; the other is derived)",
					q, t.Name+"."+o.Name)
			case o.Derived:
				b.errorf(ip, "%s %q of relation %q collides with the inverse of relation %q (set inverse: to another name)",
					what, r.Inverse, q, o.To+"."+o.Inverse)
			default:
				b.errorf(ip, "%s %q of relation %q collides with relation %q (set inverse: to another name)", what, r.Inverse, q,
					t.Name+"."+o.Name)
			}
			continue
		}
		kind := HasMany
		switch {
		case r.Kind == ManyToMany:
			kind = ManyToMany
		case r.Unique:
			kind = HasOne
		}
		inv := &Relation{Name: r.Inverse, To: e.Name, Kind: kind, Inverse: r.Name, Derived: true, Entity: t,
			Target: e, InverseRel: r, Pos: r.Pos, Label: builtinDerivedLabels[t.Name+"."+r.Inverse]}
		if len(inv.Label) == 0 {
			inv.Label = e.Label
		}
		r.InverseRel = inv
		t.Relations = append(t.Relations, inv)
	}
}

func withKey(s srcPos, key string) srcPos {
	if s == nil {
		s = srcPos{}
	}
	s[key] = Pos{}
	return s
}

// members checks that no two members of an entity share a name and that none collides with a name the
// generated code derives from another member (teamID for relation team, hasChildren for relation children).
func (b *builder) members() {
	for _, e := range b.m.Entities {
		gen := map[string]string{}
		for _, r := range e.Relations {
			p := pascal(r.Name)
			for _, n := range []string{r.Name + "ID", r.Name + "IDs", "add" + p + "IDs", "remove" + p + "IDs",
				"clear" + p, "has" + p, "has" + p + "With"} {
				gen[n] = "relation " + quote(r.Name)
			}
		}
		for _, f := range e.Fields {
			p := pascal(f.Name)
			for _, n := range []string{"clear" + p, "add" + p, "append" + p, "default" + p} {
				gen[n] = "field " + quote(f.Name)
			}
		}
		for _, f := range e.Fields {
			if f.System && f.StateOf == "" {
				continue
			}
			if r := relIn(e.Relations, f.Name); r != nil && !r.Derived {
				b.errorf(r.Pos, "relation %q has the same name as field %q (rename one)", e.Name+"."+r.Name, e.Name+"."+f.Name)
			}
			if o, ok := gen[f.Name]; ok {
				b.errorf(f.Pos, "field %q collides with a name generated for %s (rename it)", e.Name+"."+f.Name, o)
			}
		}
		for _, r := range e.Relations {
			if r.Derived || r.System {
				continue
			}
			if o, ok := gen[r.Name]; ok {
				b.errorf(r.Pos, "relation %q collides with a name generated for %s (rename it)", e.Name+"."+r.Name, o)
			}
		}
	}
}
