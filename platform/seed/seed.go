// Package seed loads a model's `data` section — demo and reference records — into an empty database,
// through the ent client, so every validation hook applies. It runs as the system, in one transaction:
// either all of the data loads or none of it does.
package seed

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
)

// Writer is the generic record access the generated backend provides. Values are keyed by model field
// name (plain Go values: string, int, float64, bool, time.Time, json.RawMessage), belongsTo relations by
// their foreign-key name ("customerID") with an int, manyToMany relations by name with []int.
type Writer interface {
	OpenTx(ctx context.Context) (context.Context, driver.Tx, error)
	Count(ctx context.Context, entity string) (int, error)
	Create(ctx context.Context, entity string, values map[string]any) (int, error)
	Update(ctx context.Context, entity string, id int, values map[string]any) error
}

// LoadIfEmpty loads the model's data when the database holds no record yet — no user and no record of any
// entity — and returns how many records it created. A database that holds anything is never loaded
// again: not on a restart, not after a model change adds data, and not when the data has no users (a
// count of users alone would reload reference data on every start).
func LoadIfEmpty(ctx context.Context, m *metamodel.Model, w Writer) (int, error) {
	if m.Data == nil {
		return 0, nil
	}
	sys := enforce.System(ctx)
	for _, e := range append([]string{"User"}, entityNames(m)...) {
		n, err := w.Count(sys, e)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, nil
		}
	}
	return Load(ctx, m, w)
}

// entityNames lists the model's entities other than User, in model order.
func entityNames(m *metamodel.Model) []string {
	var out []string
	for _, e := range m.Entities {
		if e.Name != "User" {
			out = append(out, e.Name)
		}
	}
	return out
}

// Load loads the model's data in one transaction.
func Load(ctx context.Context, m *metamodel.Model, w Writer) (count int, err error) {
	if m.Data == nil {
		return 0, nil
	}
	txCtx, tx, err := w.OpenTx(enforce.Loading(enforce.System(ctx)))
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	l := &loader{m: m, w: w, keys: map[string]map[string]int{}}
	for _, s := range l.order() {
		for i, r := range s.records {
			if err := l.create(txCtx, s.entity, i, r); err != nil {
				return 0, err
			}
			count++
		}
	}
	for _, p := range l.pending {
		id, ok := l.resolve(p.target, p.key)
		if !ok {
			return 0, fmt.Errorf("data %s: %s: no %s with key %q", p.where, p.relation.Name, p.target, p.key)
		}
		if err := w.Update(txCtx, p.relation.Entity.Name, p.id, map[string]any{p.relation.FKField(): id}); err != nil {
			return 0, fmt.Errorf("data %s: %w", p.where, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return count, nil
}

type set struct {
	entity  *metamodel.Entity
	records []*metamodel.Record
	users   bool
}

// pendingRef is a belongsTo reference to a record loaded later, set once everything is created.
type pendingRef struct {
	where    string
	relation *metamodel.Relation
	id       int
	target   string
	key      string
}

type loader struct {
	m       *metamodel.Model
	w       Writer
	keys    map[string]map[string]int // entity → _key, unique value or username → id
	pending []pendingRef
	// owner is the user that owns records whose data names no owner: the first superuser, else the
	// first user.
	owner        int
	ownerIsSuper bool
}

// order loads teams first (users belong to them), then users (everything else may be owned by them), then
// the other entities in the model's order.
func (l *loader) order() []set {
	var out []set
	for _, s := range l.m.Data.Sets {
		if s.Entity == "Team" {
			out = append(out, set{entity: l.m.Entity("Team"), records: s.Records})
		}
	}
	if len(l.m.Data.Users) > 0 {
		out = append(out, set{entity: l.m.Entity("User"), records: l.m.Data.Users, users: true})
	}
	for _, s := range l.m.Data.Sets {
		if s.Entity != "Team" {
			out = append(out, set{entity: l.m.Entity(s.Entity), records: s.Records})
		}
	}
	return out
}

func (l *loader) remember(entity, key string, id int) {
	if l.keys[entity] == nil {
		l.keys[entity] = map[string]int{}
	}
	if _, dup := l.keys[entity][key]; !dup {
		l.keys[entity][key] = id
	}
}

func (l *loader) resolve(entity, key string) (int, bool) {
	id, ok := l.keys[entity][key]
	return id, ok
}

func (l *loader) create(ctx context.Context, e *metamodel.Entity, i int, r *metamodel.Record) error {
	where := fmt.Sprintf("%s[%d]", e.Name, i)
	if r.Key != "" {
		where += fmt.Sprintf(" (_key %q)", r.Key)
	}
	values := map[string]any{}
	var deferred []pendingRef
	hasOwner := false
	for _, fv := range r.Values {
		if e.Name == "User" && fv.Name == "password" {
			s, _ := fv.Value.(string)
			hash, err := auth.HashPassword(s)
			if err != nil {
				return fmt.Errorf("data %s: %w", where, err)
			}
			values["passwordHash"] = hash
			continue
		}
		if f := e.Field(fv.Name); f != nil {
			v, err := convert(f, fv.Value, l.m.App.Location())
			if err != nil {
				return fmt.Errorf("data %s: %s.%s: %w", where, e.Name, f.Name, err)
			}
			values[f.Name] = v
			continue
		}
		rel := e.Relation(fv.Name)
		if rel == nil {
			return fmt.Errorf("data %s: %s has no field or relation %q", where, e.Name, fv.Name)
		}
		switch rel.Kind {
		case metamodel.BelongsTo:
			if fv.Value == nil {
				continue
			}
			key := fmt.Sprint(fv.Value)
			if rel.Name == "owner" {
				hasOwner = true
			}
			if id, ok := l.resolve(rel.To, key); ok {
				values[rel.FKField()] = id
			} else {
				deferred = append(deferred, pendingRef{where: where, relation: rel, target: rel.To, key: key})
			}
		case metamodel.ManyToMany:
			list, _ := fv.Value.([]any)
			ids := make([]int, 0, len(list))
			for _, k := range list {
				id, ok := l.resolve(rel.To, fmt.Sprint(k))
				if !ok {
					return fmt.Errorf("data %s: %s: no %s with key %q (records referenced in a list load first)", where, rel.Name, rel.To, fmt.Sprint(k))
				}
				ids = append(ids, id)
			}
			values[rel.Name] = ids
		default:
			return fmt.Errorf("data %s: %s.%s is the inverse side of %s.%s; set it there", where, e.Name, rel.Name, rel.To, rel.Inverse)
		}
	}
	if !hasOwner && e.Has(metamodel.TraitOwner) && l.owner != 0 {
		if rel := e.Relation("owner"); rel != nil && rel.Kind == metamodel.BelongsTo {
			values[rel.FKField()] = l.owner
		}
	}
	id, err := l.w.Create(ctx, e.Name, values)
	if err != nil {
		return fmt.Errorf("data %s: %w", where, err)
	}
	for i := range deferred {
		deferred[i].id = id
	}
	l.pending = append(l.pending, deferred...)
	if r.Key != "" {
		l.remember(e.Name, r.Key, id)
	}
	// Records may also be referenced by any unique string field (User by username).
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if f := e.Field(n); f != nil && f.Unique {
			if s, ok := values[n].(string); ok {
				l.remember(e.Name, s, id)
			}
		}
	}
	if e.Name == "User" {
		super := l.isSuperuser(r)
		if l.owner == 0 || (super && !l.ownerIsSuper) {
			l.owner, l.ownerIsSuper = id, super
		}
	}
	return nil
}

// isSuperuser reports whether a user record holds a superuser role.
func (l *loader) isSuperuser(r *metamodel.Record) bool {
	for _, fv := range r.Values {
		if fv.Name != "roles" {
			continue
		}
		list, _ := fv.Value.([]any)
		for _, name := range list {
			if role := l.m.Role(fmt.Sprint(name)); role != nil && role.Superuser {
				return true
			}
		}
	}
	return false
}

// convert turns a data value (as the model holds it) into the plain Go value of the field's type. A date or
// time written without an offset is one of loc, the app's zone.
func convert(f *metamodel.Field, v any, loc *time.Location) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Type {
	case metamodel.TypeInt:
		switch x := v.(type) {
		case int64:
			return int(x), nil
		case float64:
			return int(x), nil
		}
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		}
	case metamodel.TypeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case metamodel.TypeDate, metamodel.TypeDateTime:
		if s, ok := v.(string); ok {
			return enforce.ParseTime(s, loc)
		}
	case metamodel.TypeJSON:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(b), nil
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return fmt.Sprint(v), nil
	}
	return nil, fmt.Errorf("value %v (%T) does not fit type %s", v, v, f.Type)
}
