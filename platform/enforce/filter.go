package enforce

import (
	"context"
	"fmt"
	"sync"

	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/platform/auth"
)

// Guard is the ent schema annotation of a field some reader may be refused (metamodel.Restrictable): the
// generated predicates on it go through Filter. Fields without it filter as plain columns.
type Guard struct {
	// Guarded is always true: ent hands annotations to its templates as maps, and an empty map would
	// read as false there.
	Guarded bool
}

// Name implements ent's schema.Annotation.
func (Guard) Name() string { return "CrmGuard" }

// FieldDeniedError refuses a filter or a sort on a field or relation the reader may not see: hidden by
// their roles, sensitive without a role that makes it visible, or (for sorting) visible on some of their
// rows only. Which rows match a filter, or in what order rows come, would tell the value.
type FieldDeniedError struct {
	Entity, Field string
	Sort          bool
}

func (e *FieldDeniedError) Error() string {
	verb := "filter"
	if e.Sort {
		verb = "sort"
	}
	return fmt.Sprintf("cannot %s %s by %s: the field is not available to your roles", verb, e.Entity, e.Field)
}

// Filter returns p, a predicate on column of entity built by the generated where-functions (op is the
// operator's name: EQ, In, IsNil…), checked against the rules of the reader whose query it filters when
// it is applied. For the principal of the selector's context:
//   - a field or relation hidden from them, or sensitive and not visible to them, is refused (the query
//     fails with a FieldDeniedError);
//   - otherwise the predicate is evaluated on the value as they see it: a field shown on some of their
//     rows only, and a foreign key to a row they may not read, are null to them, so there the predicate
//     answers what it answers on null (IsNil true, NotNil false, any comparison unknown), whatever the
//     stored value is.
//
// The decision is on the predicate that reaches the database, after the request's variables, shapes and
// nesting are resolved: no form of the request can opt out.
func Filter(entity, column, op string, p func(*sql.Selector)) func(*sql.Selector) {
	return func(s *sql.Selector) {
		ctx := s.Context()
		rt := FromContext(ctx)
		if rt == nil {
			s.AddError(errNoRuntime)
			return
		}
		rt.filter(ctx, s, entity, column, op, p)
	}
}

func (rt *Runtime) filter(ctx context.Context, s *sql.Selector, entity, column, op string, p func(*sql.Selector)) {
	info, err := rt.entity(entity)
	if err != nil {
		s.AddError(err)
		return
	}
	member, ok := info.cols[column]
	if !ok {
		p(s) // not a member of the model (a system column): no rule applies
		return
	}
	a := rt.AccessOf(ctx, entity)
	if !a.Lists(member) {
		refuse(ctx, s, &FieldDeniedError{Entity: entity, Field: member})
		return
	}
	// visible selects the rows on which the reader sees the stored value.
	var visible []func(*sql.Selector)
	if scopes := a.PerRow[member]; scopes != nil && !a.All {
		if sp := rt.scopePredicate(auth.FromContext(ctx), info.e, scopes); sp != nil {
			visible = append(visible, sp)
		}
	}
	if r := info.fks[column]; r != nil {
		if readable := rt.readFilter(ctx, rt.entities[r.To]); readable != nil {
			visible = append(visible, func(s *sql.Selector) {
				t := sql.Table(r.Target.Table()).As(r.Target.Table() + "_readable")
				ids := sql.Dialect(s.Dialect()).Select(t.C("id")).From(t).WithContext(ctx)
				readable(ids)
				s.Where(sql.In(s.C(column), ids))
			})
		}
	}
	if len(visible) == 0 {
		p(s)
		return
	}
	onNull := "NULL"
	switch op {
	case "IsNil":
		onNull = "TRUE"
	case "NotNil":
		onNull = "FALSE"
	}
	cond, shown := collect(s, p), collect(s, visible...)
	s.Where(sql.P(func(b *sql.Builder) {
		b.WriteString("(CASE WHEN ").Join(shown).WriteString(" THEN ").Join(cond).WriteString(" ELSE " + onNull + " END)")
	}))
}

// collect applies ps to s and returns the conditions they add, as one, without adding them to s.
func collect(s *sql.Selector, ps ...func(*sql.Selector)) *sql.Predicate {
	s.CollectPredicates()
	for _, p := range ps {
		p(s)
	}
	preds := s.CollectedPredicates()
	s.UncollectedPredicates()
	switch len(preds) {
	case 0:
		return sql.Not(sql.False())
	case 1:
		return preds[0]
	}
	return sql.And(preds...)
}

// Sort checks that the principal of ctx may sort entity by column: a field they may not see, or see on
// some of their rows only, is refused with a FieldDeniedError (the order of rows would tell the values).
// The generated order fields check it when a request names them.
func (rt *Runtime) Sort(ctx context.Context, entity, column string) error {
	info, err := rt.entity(entity)
	if err != nil {
		return err
	}
	member, ok := info.cols[column]
	if !ok {
		return nil
	}
	if !rt.AccessOf(ctx, entity).Sortable(member) {
		return &FieldDeniedError{Entity: entity, Field: member, Sort: true}
	}
	return nil
}

// SortContext is Sort with the runtime of ctx; without one, nothing may be sorted.
func SortContext(ctx context.Context, entity, column string) error {
	rt := FromContext(ctx)
	if rt == nil {
		return errNoRuntime
	}
	return rt.Sort(ctx, entity, column)
}

// A refusal raised while a query is built must fail that query. ent collects a selector's errors as text
// (losing their type), and the errors of a subquery (a relation filter's) only when the SQL is rendered,
// after it last checks for them: such a query would run without the refused condition. So every query
// runs with a slot of its own in its context (the interceptor makes it), a refusal is recorded there, and
// the interceptor fails the query with it, typed, whatever ent did with the selector's errors.

type refusalCtxKey struct{}

type refusalSlot struct {
	mu  sync.Mutex
	err *FieldDeniedError
}

// withRefusalSlot gives ctx a fresh slot for the refusals of one query.
func withRefusalSlot(ctx context.Context) (context.Context, *refusalSlot) {
	slot := &refusalSlot{}
	return context.WithValue(ctx, refusalCtxKey{}, slot), slot
}

// WithRefusals gives ctx a slot for the refusals of the filters of one query that a path builds itself
// (platform/gqlwrite's compiled lists), and returns the function that reports the first of them: ent's
// selector keeps only their text.
func WithRefusals(ctx context.Context) (context.Context, func() error) {
	ctx, slot := withRefusalSlot(ctx)
	return ctx, slot.refused
}

// refuse records a refusal in the query's slot, and in the selector's errors (which fail the query even
// where no slot is, as long as ent checks them).
func refuse(ctx context.Context, s *sql.Selector, de *FieldDeniedError) {
	if slot, ok := ctx.Value(refusalCtxKey{}).(*refusalSlot); ok {
		slot.mu.Lock()
		if slot.err == nil {
			slot.err = de
		}
		slot.mu.Unlock()
	}
	s.AddError(de)
}

// refused returns the first refusal recorded in the slot, or nil.
func (r *refusalSlot) refused() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		return nil
	}
	return r.err
}
