package enforce

import (
	"context"
	"strings"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
)

// Soft delete keeps the model's onDelete rules meaningful although no row leaves the table:
//   - restrict: a record that live records still refer to cannot be deleted, softly or not;
//   - cascade: records whose parent is soft-deleted are hidden with it (and come back when it is restored);
//   - setNull: the reference resolves to nothing while the parent is deleted.

// softDelete turns a delete (of one row or many) into an update of deletedAt over the same predicates,
// which runs through the client again so update rules apply. It returns the number of rows it marked, as a
// delete does; a row already deleted is not matched, so deleting it again reports it not found.
func (rt *Runtime) softDelete(ctx context.Context, m ent.Mutation) (ent.Value, error) {
	m.(opSetter).SetOp(ent.OpUpdate)
	if err := m.SetField("deleted_at", time.Now()); err != nil {
		return nil, err
	}
	m.(predicater).WhereP(sql.FieldIsNull("deleted_at"))
	// The deletedAt filter is already there; IncludeDeleted keeps the update rules from adding it again.
	// The caller records the delete in the history; the update it becomes is not recorded again.
	// It was authorized as a delete, which is what it is.
	return rt.Backend.Mutate(authorized(withoutEffects(withoutAudit(IncludeDeleted(ctx)))), m)
}

// checkRestrict refuses a delete while live records refer to one of the rows through a relation with
// onDelete: restrict, naming exactly the relations that still hold references. (The database's foreign
// keys enforce the same for hard deletes; this also covers soft deletes and gives the precise message.)
func (rt *Runtime) checkRestrict(ctx context.Context, info *entityInfo, m ent.Mutation) error {
	restricting := referring(info.e, metamodel.OnDeleteRestrict)
	if len(restricting) == 0 {
		return nil
	}
	ids, err := m.(idser).IDs(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	q, ok := m.(querier)
	if !ok {
		return nil
	}
	var blocking []string
	for _, r := range restricting {
		child, fk := r.Target, r.InverseRel.FKColumn()
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		stmt := "SELECT 1 FROM " + child.Table() + " WHERE " + fk + " IN (" + marks + ")"
		if child.Has(metamodel.TraitSoftDelete) {
			stmt += " AND deleted_at IS NULL"
		}
		if child == info.e { // a tree: children among the rows being deleted do not block
			stmt += " AND id NOT IN (" + marks + ")"
		}
		args := make([]any, 0, 2*len(ids))
		for _, id := range ids {
			args = append(args, id)
		}
		if child == info.e {
			args = append(args, args...)
		}
		rows, err := q.QueryContext(ctx, database.Rebind(rt.Dialect, stmt+" LIMIT 1"), args...)
		if err != nil {
			return err
		}
		found := rows.Next()
		rows.Close()
		if found {
			blocking = append(blocking, child.Name+"."+r.InverseRel.Name)
		}
	}
	if len(blocking) > 0 {
		return &RestrictError{Entity: info.e.Name, Relations: blocking}
	}
	return nil
}

// referring returns the relations of e to the records that refer to it (the other ends of their belongsTo
// relations) whose onDelete is action.
func referring(e *metamodel.Entity, action string) []*metamodel.Relation {
	var out []*metamodel.Relation
	for _, r := range e.Relations {
		if (r.Kind == metamodel.HasMany || r.Kind == metamodel.HasOne) && r.InverseRel.OnDelete == action {
			out = append(out, r)
		}
	}
	return out
}

// hiddenWithParent is the predicate hiding records whose parent, through a cascade relation, is
// soft-deleted; nil when the entity has no such relation.
func hiddenWithParent(e *metamodel.Entity) func(*sql.Selector) {
	var rels []*metamodel.Relation
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo && r.OnDelete == metamodel.OnDeleteCascade && r.Target.Has(metamodel.TraitSoftDelete) {
			rels = append(rels, r)
		}
	}
	if len(rels) == 0 {
		return nil
	}
	return func(s *sql.Selector) {
		for _, r := range rels {
			deleted := sql.Select(sql.Table(r.Target.Table()).C("id")).From(sql.Table(r.Target.Table())).
				Where(sql.NotNull(sql.Table(r.Target.Table()).C("deleted_at")))
			s.Where(sql.Or(sql.IsNull(s.C(r.FKColumn())), sql.NotIn(s.C(r.FKColumn()), deleted)))
		}
	}
}

// Restorable returns the predicate limiting soft-deleted records of entity to those the principal of ctx
// may restore (restoring needs the right to delete them), nil for all of them, or a ForbiddenError when
// they may restore none. Lists of deleted records (the admin's trash) apply it.
func (rt *Runtime) Restorable(ctx context.Context, entity string) (func(*sql.Selector), error) {
	e := rt.Model.Entity(entity)
	if e == nil || !e.Has(metamodel.TraitSoftDelete) {
		return nil, &ForbiddenError{Entity: entity, Action: "restore"}
	}
	a := rt.AccessOf(ctx, entity)
	if a.All {
		return nil, nil
	}
	if len(a.Delete) == 0 {
		return nil, &ForbiddenError{Entity: entity, Action: "restore"}
	}
	return rt.scopePredicate(auth.FromContext(ctx), e, a.Delete), nil
}
