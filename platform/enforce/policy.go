package enforce

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// Access is what one set of roles may do with one entity: the union of the roles' permissions, as
// METAMODEL.md defines it. Superusers, and every signed-in user of a model without roles, may do
// everything.
type Access struct {
	All                    bool               // everything: superuser, or a model without roles
	Read, Update, Delete   []*metamodel.Scope // the union of scopes; a ScopeAll among them means every row
	Create, Export, Import bool
	// Hidden fields and relations are absent for these roles: a field is hidden when every role that may
	// read the entity hides it.
	Hidden map[string]bool
	// Readonly fields and relations may not be written: readonly (or hidden) in every role that may update.
	Readonly map[string]bool
	// Visible sensitive fields: a role's `visible` rule shows a sensitive field in lists, search and exports.
	Visible map[string]bool
	// Masked fields are left out of lists, search and exports (a single record's detail shows them):
	// sensitive fields without a visible rule, and computed fields that read one.
	Masked map[string]bool
	// PerRow holds the fields one reading role hides and another, reading fewer rows, shows: they are
	// visible only on the rows within the scopes listed (the union of the showing roles' read scopes).
	PerRow map[string][]*metamodel.Scope
}

// none is the access of someone who may do nothing.
var none = &Access{Hidden: map[string]bool{}, Readonly: map[string]bool{}, Visible: map[string]bool{}, Masked: map[string]bool{}}

type accessKey struct{ roles, entity string }

// policies caches Access per role set and entity; the model is immutable once installed. It is read on
// every field of every response, so reads take no lock.
type policies struct {
	cache sync.Map // accessKey → *Access
}

// everything is the access of the system, and of anyone in a model without roles. Never modified.
var everything = &Access{All: true}

// AccessOf returns what the principal of ctx may do with entity. The system (data loading, workflows,
// timers) may do everything; a context without a principal may do nothing.
func (rt *Runtime) AccessOf(ctx context.Context, entity string) *Access {
	if IsSystem(ctx) {
		return everything
	}
	p := auth.FromContext(ctx)
	if p == nil {
		return none
	}
	if len(rt.Model.Roles) == 0 {
		return everything // a model without roles: every signed-in user may do everything
	}
	return rt.access(p.Roles, entity)
}

func (rt *Runtime) access(roles []string, entity string) *Access {
	key := accessKey{roleKey(roles), entity}
	if a, ok := rt.policies.cache.Load(key); ok {
		return a.(*Access)
	}
	sorted := append([]string(nil), roles...)
	sort.Strings(sorted)
	a, _ := rt.policies.cache.LoadOrStore(key, rt.computeAccess(sorted, entity))
	return a.(*Access)
}

// roleKey names a set of roles: most users hold one, which names itself without allocating.
func roleKey(roles []string) string {
	switch len(roles) {
	case 0:
		return ""
	case 1:
		return roles[0]
	}
	sorted := append([]string(nil), roles...)
	sort.Strings(sorted)
	return strings.Join(sorted, ",")
}

func (rt *Runtime) computeAccess(roles []string, entity string) *Access {
	return rt.accessRules(roles, entity, true)
}

// baseAccess is computeAccess without the restrictions computed fields inherit.
func (rt *Runtime) baseAccess(roles []string, entity string) *Access {
	return rt.accessRules(roles, entity, false)
}

func (rt *Runtime) accessRules(roles []string, entity string, computed bool) *Access {
	m := rt.Model
	if len(m.Roles) == 0 {
		return &Access{All: true} // a model without roles: every signed-in user may do everything
	}
	a := &Access{Hidden: map[string]bool{}, Readonly: map[string]bool{}, Visible: map[string]bool{},
		Masked: map[string]bool{}, PerRow: map[string][]*metamodel.Scope{}}
	var readers, updaters []*metamodel.Permission
	for _, name := range roles {
		r := m.Role(name)
		if r == nil {
			continue // a role the model no longer has grants nothing
		}
		if r.Superuser {
			return &Access{All: true}
		}
		p := r.Permissions[entity]
		if p == nil {
			continue
		}
		if granted(p.Read) {
			a.Read = append(a.Read, p.Read)
			readers = append(readers, p)
		}
		if granted(p.Update) {
			a.Update = append(a.Update, p.Update)
			updaters = append(updaters, p)
		}
		if granted(p.Delete) {
			a.Delete = append(a.Delete, p.Delete)
		}
		a.Create = a.Create || p.Create
		a.Export = a.Export || p.Export
		a.Import = a.Import || p.Import
		for f, rule := range p.Fields {
			if rule == metamodel.AccessVisible {
				a.Visible[f] = true
			}
		}
	}
	// Everyone signed in may look up users and teams (to see who owns a record, to pick an assignee)
	// unless the model's roles say who may.
	if (entity == "User" || entity == "Team") && !rt.rolesMention(entity) {
		a.Read = append(a.Read, &metamodel.Scope{Kind: metamodel.ScopeAll})
	}
	for _, name := range rt.memberNames(entity) {
		var shown []*metamodel.Scope
		hiders := 0
		for _, p := range readers {
			if p.Fields[name] == metamodel.AccessHidden {
				hiders++
			} else {
				shown = append(shown, p.Read)
			}
		}
		switch {
		case len(readers) > 0 && len(shown) == 0:
			a.Hidden[name] = true
		case hiders > 0 && !rowsAll(shown):
			a.PerRow[name] = shown
		}
		if len(updaters) > 0 && all(updaters, func(p *metamodel.Permission) bool {
			rule := p.Fields[name]
			return rule == metamodel.AccessReadonly || rule == metamodel.AccessHidden
		}) {
			a.Readonly[name] = true
		}
	}
	if e := m.Entity(entity); e != nil {
		for _, f := range e.Fields {
			if f.Sensitive && !a.Visible[f.Name] {
				a.Masked[f.Name] = true
			}
		}
		if computed {
			rt.restrictComputed(roles, e, a)
		}
	}
	return a
}

// restrictComputed makes every computed field of e at least as restricted as what it reads: hidden when
// a member it reads is hidden or shown on some rows only (here or through a relation), masked when one is
// masked. Without it, `computed: record.ssn` would show what the field rule hides.
func (rt *Runtime) restrictComputed(roles []string, e *metamodel.Entity, a *Access) {
	others := map[string]*Access{e.Name: a}
	accessOf := func(entity string) *Access {
		if x, ok := others[entity]; ok {
			return x
		}
		// One level through a relation: the related entity's own rules, without its computed fields
		// (an expression reads a related record's stored fields only).
		x := rt.baseAccess(roles, entity)
		others[entity] = x
		return x
	}
	for changed := true; changed; {
		changed = false
		for _, f := range e.Fields {
			if f.Computed.IsZero() || a.Hidden[f.Name] {
				continue
			}
			for _, r := range rt.Model.ExprReads(e, f.Computed) {
				x := accessOf(r.Entity)
				if x.All {
					continue
				}
				switch {
				case x.Hidden[r.Member] || x.PerRow[r.Member] != nil:
					a.Hidden[f.Name], changed = true, true
				case x.Masked[r.Member] && !a.Masked[f.Name]:
					a.Masked[f.Name], changed = true, true
				}
			}
		}
	}
}

func granted(s *metamodel.Scope) bool {
	return s != nil && s.Kind != "" && s.Kind != metamodel.ScopeNone
}

func all(ps []*metamodel.Permission, f func(*metamodel.Permission) bool) bool {
	for _, p := range ps {
		if !f(p) {
			return false
		}
	}
	return true
}

// rolesMention reports whether any role of the model declares permissions for entity.
func (rt *Runtime) rolesMention(entity string) bool {
	for _, r := range rt.Model.Roles {
		if _, ok := r.Permissions[entity]; ok {
			return true
		}
	}
	return false
}

// memberNames lists an entity's fields and relations.
func (rt *Runtime) memberNames(entity string) []string {
	e := rt.Model.Entity(entity)
	if e == nil {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Name)
	}
	for _, r := range e.Relations {
		out = append(out, r.Name)
	}
	return out
}

// Hidden reports whether field (a field or relation name) of entity is hidden from the principal of ctx
// on every row.
func (rt *Runtime) Hidden(ctx context.Context, entity, field string) bool {
	a := rt.AccessOf(ctx, entity)
	return !a.All && a.Hidden[field]
}

// PerRow reports whether field of entity is visible to the principal of ctx on some rows only (their
// roles disagree about it); VisibleOn then decides per row. Filters on it match on those rows only, and
// rows cannot be sorted by it.
func (rt *Runtime) PerRow(ctx context.Context, entity, field string) bool {
	a := rt.AccessOf(ctx, entity)
	return !a.All && a.PerRow[field] != nil
}

// VisibleOn reports whether field is visible on the row id of entity to the principal of ctx.
func (rt *Runtime) VisibleOn(ctx context.Context, entity, field string, id int) (bool, error) {
	a := rt.AccessOf(ctx, entity)
	if a.All {
		return true, nil
	}
	if a.Hidden[field] {
		return false, nil
	}
	scopes := a.PerRow[field]
	if scopes == nil {
		return true, nil
	}
	return rt.rowIn(ctx, entity, id, scopes)
}

// ShownWhere returns the predicate selecting the rows of entity on which field, shown to the principal of
// ctx on some rows only (PerRow), is shown; nil when no row decides it (shown on all or, see Hidden, on
// none). It is VisibleOn for paths that write their own SQL (platform/gqlwrite's compiled lists).
func (rt *Runtime) ShownWhere(ctx context.Context, entity, field string) func(*sql.Selector) {
	a := rt.AccessOf(ctx, entity)
	if a.All || a.Hidden[field] || a.PerRow[field] == nil {
		return nil
	}
	return rt.scopePredicate(auth.FromContext(ctx), rt.Model.Entity(entity), a.PerRow[field])
}

// Readable reports whether the row id of entity exists and may be read by the principal of ctx.
func (rt *Runtime) Readable(ctx context.Context, entity string, id int) (bool, error) {
	if rt.everyRow(rt.AccessOf(ctx, entity), entity) {
		return true, nil
	}
	return rt.rowIn(ctx, entity, id, nil)
}

// ReadsEveryRow reports whether a user holding roles reads every existing row of entity, so that asking
// whether they may read one row that exists needs no query (no row scope, no soft delete, no parent that
// hides it). Notifications ask it for each recipient of a change.
func (rt *Runtime) ReadsEveryRow(roles []string, entity string) bool {
	a := everything
	if len(rt.Model.Roles) > 0 {
		a = rt.access(roles, entity)
	}
	return rt.everyRow(a, entity)
}

func (rt *Runtime) everyRow(a *Access, entity string) bool {
	if !a.All && !rowsAll(a.Read) {
		return false
	}
	e, info := rt.Model.Entity(entity), rt.entities[entity]
	return e != nil && info != nil && !e.Has(metamodel.TraitSoftDelete) && info.hiddenWithParent == nil
}

// rowIn reports whether row id of entity is readable in ctx and, with scopes, within them. Answers are
// cached for the request (see WithRowCache).
func (rt *Runtime) rowIn(ctx context.Context, entity string, id int, scopes []*metamodel.Scope) (bool, error) {
	key := rowKey{entity: entity, id: id, scopes: fmt.Sprint(scopeKeys(scopes))}
	cache, _ := ctx.Value(rowCacheKey).(*rowCache)
	if cache != nil {
		cache.mu.Lock()
		v, ok := cache.m[key]
		cache.mu.Unlock()
		if ok {
			return v, nil
		}
	}
	var preds []func(*sql.Selector)
	if scopes != nil {
		e := rt.Model.Entity(entity)
		if p := rt.scopePredicate(auth.FromContext(ctx), e, scopes); p != nil {
			preds = append(preds, p)
		}
	}
	ok, err := rt.Backend.Exists(ctx, entity, id, preds...)
	if err != nil {
		return false, err
	}
	if cache != nil {
		cache.mu.Lock()
		cache.m[key] = ok
		cache.mu.Unlock()
	}
	return ok, nil
}

type rowKey struct {
	entity string
	id     int
	scopes string
}

type rowCache struct {
	mu sync.Mutex
	m  map[rowKey]bool
}

type rowCacheCtxKey struct{}

var rowCacheKey rowCacheCtxKey

// WithRowCache gives ctx a cache of per-row visibility answers, for one request.
func WithRowCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, rowCacheKey, &rowCache{m: map[rowKey]bool{}})
}

func scopeKeys(scopes []*metamodel.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = fmt.Sprintf("%s:%s:%s:%v", s.Kind, s.Field, s.Equals, s.Subteams)
	}
	sort.Strings(out)
	return out
}

// nothing is the predicate that selects no row.
func nothing(s *sql.Selector) { s.Where(sql.False()) }

// Masked reports whether field of entity is sensitive and the principal of ctx has no role that makes it
// visible: such a field is left out of lists, search (filters, sorting) and exports, though a single
// record's detail shows it.
func (rt *Runtime) Masked(ctx context.Context, entity, field string) bool {
	e := rt.Model.Entity(entity)
	if e == nil {
		return false
	}
	a := rt.AccessOf(ctx, entity)
	return !a.All && a.Masked[field]
}

// rowsAll reports whether scopes cover every row.
func rowsAll(scopes []*metamodel.Scope) bool {
	for _, s := range scopes {
		if s.Kind == metamodel.ScopeAll {
			return true
		}
	}
	return false
}

// scopePredicate returns the SQL predicate selecting the rows of e that scopes grant to p, or nil when they
// grant every row. No scope at all selects nothing.
func (rt *Runtime) scopePredicate(p *auth.Principal, e *metamodel.Entity, scopes []*metamodel.Scope) func(*sql.Selector) {
	if rowsAll(scopes) {
		return nil
	}
	users := rt.Model.Entity("User")
	return func(s *sql.Selector) {
		var preds []*sql.Predicate
		for _, sc := range scopes {
			switch sc.Kind {
			case metamodel.ScopeOwn:
				if r := e.Relation(e.OwnerField); r != nil && p != nil {
					preds = append(preds, sql.EQ(s.C(r.FKColumn()), p.ID))
				}
			case metamodel.ScopeTeam:
				r := e.Relation(e.OwnerField)
				if r == nil || p == nil || len(p.Teams) == 0 || users == nil {
					continue
				}
				team := users.Relation("team")
				if team == nil {
					continue
				}
				members := sql.Select(sql.Table(users.Table()).C("id")).From(sql.Table(users.Table())).
					Where(sql.InInts(team.FKColumn(), p.Teams...))
				preds = append(preds, sql.In(s.C(r.FKColumn()), members))
			case metamodel.ScopeField:
				r := e.Relation(sc.Field)
				if r == nil || p == nil {
					continue
				}
				switch {
				case sc.Equals == "user.id":
					preds = append(preds, sql.EQ(s.C(r.FKColumn()), p.ID))
				case sc.Subteams && len(p.Teams) > 0:
					preds = append(preds, sql.InInts(s.C(r.FKColumn()), p.Teams...))
				case p.Team != 0:
					preds = append(preds, sql.EQ(s.C(r.FKColumn()), p.Team))
				}
			}
		}
		if len(preds) == 0 {
			nothing(s)
			return
		}
		s.Where(sql.Or(preds...))
	}
}

// The questions every path asks of an Access, answered once here: the API's filters and sorts, the
// response's fields, and the admin screens' columns, filters, forms and buttons.

// MayRead reports whether any row may be read.
func (a *Access) MayRead() bool { return a.All || len(a.Read) > 0 }

// MayCreate, MayUpdate, MayDelete and MayExport report whether the verb is granted on some rows.
func (a *Access) MayCreate() bool { return a.All || a.Create }
func (a *Access) MayUpdate() bool { return a.All || len(a.Update) > 0 }
func (a *Access) MayDelete() bool { return a.All || len(a.Delete) > 0 }
func (a *Access) MayExport() bool { return a.All || a.Export }

// MayImport reports whether records may be created in bulk from a file (the admin's CSV import). Each
// imported row is still a create the API decides on, so the create right and the field rules apply too.
func (a *Access) MayImport() bool { return a.All || a.Import }

// Shows reports whether a member (field or relation) is shown at all: on a single record's detail, and on
// every row of a list unless Lists says otherwise.
func (a *Access) Shows(member string) bool { return a.All || !a.Hidden[member] }

// Lists reports whether a member is shown in lists, search, filters and exports: shown, and not a masked
// sensitive field (or a computed one that reads it). Filtering on a member needs it.
func (a *Access) Lists(member string) bool { return a.All || (!a.Hidden[member] && !a.Masked[member]) }

// Sortable reports whether rows may be sorted by a member: listed, and shown on every readable row (the
// order of rows would tell the value on the others).
func (a *Access) Sortable(member string) bool {
	return a.All || (a.Lists(member) && a.PerRow[member] == nil)
}

// Writable reports whether an update may set a member.
func (a *Access) Writable(member string) bool {
	return a.All || (!a.Hidden[member] && !a.Readonly[member])
}

// Searchable lists the `search` fields of entity the reader of ctx may search by: those they may sort by
// (listed, and shown on every row they read), since a match on a field tells its value. The API's search
// argument and the admin's search box match only these.
func (rt *Runtime) Searchable(ctx context.Context, entity string) []string {
	e := rt.Model.Entity(entity)
	if e == nil {
		return nil
	}
	a := rt.AccessOf(ctx, entity)
	var out []string
	for _, f := range e.Fields {
		if f.Search && !f.Secret && a.MayRead() && a.Sortable(f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}
