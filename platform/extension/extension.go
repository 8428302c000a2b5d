// Package extension is where an application's own Go code plugs into the platform: the code a team
// writes beside its model, in the app's user-owned extend/ package, which generation creates once and
// never rewrites. That package registers its hooks from an init function; the generated main imports it,
// so they are in place before the first request.
//
// Hooks run inside the one enforcement point (platform/enforce), for every path that writes records
// (GraphQL, admin screens, imports, data loading, automations and jobs), after the write has been
// authorized and in the write's transaction: a hook's error rolls the whole write back. A hook refuses a
// write with Refuse, which names a field and says why in the users' languages; any other error is a
// failure with no words for users (the API answers INTERNAL and logs it).
package extension

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/crmgen/crmgen/metamodel"
)

// Op is the kind of write a hook sees.
type Op string

// The kinds of write.
const (
	Create Op = "create"
	Update Op = "update"
	Delete Op = "delete"
)

// Hook is custom code run with a write of one entity.
type Hook func(ctx context.Context, w *Write) error

// Record is the write as the enforcement point exposes it to hooks; enforce implements it over the ent
// mutation, with model field names and plain values.
type Record interface {
	// Value returns the value field will have once the write is done: the one the write sets, else the
	// stored one (updates of one record), and false when there is none.
	Value(ctx context.Context, field string) (any, bool, error)
	// Sets reports whether the write itself sets field.
	Sets(field string) bool
	// Set makes the write set field to v (see Write.Set for the accepted values).
	Set(field string, v any) error
	// ID is the record's id: known for updates and deletes of one record, and for creates after the write.
	ID() (int, bool)
}

// Write is one write of a record, as a hook sees it.
type Write struct {
	Entity string
	Op     Op
	rec    Record
	ctx    context.Context
}

// Get returns the value field will have once the write is done, and false when it has none. Values are
// plain: strings (enum keys too), int, float64, bool, time.Time for dates and datetimes.
func (w *Write) Get(field string) (any, bool, error) { return w.rec.Value(w.ctx, field) }

// String returns a string field's value once the write is done, or "" when it has none.
func (w *Write) String(field string) (string, error) {
	v, ok, err := w.rec.Value(w.ctx, field)
	if err != nil || !ok {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// Sets reports whether the write itself sets field (on create: the caller gave it, or a default did).
func (w *Write) Sets(field string) bool { return w.rec.Sets(field) }

// Set makes the write set field: in BeforeWrite hooks only, where the value is then validated like the
// caller's own. An enum takes its key, a date or datetime a time.Time or a "2006-01-02" string (read in
// the app's time zone), an int any Go int.
func (w *Write) Set(field string, v any) error { return w.rec.Set(field, v) }

// ID is the record's id, or 0 while unknown (a create before it is written, an update of many).
func (w *Write) ID() int {
	id, _ := w.rec.ID()
	return id
}

// FieldError refuses a write because of one field's value. Message is what users read, in their
// language (METAMODEL.md's label form: locale → text); Rule is a short machine-readable name of the
// check ("checksum"), which the API reports in the error's extensions.
type FieldError struct {
	Field   string
	Rule    string
	Message metamodel.Text
}

func (e *FieldError) Error() string {
	msg := e.Message["en"]
	if msg == "" {
		for _, l := range sortedKeys(e.Message) {
			msg = e.Message[l]
			break
		}
	}
	return fmt.Sprintf("%s: %s (%s)", e.Field, msg, e.Rule)
}

// Refuse returns the error a hook returns to refuse a write because of field: users see message in their
// language at that field, and nothing of the write is kept.
func Refuse(field, rule string, message metamodel.Text) error {
	return &FieldError{Field: field, Rule: rule, Message: message}
}

// registry holds what the app's extend package registered.
type registry struct {
	mu            sync.RWMutex
	before, after map[string][]Hook
	funcs         map[string]*fn
	actions       map[string]ActionFunc
}

var reg = &registry{before: map[string][]Hook{}, after: map[string][]Hook{}, funcs: map[string]*fn{}}

// BeforeWrite registers h to run before each write of entity (create, update, delete), after the
// platform has authorized it and filled its defaults, and before it validates it: values h sets are
// validated like the caller's. Hooks of one entity run in the order they were registered.
func BeforeWrite(entity string, h Hook) { reg.add(reg.before, entity, h) }

// AfterWrite registers h to run after each write of entity has been made, in the same transaction: the
// record's id is known, and h's error still rolls the write back.
func AfterWrite(entity string, h Hook) { reg.add(reg.after, entity, h) }

func (r *registry) add(to map[string][]Hook, entity string, h Hook) {
	r.mu.Lock()
	defer r.mu.Unlock()
	to[entity] = append(to[entity], h)
}

// Has reports whether any hook is registered for entity, so the enforcement point skips building a
// Write for the others.
func Has(entity string) bool {
	reg.mu.RLock()
	defer reg.mu.RUnlock()
	return len(reg.before[entity]) > 0 || len(reg.after[entity]) > 0
}

// RunBefore runs entity's BeforeWrite hooks on a write; the enforcement point calls it.
func RunBefore(ctx context.Context, entity string, op Op, rec Record) error {
	return run(ctx, reg.before, entity, op, rec)
}

// RunAfter runs entity's AfterWrite hooks on a write that has been made; the enforcement point calls it.
func RunAfter(ctx context.Context, entity string, op Op, rec Record) error {
	return run(ctx, reg.after, entity, op, rec)
}

func run(ctx context.Context, from map[string][]Hook, entity string, op Op, rec Record) error {
	reg.mu.RLock()
	hooks := from[entity]
	reg.mu.RUnlock()
	w := &Write{Entity: entity, Op: op, rec: rec, ctx: ctx}
	for _, h := range hooks {
		if err := h(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// Check reports registrations that do not fit the model — hooks of an entity it does not have, functions it
// does not declare or declares otherwise, actions it runs that nobody registered — so an app whose custom code and model have drifted apart
// refuses to start, naming each problem, rather than silently skip that code.
func Check(m *metamodel.Model) error {
	reg.mu.RLock()
	defer reg.mu.RUnlock()
	var unknown []string
	for _, set := range []map[string][]Hook{reg.before, reg.after} {
		for name := range set {
			if m.Entity(name) == nil && !slices.Contains(unknown, name) {
				unknown = append(unknown, name)
			}
		}
	}
	sort.Strings(unknown)
	var problems []string
	if len(unknown) > 0 {
		problems = append(problems, fmt.Sprintf("hooks are registered for entities the model does not have: %s", strings.Join(unknown, ", ")))
	}
	problems = append(problems, checkFunctions(m)...)
	problems = append(problems, checkActions(m)...)
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("extend: the app's own code does not fit its model:\n  %s", strings.Join(problems, "\n  "))
}

func sortedKeys(t metamodel.Text) []string {
	out := make([]string, 0, len(t))
	for k := range t {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
