package enforce

import (
	"context"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

type idser interface {
	IDs(ctx context.Context) ([]int, error)
}

// authorize checks a mutation against the principal's access before anything runs: create needs the
// create right; update and delete need the row to be readable (else it is "not found") and within the
// verb's scope (else "forbidden"); no hidden or (on update) readonly field or relation may be written.
func (rt *Runtime) authorize(ctx context.Context, info *entityInfo, a *Access, m ent.Mutation) error {
	if a.All {
		return nil
	}
	e := info.e
	switch {
	case m.Op().Is(ent.OpCreate):
		if !a.Create {
			return &ForbiddenError{Entity: e.Name, Action: "create"}
		}
	case m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) && restoring(ctx):
		return rt.authorizeRows(ctx, info, a.Delete, m, "restore")
	case m.Op().Is(ent.OpUpdate | ent.OpUpdateOne):
		if err := rt.authorizeRows(ctx, info, a.Update, m, "update"); err != nil {
			return err
		}
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
		return rt.authorizeRows(ctx, info, a.Delete, m, "delete")
	}
	return rt.authorizeWrites(info, a, m)
}

// authorizeRows limits an update or delete to the rows the verb's scopes grant. For one row, a row the
// principal cannot read is not found and a readable row outside the scope is forbidden; for many rows the
// scope becomes part of the statement.
func (rt *Runtime) authorizeRows(ctx context.Context, info *entityInfo, scopes []*metamodel.Scope, m ent.Mutation, action string) error {
	e := info.e
	pred := rt.scopePredicate(auth.FromContext(ctx), e, scopes)
	if len(scopes) == 0 {
		pred = nothing
	}
	if m.Op().Is(ent.OpUpdateOne | ent.OpDeleteOne) {
		ids, err := m.(idser).IDs(ctx) // for a delete this queries, through the read interceptor
		if err != nil {
			return err
		}
		if len(ids) != 1 {
			return &NotFoundError{Entity: e.Name}
		}
		if ok, err := rt.Backend.Exists(ctx, e.Name, ids[0]); err != nil {
			return err
		} else if !ok {
			return &NotFoundError{Entity: e.Name}
		}
		if pred != nil {
			if ok, err := rt.Backend.Exists(ctx, e.Name, ids[0], pred); err != nil {
				return err
			} else if !ok {
				return &ForbiddenError{Entity: e.Name, Action: action}
			}
		}
	}
	if pred != nil {
		m.(predicater).WhereP(pred)
	}
	if rp := rt.readPredicate(ctx, e); rp != nil {
		m.(predicater).WhereP(rp)
	}
	return nil
}

// authorizeWrites refuses writes of hidden fields and relations, and on update of readonly ones.
func (rt *Runtime) authorizeWrites(info *entityInfo, a *Access, m ent.Mutation) error {
	update := !m.Op().Is(ent.OpCreate)
	var errs []*FieldError
	check := func(name string) {
		if a.Hidden[name] || (update && a.Readonly[name]) {
			errs = append(errs, &FieldError{Entity: info.e.Name, Field: name, Rule: RuleReadonly,
				Msg: "is not writable with your roles"})
		}
	}
	seen := map[string]bool{}
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		name := ""
		if fd := info.fields[f]; fd != nil {
			name = fd.Name
		} else if r := info.fks[f]; r != nil {
			name = r.Name
		}
		if name != "" && !seen[name] {
			seen[name] = true
			check(name)
		}
	}
	for _, edges := range [][]string{m.AddedEdges(), m.RemovedEdges(), m.ClearedEdges()} {
		for _, edge := range edges {
			if r := info.edges[edge]; r != nil && !seen[r.Name] {
				seen[r.Name] = true
				check(r.Name)
			}
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

// stampOwner makes the creator the owner of a new record of an entity with the owner trait, unless the
// mutation names an owner. When the entity's "own" is another User relation (ownerField: physician) and
// the creator reads the entity only as "own", that relation is stamped too: a physician who registers a
// patient is its physician, and would otherwise lose sight of the record they just created. It returns
// the owner relations the mutation set to another user, which checkHandover checks once the record exists.
func (rt *Runtime) stampOwner(ctx context.Context, info *entityInfo, m ent.Mutation) ([]*metamodel.Relation, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, nil
	}
	var handover []*metamodel.Relation
	stamp := func(r *metamodel.Relation, set bool) error {
		if r == nil || r.Kind != metamodel.BelongsTo || r.To != "User" {
			return nil
		}
		if v, given := m.Field(r.FKColumn()); given {
			if id, _ := v.(int); id != p.ID {
				handover = append(handover, r)
			}
			return nil
		}
		if !set {
			return nil
		}
		return m.SetField(r.FKColumn(), p.ID)
	}
	if info.e.Has(metamodel.TraitOwner) {
		if err := stamp(info.e.Relation("owner"), true); err != nil {
			return nil, err
		}
	}
	if of := info.e.OwnerField; of != "" && of != "owner" {
		a := rt.AccessOf(ctx, info.e.Name)
		onlyOwn := !a.All && len(a.Read) > 0
		for _, s := range a.Read {
			onlyOwn = onlyOwn && s.Kind == metamodel.ScopeOwn
		}
		if err := stamp(info.e.Relation(of), onlyOwn); err != nil {
			return nil, err
		}
	}
	return handover, nil
}

// checkHandover lets a creator make another user the owner of a new record (owner, or the entity's
// ownerField) only when their roles would let them hand the record over: the record, as it is about to be
// created, must be within their update scope. A physician who may update only their own patients cannot
// register a patient as another physician's; a department head who updates the team's patients can. It
// runs before the insert, so a refusal writes nothing, with or without a transaction: the update scope's
// one predicate (scopePredicate) is evaluated on the new record's keys, as a one-row table.
func (rt *Runtime) checkHandover(ctx context.Context, info *entityInfo, m ent.Mutation, handover []*metamodel.Relation) error {
	if len(handover) == 0 {
		return nil
	}
	a := rt.AccessOf(ctx, info.e.Name)
	if a.All || rowsAll(a.Update) {
		return nil
	}
	ok := false
	if len(a.Update) > 0 {
		var err error
		if ok, err = rt.newRowIn(ctx, info, m, a.Update); err != nil {
			return err
		}
	}
	if ok {
		return nil
	}
	errs := make([]*FieldError, len(handover))
	for i, r := range handover {
		errs[i] = &FieldError{Entity: info.e.Name, Field: r.Name, Rule: RuleOwner,
			Msg: "must be you: your roles may not hand records over to other users"}
	}
	return &ValidationError{Fields: errs}
}

// newRowIn reports whether the record a create mutation is about to insert is within scopes, judged on
// its foreign keys (what every row scope looks at).
func (rt *Runtime) newRowIn(ctx context.Context, info *entityInfo, m ent.Mutation, scopes []*metamodel.Scope) (bool, error) {
	q, ok := m.(querier)
	if !ok {
		return false, fmt.Errorf("enforce: the %s mutation cannot run queries", info.e.Name)
	}
	b := sql.Dialect(rt.Dialect)
	row := b.Select()
	for _, r := range info.e.Relations {
		if r.Kind != metamodel.BelongsTo {
			continue
		}
		var v any
		if x, set := m.Field(r.FKColumn()); set {
			v = x
		}
		row.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("CAST(").Arg(v).WriteString(" AS BIGINT)")
		}), r.FKColumn())
	}
	// The one-row table takes the entity's table name (WITH shadows the real table), so the predicate's
	// column references read the new row.
	with := sql.Dialect(rt.Dialect).With(info.e.Table()).As(row)
	t := b.Select().From(b.Table(info.e.Table())).Prefix(with)
	t.AppendSelectExpr(sql.Expr("1"))
	if p := rt.scopePredicate(auth.FromContext(ctx), info.e, scopes); p != nil {
		p(t)
	}
	query, args := t.Query()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	return rows.Next(), rows.Err()
}

// CanUpdate reports, as an error, whether the principal of ctx may update the record id of entity: nil,
// a NotFoundError when they cannot read it, or a ForbiddenError when it is outside their update scope.
// Operations that change a record outside ent mutations (setting a user's password) check it here.
func (rt *Runtime) CanUpdate(ctx context.Context, entity string, id int) error {
	info, err := rt.entity(entity)
	if err != nil {
		return err
	}
	a := rt.AccessOf(ctx, entity)
	if a.All {
		return nil
	}
	if ok, err := rt.Backend.Exists(ctx, entity, id); err != nil {
		return err
	} else if !ok {
		return &NotFoundError{Entity: entity}
	}
	if len(a.Update) == 0 {
		return &ForbiddenError{Entity: entity, Action: "update"}
	}
	if pred := rt.scopePredicate(auth.FromContext(ctx), info.e, a.Update); pred != nil {
		if ok, err := rt.Backend.Exists(ctx, entity, id, pred); err != nil {
			return err
		} else if !ok {
			return &ForbiddenError{Entity: entity, Action: "update"}
		}
	}
	return nil
}
