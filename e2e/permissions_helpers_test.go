package e2e

import (
	"fmt"
	"sort"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// Helpers of the permission matrix (permissions_test.go). The expectations are computed here from the
// model alone — its roles, entities and data, resolved the way METAMODEL.md describes — and never from the
// platform's enforcement code, so the matrix checks the platform against the format's definition.

// ---------------------------------------------------------------------------------------------------
// The expected world: every data record as a row with its references, every data user with their roles
// and teams.

// pmRow is one data record.
type pmRow struct {
	e     *metamodel.Entity
	rec   *metamodel.Record
	label string              // for messages: Entity[_key | display value | #n]
	refs  map[string]*pmRow   // belongsTo relation → target (nil: unset)
	many  map[string][]*pmRow // to-many relation (hasMany, both manyToMany sides) → related rows
	one   map[string]*pmRow   // hasOne relation → the row pointing here
	id    string              // database id, from the superuser's view
	vals  map[string]any      // the superuser's view of its fields: GraphQL name → value
	data  map[string]any      // data values by name (fields only)
}

func (r *pmRow) String() string { return r.label }

// pmUser is one user of data.users.
type pmUser struct {
	name, password string
	roleNames      []string
	roles          []*metamodel.Role // the roles the model has
	row            *pmRow            // the User row
	team           *pmRow            // the user's team, nil without one
	teams          map[*pmRow]bool   // the team and all of its sub-teams
	all            bool              // superuser, or a model without roles: everything
	active         bool
}

func (u *pmUser) String() string {
	return fmt.Sprintf("%s %v", u.name, u.roleNames)
}

// pmWorld is the model's data as rows, and its users.
type pmWorld struct {
	m     *metamodel.Model
	rows  map[string][]*pmRow // entity → rows in data (load) order
	users []*pmUser
	super *pmUser // the first superuser of the data, the matrix's source of truth
	// implicit: entities every signed-in user reads because no role mentions them (User and Team).
	implicit map[string]bool
}

// pmRecordsOf returns the data records of an entity in the order they load: for User, data.users first.
func pmRecordsOf(m *metamodel.Model, entity string) []*metamodel.Record {
	if m.Data == nil {
		return nil
	}
	var out []*metamodel.Record
	if entity == "User" {
		out = append(out, m.Data.Users...)
	}
	for _, s := range m.Data.Sets {
		if s.Entity == entity {
			out = append(out, s.Records...)
		}
	}
	return out
}

func pmValue(r *metamodel.Record, name string) (any, bool) {
	for _, v := range r.Values {
		if v.Name == name {
			return v.Value, true
		}
	}
	return nil, false
}

// newPMWorld resolves the model's data the way METAMODEL.md's data section says: a relation value names
// its target by _key, by a unique field, or (for User) by username; owner defaults to the first superuser.
func newPMWorld(t *testing.T, m *metamodel.Model) *pmWorld {
	t.Helper()
	w := &pmWorld{m: m, rows: map[string][]*pmRow{}, implicit: map[string]bool{}}
	index := map[string]map[string]*pmRow{}
	remember := func(entity, key string, r *pmRow) {
		if index[entity] == nil {
			index[entity] = map[string]*pmRow{}
		}
		if _, dup := index[entity][key]; !dup {
			index[entity][key] = r
		}
	}
	for _, e := range m.Entities {
		for i, rec := range pmRecordsOf(m, e.Name) {
			r := &pmRow{e: e, rec: rec, refs: map[string]*pmRow{}, many: map[string][]*pmRow{},
				one: map[string]*pmRow{}, data: map[string]any{}}
			for _, fv := range rec.Values {
				if e.Field(fv.Name) != nil {
					r.data[fv.Name] = fv.Value
				}
			}
			switch {
			case rec.Key != "":
				r.label = fmt.Sprintf("%s[%s]", e.Name, rec.Key)
			case e.Name == "User" && r.data["username"] != nil:
				r.label = fmt.Sprintf("User[%v]", r.data["username"])
			case e.Display != "" && r.data[e.Display] != nil:
				r.label = fmt.Sprintf("%s[%v]", e.Name, r.data[e.Display])
			default:
				r.label = fmt.Sprintf("%s[#%d]", e.Name, i+1)
			}
			w.rows[e.Name] = append(w.rows[e.Name], r)
		}
		// Keys in load order, first one wins (as the loader remembers them).
		for _, r := range w.rows[e.Name] {
			if r.rec.Key != "" {
				remember(e.Name, r.rec.Key, r)
			}
			var uniq []string
			for name := range r.data {
				if f := e.Field(name); f != nil && f.Unique {
					uniq = append(uniq, name)
				}
			}
			sort.Strings(uniq)
			for _, name := range uniq {
				if s, ok := r.data[name].(string); ok {
					remember(e.Name, s, r)
				}
			}
		}
	}
	resolve := func(r *pmRow, rel *metamodel.Relation, key any) *pmRow {
		target := index[rel.To][fmt.Sprint(key)]
		if target == nil {
			t.Fatalf("data %s: %s = %v names no %s (by _key, unique field or username)", r.label, rel.Name, key, rel.To)
		}
		return target
	}
	// Users, and the default owner: the first superuser, else the first user.
	var firstUser *pmRow
	for i, rec := range pmRecordsOf(m, "User") {
		if m.Data == nil || i >= len(m.Data.Users) {
			break
		}
		u := &pmUser{row: w.rows["User"][i], active: true}
		if v, ok := pmValue(rec, "username"); ok {
			u.name = fmt.Sprint(v)
		}
		if v, ok := pmValue(rec, "password"); ok && v != nil {
			u.password = fmt.Sprint(v)
		}
		if v, ok := pmValue(rec, "active"); ok && v == false {
			u.active = false
		}
		if v, ok := pmValue(rec, "roles"); ok {
			list, _ := v.([]any)
			for _, name := range list {
				u.roleNames = append(u.roleNames, fmt.Sprint(name))
				if role := m.Role(fmt.Sprint(name)); role != nil {
					u.roles = append(u.roles, role)
					u.all = u.all || role.Superuser
				}
			}
		}
		u.all = u.all || len(m.Roles) == 0
		if firstUser == nil {
			firstUser = u.row
		}
		if u.all && len(m.Roles) > 0 && w.super == nil {
			w.super = u
		}
		w.users = append(w.users, u)
	}
	defaultOwner := firstUser
	if w.super != nil {
		defaultOwner = w.super.row
	}
	for _, e := range m.Entities {
		for _, r := range w.rows[e.Name] {
			for _, fv := range r.rec.Values {
				rel := e.Relation(fv.Name)
				if rel == nil || fv.Value == nil {
					continue
				}
				switch rel.Kind {
				case metamodel.BelongsTo:
					r.refs[rel.Name] = resolve(r, rel, fv.Value)
				case metamodel.ManyToMany:
					list, _ := fv.Value.([]any)
					for _, k := range list {
						r.many[rel.Name] = append(r.many[rel.Name], resolve(r, rel, k))
					}
				}
			}
			if e.Has(metamodel.TraitOwner) {
				if rel := e.Relation("owner"); rel != nil && rel.Kind == metamodel.BelongsTo {
					if _, set := pmValue(r.rec, "owner"); !set && defaultOwner != nil {
						r.refs["owner"] = defaultOwner
					}
				}
			}
		}
	}
	// The derived sides: hasMany / hasOne of a belongsTo, the inverse of a manyToMany.
	for _, e := range m.Entities {
		for _, rel := range e.Relations {
			if rel.Derived || rel.InverseRel == nil {
				continue
			}
			inv := rel.InverseRel
			for _, r := range w.rows[e.Name] {
				switch rel.Kind {
				case metamodel.BelongsTo:
					if target := r.refs[rel.Name]; target != nil {
						if inv.Kind == metamodel.HasOne {
							target.one[inv.Name] = r
						} else {
							target.many[inv.Name] = append(target.many[inv.Name], r)
						}
					}
				case metamodel.ManyToMany:
					for _, target := range r.many[rel.Name] {
						target.many[inv.Name] = append(target.many[inv.Name], r)
					}
				}
			}
		}
	}
	// Teams: each user's team and its sub-teams.
	kids := map[*pmRow][]*pmRow{}
	for _, tm := range w.rows["Team"] {
		if p := tm.refs["parent"]; p != nil {
			kids[p] = append(kids[p], tm)
		}
	}
	for _, u := range w.users {
		u.team = u.row.refs["team"]
		u.teams = map[*pmRow]bool{}
		queue := []*pmRow{}
		if u.team != nil {
			queue = append(queue, u.team)
		}
		for len(queue) > 0 {
			tm := queue[0]
			queue = queue[1:]
			if u.teams[tm] {
				continue
			}
			u.teams[tm] = true
			queue = append(queue, kids[tm]...)
		}
	}
	for _, name := range []string{"User", "Team"} {
		mentioned := false
		for _, role := range m.Roles {
			if _, ok := role.Permissions[name]; ok {
				mentioned = true
			}
		}
		w.implicit[name] = !mentioned
	}
	return w
}

// fieldSelection selects a field in a query: a file or image field is an object (Attachment), whose
// content hash stands for its value.
func fieldSelection(f *metamodel.Field) string {
	if f.Type.Attachment() {
		return f.GraphQLName() + " { sha256 }"
	}
	return f.GraphQLName()
}
