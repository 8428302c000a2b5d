package app

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// Renames keep data across a model's renames (METAMODEL.md, renamedFrom). The schema is brought to the
// model by ent's migration at start, which would see a renamed field as a new column (empty) beside the
// old one (left unused), and a renamed entity as a new table. So, before it runs, a table or column that
// still has its previous name, while the new one does not exist yet, is renamed in place; the platform's
// own tables that name records by entity (audit, workflow history, timers) follow an entity's rename.
// Everything runs in one transaction: a failure leaves the database as it was, and the app does not
// start. A rename already done (the new name exists) is skipped, so restarts do nothing.

// platformEntityTables are the platform's tables with an entity column naming the records' entity.
var platformEntityTables = []string{"crm_audit", "crm_workflow_history", "crm_timers"}

// applyRenames renames the tables and columns of m's renamedFrom entities and fields.
func applyRenames(ctx context.Context, db *sql.DB, d string, m *metamodel.Model, log *slog.Logger) error {
	var work bool
	for _, e := range m.Entities {
		work = work || e.RenamedFrom != ""
		for _, f := range e.Fields {
			work = work || f.RenamedFrom != ""
		}
	}
	if !work {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := func(s string) string { return quoteIdent(d, s) }
	for _, e := range m.Entities {
		table := e.Table()
		if old := e.RenamedFrom; old != "" {
			oldTable := (&metamodel.Entity{Name: old}).Table()
			has, err := tableExists(ctx, tx, d, oldTable)
			if err != nil {
				return err
			}
			hasNew, err := tableExists(ctx, tx, d, table)
			if err != nil {
				return err
			}
			if has && !hasNew {
				if _, err := tx.ExecContext(ctx, "ALTER TABLE "+q(oldTable)+" RENAME TO "+q(table)); err != nil {
					return fmt.Errorf("rename table %s to %s: %w", oldTable, table, err)
				}
				for _, pt := range platformEntityTables {
					if ok, err := tableExists(ctx, tx, d, pt); err != nil {
						return err
					} else if ok {
						if _, err := tx.ExecContext(ctx, database.Rebind(d, "UPDATE "+pt+" SET entity = ? WHERE entity = ?"), e.Name, old); err != nil {
							return fmt.Errorf("rename entity %s in %s: %w", old, pt, err)
						}
					}
				}
				log.InfoContext(ctx, "renamed an entity's table, keeping its rows", "from", oldTable, "to", table)
			}
		}
		for _, f := range e.Fields {
			old := f.RenamedFrom
			if old == "" {
				continue
			}
			oldCol, col := (&metamodel.Field{Name: old}).Column(), f.Column()
			has, err := columnExists(ctx, tx, d, table, oldCol)
			if err != nil {
				return err
			}
			hasNew, err := columnExists(ctx, tx, d, table, col)
			if err != nil {
				return err
			}
			if has && !hasNew {
				if _, err := tx.ExecContext(ctx, "ALTER TABLE "+q(table)+" RENAME COLUMN "+q(oldCol)+" TO "+q(col)); err != nil {
					return fmt.Errorf("rename column %s.%s to %s: %w", table, oldCol, col, err)
				}
				log.InfoContext(ctx, "renamed a field's column, keeping its data", "table", table, "from", oldCol, "to", col)
			}
		}
	}
	return tx.Commit()
}

func quoteIdent(d, s string) string {
	if d == dialect.MySQL {
		return "`" + s + "`"
	}
	return `"` + s + `"`
}

func tableExists(ctx context.Context, tx *sql.Tx, d, table string) (bool, error) {
	query := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if d == dialect.Postgres {
		query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
	}
	var n int
	err := tx.QueryRowContext(ctx, query, table).Scan(&n)
	return n > 0, err
}

func columnExists(ctx context.Context, tx *sql.Tx, d, table, column string) (bool, error) {
	query := "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?"
	if d == dialect.Postgres {
		query = "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
	}
	var n int
	err := tx.QueryRowContext(ctx, query, table, column).Scan(&n)
	return n > 0, err
}
