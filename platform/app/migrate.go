package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// Versioned migrations. A generated app embeds the SQL files crmgen wrote for each model version
// (migrations/<dialect>/NNNN_name.sql with their atlas.sum) and applies, at start or with `app migrate`,
// those the database has not had yet, recording each in crm_schema_revisions. Every file runs in the
// same transaction as its record, so a failure leaves the database as it was. The app refuses to start on
// a database that is ahead of its files (a newer app version migrated it) or diverged from them (a file
// it applied has since changed), and on files whose checksums do not match their atlas.sum.
//
// A database the app's schema was created in before it had migrations (ent's migration at start) is
// brought to the model that way once more, and every file is recorded as applied: from then on, only new
// files run.

// revisionsTable records the migrations a database has had.
const revisionsTable = "crm_schema_revisions"

// migrationDir is the embedded directory of dialect d's migrations.
func migrationDir(d string) string {
	if d == dialect.SQLite {
		return "migrations/sqlite"
	}
	return "migrations/" + d
}

// loadMigrations reads the migrations of dialect d from files, or nil when it holds none.
func loadMigrations(files fs.FS, d string) (*migrate.MemDir, error) {
	if files == nil {
		return nil, nil
	}
	dir := migrationDir(d)
	entries, err := fs.ReadDir(files, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	mem := &migrate.MemDir{}
	n := 0
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".sql") || e.Name() == migrate.HashFileName) {
			continue
		}
		b, err := fs.ReadFile(files, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := mem.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
		if strings.HasSuffix(e.Name(), ".sql") {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	if err := migrate.Validate(mem); err != nil {
		return nil, fmt.Errorf("the app's migration files do not match their checksums (%s/atlas.sum): they were edited after crmgen wrote them", dir)
	}
	return mem, nil
}

// MigrationStatus is what a database has had of the app's migrations.
type MigrationStatus struct {
	Applied, Pending []string // file names
}

// migrateVersioned brings db to the app's migrations: it checks that the database has had only files the
// app has, unchanged, and applies the others in order. With dryRun it only reports what it would apply.
func migrateVersioned(ctx context.Context, db *sql.DB, d string, dir *migrate.MemDir, legacy func(context.Context) error, dryRun bool, log *slog.Logger) (MigrationStatus, error) {
	var st MigrationStatus
	if err := createRevisions(ctx, db, d); err != nil {
		return st, fmt.Errorf("create %s: %w", revisionsTable, err)
	}
	files, err := dir.Files()
	if err != nil {
		return st, err
	}
	revs, err := readRevisions(ctx, db)
	if err != nil {
		return st, err
	}
	byVersion := map[string]migrate.File{}
	for _, f := range files {
		byVersion[f.Version()] = f
	}
	applied := map[string]bool{}
	for _, r := range revs {
		f, ok := byVersion[r.version]
		if !ok {
			return st, fmt.Errorf("the database is ahead of this app: it has had migration %s (%s), which this app does not have; start the app version that made it, or restore a backup", r.version, r.name)
		}
		if h := hashOf(f); h != r.hash {
			return st, fmt.Errorf("the database has diverged from this app's migrations: it had %s with other contents than this app's file; restore a backup, or regenerate the app from the model that made the database", f.Name())
		}
		applied[r.version] = true
		st.Applied = append(st.Applied, f.Name())
	}
	var pending []migrate.File
	for _, f := range files {
		if !applied[f.Version()] {
			pending = append(pending, f)
			st.Pending = append(st.Pending, f.Name())
		}
	}
	if dryRun || len(pending) == 0 {
		return st, nil
	}
	if len(revs) == 0 {
		old, err := hasModelTables(ctx, db, d)
		if err != nil {
			return st, err
		}
		if old {
			// Made by ent's migration at start, before the app had migrations: bring it to the model that
			// way, then take every file as applied.
			if err := legacy(ctx); err != nil {
				return st, err
			}
			for _, f := range pending {
				if err := writeRevision(ctx, db, d, f, "baseline"); err != nil {
					return st, err
				}
			}
			log.InfoContext(ctx, "recorded the schema made before migrations as migrated", "files", len(pending))
			st.Applied, st.Pending = append(st.Applied, st.Pending...), nil
			return st, nil
		}
	}
	for _, f := range pending {
		start := time.Now()
		if err := applyFile(ctx, db, d, f); err != nil {
			return st, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		log.InfoContext(ctx, "applied a migration", "file", f.Name(), "took", time.Since(start).Round(time.Millisecond))
		st.Applied = append(st.Applied, f.Name())
	}
	st.Pending = nil
	return st, nil
}

// applyFile runs one migration file and records it, in one transaction. On SQLite the connection's
// foreign keys are off meanwhile: a changed table is rebuilt (created anew, copied, the old one dropped),
// and dropping it must not delete — by cascade — the rows that refer to it. The keys are checked before
// the commit.
func applyFile(ctx context.Context, db *sql.DB, d string, f migrate.File) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d == dialect.SQLite {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Instances starting together on one Postgres take turns, and a file another one applied meanwhile is
	// not run again.
	if d == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('"+revisionsTable+"'))"); err != nil {
			return err
		}
	}
	var done int
	if err := tx.QueryRowContext(ctx, database.Rebind(d, "SELECT count(*) FROM "+revisionsTable+" WHERE version = ?"), f.Version()).Scan(&done); err != nil {
		return err
	}
	if done > 0 {
		return nil
	}
	stmts, err := f.Stmts()
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "PRAGMA FOREIGN_KEYS") {
			continue // the connection's setting, above
		}
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%w (in %q)", err, s)
		}
	}
	if d == dialect.SQLite {
		rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return err
		}
		bad := rows.Next()
		rows.Close()
		if bad {
			return errors.New("it leaves rows that refer to rows that do not exist")
		}
	}
	if err := writeRevision(ctx, tx, d, f, "applied"); err != nil {
		return err
	}
	return tx.Commit()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func createRevisions(ctx context.Context, db *sql.DB, d string) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+revisionsTable+` (
	version varchar(64) PRIMARY KEY,
	name varchar(255) NOT NULL,
	hash varchar(128) NOT NULL,
	how varchar(16) NOT NULL,
	applied_at `+timestampType(d)+` NOT NULL
)`)
	return err
}

func timestampType(d string) string {
	if d == dialect.Postgres {
		return "timestamptz"
	}
	return "datetime"
}

type revision struct{ version, name, hash string }

func readRevisions(ctx context.Context, db *sql.DB) ([]revision, error) {
	rows, err := db.QueryContext(ctx, "SELECT version, name, hash FROM "+revisionsTable+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []revision
	for rows.Next() {
		var r revision
		if err := rows.Scan(&r.version, &r.name, &r.hash); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func writeRevision(ctx context.Context, db execer, d string, f migrate.File, how string) error {
	_, err := db.ExecContext(ctx, database.Rebind(d, "INSERT INTO "+revisionsTable+" (version, name, hash, how, applied_at) VALUES (?, ?, ?, ?, ?)"),
		f.Version(), f.Name(), hashOf(f), how, time.Now().UTC())
	return err
}

// hashOf is the checksum of a migration file, as atlas.sum holds it.
func hashOf(f migrate.File) string {
	sum, err := migrate.NewHashFile([]migrate.File{f})
	if err != nil || len(sum) == 0 {
		return ""
	}
	return sum[0].H
}

// hasModelTables reports whether the database holds the model's tables (users is every app's).
func hasModelTables(ctx context.Context, db *sql.DB, d string) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	return tableExists(ctx, tx, d, (&metamodel.Entity{Name: "User"}).Table())
}

// AppliedMigrations returns the names of the migration files a database has had, in order; none when it
// has had no migration (or its schema was made before the app had migrations).
func AppliedMigrations(ctx context.Context, db *sql.DB, d string) ([]string, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	ok, err := tableExists(ctx, tx, d, revisionsTable)
	tx.Rollback()
	if err != nil || !ok {
		return nil, err
	}
	revs, err := readRevisions(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range revs {
		out = append(out, r.name)
	}
	return out, nil
}
