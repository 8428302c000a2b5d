package metamodel

import (
	"fmt"
	"sort"
	"strconv"
)

// userDataKeys are the keys of a data.users record besides User's own fields and relations.
var userDataKeys = []string{"username", "password", "roles", "team", "displayName", "email", "phone", "active"}

// dataRef is a reference from a data value to a record of another entity, resolved once all records are known.
type dataRef struct {
	rel *Relation
	ref string
	pos Pos
	fv  *FieldValue
}

// data checks the data section: users, records per entity, value types, required fields and references;
// it normalizes values and orders the sets so that referenced entities load first.
func (b *builder) data() {
	d := b.m.Data
	if d == nil {
		return
	}
	var refs []dataRef
	usernames := map[string]Pos{}
	user := b.entity("User")
	for i, r := range d.Users {
		what := "user"
		if s, ok := valueOf(r, "username").(string); ok && s != "" {
			what = "user " + quote(s)
		} else {
			what = "data.users[" + strconv.Itoa(i) + "]"
		}
		if r.Key != "" {
			b.errorf(b.m.posOf(r, "_key", r.Pos), "%s: users have no _key; other records name a user by username", what)
		}
		var name string
		hasPassword := false
		for _, fv := range r.Values {
			vp := b.m.posOf(fv, "value", fv.Pos)
			switch fv.Name {
			case "username":
				s, ok := fv.Value.(string)
				if !ok || s == "" {
					b.errorf(vp, "%s: username: want a string, got %s", what, goDescribe(fv.Value))
					continue
				}
				name = s
				if p, ok := usernames[s]; ok {
					b.errorf(vp, "user %q is declared twice (first at %s)", s, p)
				} else {
					usernames[s] = vp
				}
			case "password":
				if s, ok := fv.Value.(string); !ok || s == "" {
					b.errorf(vp, "%s: password: want a non-empty string, got %s", what, goDescribe(fv.Value))
				}
				hasPassword = true
			case "roles":
				list, ok := fv.Value.([]any)
				if !ok {
					if s, isStr := fv.Value.(string); isStr {
						list = []any{s}
						fv.Value = list
					} else {
						b.errorf(vp, "%s: roles: want a list of role names, got %s", what, goDescribe(fv.Value))
						continue
					}
				}
				for j, x := range list {
					s, _ := x.(string)
					if b.m.Role(s) == nil {
						b.errorf(b.m.posOf(fv, "value."+strconv.Itoa(j), vp), "unknown role %q for user %q%s", fmt.Sprint(x), name,
							didYouMean(fmt.Sprint(x), b.roleNames()))
					}
				}
			case "passwordHash":
				b.errorf(fv.Pos, "%s: set password, not passwordHash (the hash is computed when data loads)", what)
			default:
				if user == nil {
					continue
				}
				if user.Field(fv.Name) == nil && user.Relation(fv.Name) == nil {
					b.errorf(fv.Pos, "unknown key %q in %s%s", fv.Name, what, hint(fv.Name, b.userKeys(user)))
					continue
				}
				refs = append(refs, b.dataValue(user, fv, what)...)
			}
		}
		if !hasValue(r, "username") {
			b.errorf(r.Pos, "%s has no username", what)
			continue
		}
		if !hasPassword && name != "" {
			b.errorf(r.Pos, "user %q has no password (add password: ...)", name)
		}
	}

	keys := map[string]map[string]Pos{} // entity → _key → position
	for _, s := range d.Sets {
		e := b.entity(s.Entity)
		switch {
		case s.Entity == "User":
			b.errorf(s.Pos, "users go under data.users, not data.User")
			continue
		case e == nil:
			b.errorf(s.Pos, "unknown entity %q in data%s", s.Entity, didYouMean(s.Entity, append(b.entityNames(), "users")))
			continue
		}
		if keys[e.Name] == nil {
			keys[e.Name] = map[string]Pos{}
		}
		uniq := map[string]map[string]Pos{}
		for _, r := range s.Records {
			what := e.Name + " record"
			if r.Key != "" {
				kp := b.m.posOf(r, "_key", r.Pos)
				if p, ok := keys[e.Name][r.Key]; ok {
					b.errorf(kp, "_key %q of %s is declared twice (first at %s)", r.Key, e.Name, p)
				} else {
					keys[e.Name][r.Key] = kp
				}
			}
			for _, fv := range r.Values {
				if e.Field(fv.Name) == nil && e.Relation(fv.Name) == nil {
					b.errorf(fv.Pos, "unknown field %q of entity %q%s", fv.Name, e.Name, didYouMean(fv.Name, memberNames(e)))
					continue
				}
				refs = append(refs, b.dataValue(e, fv, what)...)
				if f := e.Field(fv.Name); f != nil && f.Unique && fv.Value != nil {
					k := fmt.Sprint(fv.Value)
					if uniq[f.Name] == nil {
						uniq[f.Name] = map[string]Pos{}
					}
					vp := b.m.posOf(fv, "value", fv.Pos)
					if p, ok := uniq[f.Name][k]; ok {
						b.errorf(vp, "duplicate value %q of unique field %q (first at %s)", k, e.Name+"."+f.Name, p)
					} else {
						uniq[f.Name][k] = vp
					}
				}
			}
			b.requiredValues(e, r)
		}
	}
	b.resolveRefs(refs, keys, usernames)
	b.orderSets()
}

func valueOf(r *Record, name string) any {
	for _, fv := range r.Values {
		if fv.Name == name {
			return fv.Value
		}
	}
	return nil
}

func hasValue(r *Record, name string) bool {
	for _, fv := range r.Values {
		if fv.Name == name {
			return true
		}
	}
	return false
}

func (b *builder) userKeys(user *Entity) []string {
	out := append([]string{}, userDataKeys...)
	for _, n := range memberNames(user) {
		if !contains(out, n) && n != "passwordHash" {
			out = append(out, n)
		}
	}
	return out
}

// requiredValues checks that a record gives every required field that has no default and is not set by the
// system, and every required relation.
func (b *builder) requiredValues(e *Entity, r *Record) {
	given := map[string]bool{}
	for _, fv := range r.Values {
		if fv.Value != nil {
			given[fv.Name] = true
		}
	}
	for _, f := range e.Fields {
		if f.Required && !given[f.Name] && f.Default == nil && f.AutoNumber == "" && f.Computed.IsZero() && !f.System {
			b.errorf(r.Pos, "%s record has no value for required field %q", e.Name, f.Name)
		}
	}
	for _, rel := range e.Relations {
		if rel.Kind == BelongsTo && rel.Required && !given[rel.Name] {
			b.errorf(r.Pos, "%s record has no value for required relation %q", e.Name, rel.Name)
		}
	}
}

// dataValue checks one value of a record against its field or relation and normalizes it; it returns the
// references to resolve.
func (b *builder) dataValue(e *Entity, fv *FieldValue, what string) []dataRef {
	vp := b.m.posOf(fv, "value", fv.Pos)
	q := e.Name + "." + fv.Name
	if f := e.Field(fv.Name); f != nil {
		switch {
		case f.Secret:
			b.errorf(fv.Pos, "field %q is secret and cannot be set in data", q)
			return nil
		case !f.Computed.IsZero():
			b.errorf(fv.Pos, "field %q is computed and cannot be set in data", q)
			return nil
		case f.Type.Attachment() && fv.Value != nil:
			b.errorf(fv.Pos, "field %q is a %s, which is uploaded through the app's forms and cannot be set in data", q, f.Type)
			return nil
		case fv.Value == nil:
			if f.Required {
				b.errorf(vp, "field %q is required; null is not allowed", q)
			}
			return nil
		}
		v, problem := coerce(f, fv.Value)
		if problem == "" {
			problem = constraints(f, v)
		}
		if problem != "" {
			b.errorf(vp, "%s: %s: %s", what, fv.Name, problem)
			return nil
		}
		fv.Value = v
		return nil
	}
	r := e.Relation(fv.Name)
	if r == nil {
		return nil
	}
	switch r.Kind {
	case HasMany, HasOne:
		b.errorf(fv.Pos, "relation %q is the derived side of %q; set it on the %s records instead", q, r.To+"."+r.Inverse, r.To)
		return nil
	case ManyToMany:
		if r.Derived {
			b.errorf(fv.Pos, "relation %q is the derived side of %q; set it on the %s records instead", q, r.To+"."+r.Inverse, r.To)
			return nil
		}
	}
	if fv.Value == nil {
		if r.Required {
			b.errorf(vp, "relation %q is required; null is not allowed", q)
		}
		return nil
	}
	if r.Kind == BelongsTo {
		s, ok := refString(fv.Value)
		if !ok {
			b.errorf(vp, "%s: %s: want a reference to a %s record (its _key or a unique field value), got %s", what, fv.Name,
				r.To, goDescribe(fv.Value))
			return nil
		}
		fv.Value = s
		return []dataRef{{rel: r, ref: s, pos: vp, fv: fv}}
	}
	list, ok := fv.Value.([]any)
	if !ok {
		b.errorf(vp, "%s: %s: want a list of references to %s records, got %s", what, fv.Name, r.To, goDescribe(fv.Value))
		return nil
	}
	var out []dataRef
	for i, x := range list {
		ip := b.m.posOf(fv, "value."+strconv.Itoa(i), vp)
		s, ok := refString(x)
		if !ok {
			b.errorf(ip, "%s: %s: want a reference to a %s record, got %s", what, fv.Name, r.To, goDescribe(x))
			continue
		}
		list[i] = s
		out = append(out, dataRef{rel: r, ref: s, pos: ip, fv: fv})
	}
	return out
}

// resolveRefs checks that every reference names a record: by _key, by a unique field, or for User by username.
func (b *builder) resolveRefs(refs []dataRef, keys map[string]map[string]Pos, usernames map[string]Pos) {
	names := map[string]map[string]bool{} // entity → every name a reference may use
	candidates := map[string][]string{}
	for _, s := range b.m.Data.Sets {
		e := b.entity(s.Entity)
		if e == nil {
			continue
		}
		if names[e.Name] == nil {
			names[e.Name] = map[string]bool{}
		}
		for _, r := range s.Records {
			if r.Key != "" {
				names[e.Name][r.Key] = true
				candidates[e.Name] = append(candidates[e.Name], r.Key)
			}
			for _, fv := range r.Values {
				if f := e.Field(fv.Name); f != nil && f.Unique && f.Type.stringy() {
					if s, ok := fv.Value.(string); ok {
						names[e.Name][s] = true
						candidates[e.Name] = append(candidates[e.Name], s)
					}
				}
			}
		}
	}
	names["User"] = map[string]bool{}
	for u := range usernames {
		names["User"][u] = true
		candidates["User"] = append(candidates["User"], u)
	}
	sort.Strings(candidates["User"])
	for _, r := range refs {
		if names[r.rel.To][r.ref] {
			continue
		}
		how := "a _key or a unique field value of a " + r.rel.To + " record"
		if r.rel.To == "User" {
			how = "the username of a user in data.users"
		}
		b.errorf(r.pos, "no %s record %q for relation %q (want %s%s)", r.rel.To, r.ref, r.rel.Entity.Name+"."+r.rel.Name, how,
			orMeant(r.ref, candidates[r.rel.To]))
	}
}

// orderSets orders the data sets so that an entity's records load after the records they reference, where
// the references allow it; otherwise file order is kept.
func (b *builder) orderSets() {
	sets := b.m.Data.Sets
	idx := map[string]int{}
	for i, s := range sets {
		idx[s.Entity] = i
	}
	deps := make([]map[int]bool, len(sets))
	for i, s := range sets {
		deps[i] = map[int]bool{}
		e := b.entity(s.Entity)
		if e == nil {
			continue
		}
		for _, r := range s.Records {
			for _, fv := range r.Values {
				if rel := e.Relation(fv.Name); rel != nil && !rel.Derived {
					if j, ok := idx[rel.To]; ok && j != i {
						deps[i][j] = true
					}
				}
			}
		}
	}
	placed := make([]bool, len(sets))
	var out []*DataSet
	for len(out) < len(sets) {
		pick := -1
		for i := range sets {
			if placed[i] {
				continue
			}
			ready := true
			for j := range deps[i] {
				if !placed[j] {
					ready = false
					break
				}
			}
			if ready {
				pick = i
				break
			}
		}
		if pick < 0 { // a cycle: keep file order for the rest
			for i := range sets {
				if !placed[i] {
					pick = i
					break
				}
			}
		}
		placed[pick] = true
		out = append(out, sets[pick])
	}
	b.m.Data.Sets = out
}
