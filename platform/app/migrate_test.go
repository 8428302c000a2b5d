package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"

	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/app"
	"github.com/crmgen/crmgen/platform/database"
)

// migrationFiles returns an app's embedded migrations for dialect dir holding files, with their atlas.sum.
func migrationFiles(t *testing.T, dir string, files ...string) fstest.MapFS {
	t.Helper()
	mem := &migrate.MemDir{}
	fsys := fstest.MapFS{}
	for i := 0; i < len(files); i += 2 {
		mem.WriteFile(files[i], []byte(files[i+1]))
		fsys["migrations/"+dir+"/"+files[i]] = &fstest.MapFile{Data: []byte(files[i+1])}
	}
	list, _ := mem.Files()
	sum, err := migrate.NewHashFile(list)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sum.MarshalText()
	fsys["migrations/"+dir+"/atlas.sum"] = &fstest.MapFile{Data: b}
	return fsys
}

// TestVersionedMigrations: an app applies the migrations a database has not had, one after the other,
// and only those; it refuses a database that a later version migrated (ahead), one that had a file
// whose contents have since changed (diverged), and files that do not match their atlas.sum. A database
// made before the app had migrations is migrated the old way once and recorded as migrated.
func TestVersionedMigrations(t *testing.T) {
	for _, c := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "m.db") }}, {"postgres", pgtest.DSN}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := database.Open(c.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			dir := "sqlite"
			if db.Dialect == "postgres" {
				dir = "postgres"
			}
			log := slog.New(slog.DiscardHandler)
			const first, second = "CREATE TABLE items (id integer PRIMARY KEY, name varchar(20));\n", "ALTER TABLE items ADD COLUMN note varchar(20);\n"
			v1 := migrationFiles(t, dir, "0001_init.sql", first)
			v2 := migrationFiles(t, dir, "0001_init.sql", first, "0002_model.sql", second)
			legacy := func(context.Context) error { t.Error("a migrated database was migrated the old way"); return nil }
			apply := func(fsys fstest.MapFS, dryRun bool) (app.MigrationStatus, error) {
				t.Helper()
				d, err := app.LoadMigrations(fsys, db.Dialect)
				if err != nil {
					return app.MigrationStatus{}, err
				}
				return app.MigrateVersioned(ctx, db.SQL, db.Dialect, d, legacy, dryRun, log)
			}
			want := func(st app.MigrationStatus, err error, applied, pending int) {
				t.Helper()
				if err != nil || len(st.Applied) != applied || len(st.Pending) != pending {
					t.Fatalf("status %+v, %v; want %d applied, %d pending", st, err, applied, pending)
				}
			}
			st, err := apply(v1, false)
			want(st, err, 1, 0)
			if _, err := db.SQL.ExecContext(ctx, "INSERT INTO items (id, name) VALUES (1, 'kept')"); err != nil {
				t.Fatal(err)
			}
			st, err = apply(v2, true)
			want(st, err, 1, 1)
			st, err = apply(v2, false)
			want(st, err, 2, 0)
			st, err = apply(v2, false)
			want(st, err, 2, 0)
			var name string
			if err := db.SQL.QueryRowContext(ctx, "SELECT name FROM items WHERE note IS NULL").Scan(&name); err != nil || name != "kept" {
				t.Errorf("row after the migrations: %q, %v", name, err)
			}

			if _, err := apply(v1, false); err == nil || !strings.Contains(err.Error(), "the database is ahead of this app: it has had migration 0002") {
				t.Errorf("an older app on a newer database: %v", err)
			}
			changed := migrationFiles(t, dir, "0001_init.sql", first, "0002_model.sql", "ALTER TABLE items ADD COLUMN other varchar(20);\n")
			if _, err := apply(changed, false); err == nil || !strings.Contains(err.Error(), "diverged from this app's migrations: it had 0002_model.sql with other contents") {
				t.Errorf("changed files: %v", err)
			}
			edited := migrationFiles(t, dir, "0001_init.sql", first, "0002_model.sql", second)
			edited["migrations/"+dir+"/0002_model.sql"] = &fstest.MapFile{Data: []byte(second + "DROP TABLE items;\n")}
			if _, err := apply(edited, false); err == nil || !strings.Contains(err.Error(), "do not match their checksums") {
				t.Errorf("files edited after generation: %v", err)
			}

			// Instances that start together on Postgres apply each file once, and all of them start (SQLite
			// serves one instance: a concurrent one may be told the database is busy).
			if _, err := db.SQL.ExecContext(ctx, "DROP TABLE items"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL.ExecContext(ctx, "DELETE FROM crm_schema_revisions"); err != nil {
				t.Fatal(err)
			}
			d2, err := app.LoadMigrations(v2, db.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 3)
			for range 3 {
				go func() {
					_, err := app.MigrateVersioned(ctx, db.SQL, db.Dialect, d2, legacy, false, log)
					errs <- err
				}()
			}
			for range 3 {
				if err := <-errs; err != nil && db.Dialect == "postgres" {
					t.Errorf("an instance starting with others: %v", err)
				}
			}
			st, err = apply(v2, false)
			want(st, err, 2, 0)

			// A database made before migrations: its schema holds users but it has had no file.
			for _, q := range []string{"DROP TABLE crm_schema_revisions", "CREATE TABLE users (id integer PRIMARY KEY)"} {
				if _, err := db.SQL.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			called := false
			legacy = func(context.Context) error { called = true; return nil }
			st, err = apply(v2, false)
			want(st, err, 2, 0)
			if !called {
				t.Error("a database made before migrations was not migrated the old way")
			}
		})
	}
}
