package enforce

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/audit"
	"github.com/crmgen/crmgen/platform/auth"
)

// Auditing: an entity with the audit trait gets one history entry per create, update, delete and
// restore, written through the mutation's own driver so it commits or rolls back with the change.

// pendingAudit is what a mutation will record once it has run.
type pendingAudit struct {
	op      string
	ids     []int
	changes []audit.Change
	byID    map[int][]audit.Change // changes of one row each (a delete's last values), instead of changes
}

// beforeAudit collects, before an update or delete runs, what its entries need: the rows' ids and, for a
// single-row update, each changed field's old value.
func (rt *Runtime) beforeAudit(ctx context.Context, info *entityInfo, m ent.Mutation, op string) (*pendingAudit, error) {
	if !info.e.Has(metamodel.TraitAudit) {
		return nil, nil
	}
	p := &pendingAudit{op: op}
	ids, err := m.(idser).IDs(ctx)
	if err != nil {
		return nil, err
	}
	p.ids = ids
	if op != audit.OpUpdate && op != audit.OpSeed {
		return p, nil
	}
	one := m.Op().Is(ent.OpUpdateOne)
	names := append(m.Fields(), m.ClearedFields()...)
	sort.Strings(names)
	seen := map[string]bool{}
	for _, name := range names {
		member, ok := info.member(name)
		if !ok || seen[member] {
			continue
		}
		seen[member] = true
		var old any
		if one {
			if old, err = m.(oldFielder).OldField(ctx, name); err != nil {
				return nil, err
			}
		}
		var now any
		if v, set := m.Field(name); set {
			now = v
		}
		if one && equalValues(old, now) {
			continue
		}
		p.changes = append(p.changes, audit.Change{Field: member, Old: jsonValue(old), New: jsonValue(now)})
	}
	p.changes = append(p.changes, edgeChanges(info, m)...)
	return p, nil
}

// lastValues records, before rows are deleted for good, the values each held: its delete entry keeps
// them as old values (with null new ones), so the history tells what was deleted.
func (rt *Runtime) lastValues(ctx context.Context, info *entityInfo, p *pendingAudit) error {
	if p == nil || len(p.ids) == 0 {
		return nil
	}
	recs, err := rt.records()
	if err != nil {
		return err
	}
	p.byID = map[int][]audit.Change{}
	read := System(IncludeDeleted(ctx))
	for _, id := range p.ids {
		obj, err := recs.Get(read, info.e.Name, id)
		if err != nil {
			if IsNotFound(err) {
				continue
			}
			return err
		}
		p.byID[id] = info.valuesOf(obj)
	}
	return nil
}

// valuesOf lists the non-null members of a loaded record (a generated ent entity struct, whose JSON names
// are the ent field names) as changes from their value to null.
func (info *entityInfo) valuesOf(obj any) []audit.Change {
	v := reflect.Indirect(reflect.ValueOf(obj))
	if v.Kind() != reflect.Struct {
		return nil
	}
	out := []audit.Change{}
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		member, ok := info.member(name)
		if !ok || !sf.IsExported() {
			continue
		}
		if old := jsonValue(v.Field(i).Interface()); old != nil {
			out = append(out, audit.Change{Field: member, Old: old})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// afterCreateAudit describes a created record: created, or seeded when ctx loads the model's data.
func afterCreateAudit(ctx context.Context, info *entityInfo, m ent.Mutation) *pendingAudit {
	if !info.e.Has(metamodel.TraitAudit) {
		return nil
	}
	id, _ := m.(interface{ ID() (int, bool) }).ID()
	p := &pendingAudit{op: audit.OpCreate, ids: []int{id}}
	if IsLoading(ctx) {
		p.op = audit.OpSeed
	}
	names := m.Fields()
	sort.Strings(names)
	for _, name := range names {
		if member, ok := info.member(name); ok {
			v, _ := m.Field(name)
			p.changes = append(p.changes, audit.Change{Field: member, New: jsonValue(v)})
		}
	}
	p.changes = append(p.changes, edgeChanges(info, m)...)
	return p
}

// member maps an ent field name to the model field or relation it records, leaving out what is not
// worth a history line (timestamps, version, deletedAt) or must never be stored twice (secrets).
func (info *entityInfo) member(entName string) (string, bool) {
	if f := info.fields[entName]; f != nil {
		if f.Secret || (f.System && f.StateOf == "") {
			return "", false
		}
		return f.Name, true
	}
	if r := info.fks[entName]; r != nil {
		return r.Name, true
	}
	return "", false
}

// edgeChanges records many-to-many additions and removals as lists of ids.
func edgeChanges(info *entityInfo, m ent.Mutation) []audit.Change {
	var out []audit.Change
	for _, r := range info.e.Relations {
		if r.Kind != metamodel.ManyToMany {
			continue
		}
		added, removed := m.AddedIDs(r.EntName()), m.RemovedIDs(r.EntName())
		if len(added) == 0 && len(removed) == 0 {
			continue
		}
		c := audit.Change{Field: r.Name}
		if len(removed) > 0 {
			c.Old = map[string]any{"removed": removed}
		}
		if len(added) > 0 {
			c.New = map[string]any{"added": added}
		}
		out = append(out, c)
	}
	return out
}

// writeAudit records the pending entries in the mutation's transaction.
func (rt *Runtime) writeAudit(ctx context.Context, info *entityInfo, m ent.Mutation, p *pendingAudit) error {
	if p == nil {
		return nil
	}
	ex, ok := m.(audit.Execer)
	if !ok {
		return fmt.Errorf("audit %s: the mutation cannot execute statements", info.e.Name)
	}
	e := audit.Entry{Entity: info.e.Name, Op: p.op, At: time.Now(), Changes: p.changes, Username: "system"}
	if pr := auth.FromContext(ctx); pr != nil {
		id := pr.ID
		e.UserID, e.Username = &id, pr.Username
	}
	if e.Changes == nil {
		e.Changes = []audit.Change{}
	}
	for _, id := range p.ids {
		e.RecordID = id
		if p.byID != nil {
			if e.Changes = p.byID[id]; e.Changes == nil {
				e.Changes = []audit.Change{}
			}
		}
		if err := audit.Write(ctx, ex, rt.Dialect, e); err != nil {
			return err
		}
	}
	return nil
}

// jsonValue turns a field value into what the history stores: pointers dereferenced, enums as their key,
// JSON documents decoded.
func jsonValue(v any) any {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	switch x := rv.Interface().(type) {
	case json.RawMessage:
		var out any
		if json.Unmarshal(x, &out) != nil {
			return nil
		}
		return out
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	if rv.Kind() == reflect.String {
		return rv.String()
	}
	return rv.Interface()
}

func equalValues(a, b any) bool {
	x, _ := json.Marshal(jsonValue(a))
	y, _ := json.Marshal(jsonValue(b))
	return string(x) == string(y)
}
