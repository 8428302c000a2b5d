package enforce

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// records is the record access by entity name that deleting for good needs beyond Backend: reading a
// record, whose values its history keeps, and updating the records that refer to it. Every generated
// backend has both (platform/process's Backend declares them).
type records interface {
	Get(ctx context.Context, entity string, id int) (any, error)
	Update(ctx context.Context, entity string, id int, values map[string]any) error
}

func (rt *Runtime) records() (records, error) {
	r, ok := rt.Backend.(records)
	if !ok {
		return nil, fmt.Errorf("enforce: the backend %T cannot read and update records by entity name", rt.Backend)
	}
	return r, nil
}

// nullReferences carries out onDelete: setNull before rows of info's entity are deleted for good: every
// record that refers to one of them through such a relation is updated to null through the client, in
// the delete's transaction, like any other write. So its history records the null, by the user who
// deletes, and its stored computed fields follow; the database's ON DELETE SET NULL, which would write
// the same null unseen, then finds nothing left to do. The update is part of the authorized delete: it
// is not authorized again, reaches referring records the user may not read and ones that are
// soft-deleted, and sets off no automations (nor did the database's null).
func (rt *Runtime) nullReferences(ctx context.Context, info *entityInfo, m ent.Mutation) error {
	rels := referring(info.e, metamodel.OnDeleteSetNull)
	if len(rels) == 0 {
		return nil
	}
	q, ok := m.(querier)
	if !ok {
		return fmt.Errorf("enforce: delete %s: the mutation cannot run queries", info.e.Name)
	}
	ids, err := m.(idser).IDs(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	recs, err := rt.records()
	if err != nil {
		return err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	update := authorized(withoutEffects(IncludeDeleted(System(ctx))))
	for _, r := range rels {
		child, inv := r.Target, r.InverseRel
		stmt := "SELECT id FROM " + child.Table() + " WHERE " + inv.FKColumn() + " IN (" + marks + ")"
		stmtArgs := args
		if child == info.e { // a tree: the rows deleted with it need no null
			stmt += " AND id NOT IN (" + marks + ")"
			stmtArgs = append(append([]any(nil), args...), args...)
		}
		refs, err := queryIDs(ctx, q, database.Rebind(rt.Dialect, stmt+" ORDER BY id"), stmtArgs...)
		if err != nil {
			return fmt.Errorf("delete %s: find %s referring to it: %w", info.e.Name, child.Name, err)
		}
		for _, id := range refs {
			if err := recs.Update(update, child.Name, id, map[string]any{inv.FKField(): nil}); err != nil {
				return err
			}
		}
	}
	return nil
}

// queryIDs runs a query of one integer column and returns its values.
func queryIDs(ctx context.Context, q querier, stmt string, args ...any) ([]int, error) {
	rows, err := q.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, int(id))
	}
	return out, rows.Err()
}
