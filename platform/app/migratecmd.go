package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// migrateCommand is `app migrate`: it brings the database to the app's schema and exits, for a DBA who
// migrates before starting the app's instances, or with --dry-run lists the migrations a start would
// apply. It refuses, as a start does, a database ahead of or diverged from the app's files.
func migrateCommand(args []string, m *metamodel.Model, g Generated, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(m.App.Name+" migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", m.App.Name+".db", "database: a SQLite file path, or a postgres:// URL")
	dry := fs.Bool("dry-run", false, "list the migrations the database has had and those it would get, and change nothing")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s migrate [flags]\n\nApplies the app's pending migrations (migrations/<dialect>/*.sql) to the database and exits.\n\nFlags:\n", m.App.Name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx := context.Background()
	db, err := database.Open(*dsn, database.Config{Zone: m.App.Location()})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	var st MigrationStatus
	if *dry {
		dir, err := loadMigrations(g.Migrations, db.Dialect)
		if err == nil && dir == nil {
			err = errors.New("this app has no migrations for this database: its schema is migrated at start")
		}
		if err == nil {
			st, err = migrateVersioned(ctx, db.SQL, db.Dialect, dir, nil, true, log)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	} else {
		p, err := NewPlatform(ctx, m, db, g.Open, PlatformConfig{Log: log, Migrations: g.Migrations})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		st = p.Migrated
	}
	for _, f := range st.Applied {
		fmt.Fprintf(stdout, "applied  %s\n", f)
	}
	for _, f := range st.Pending {
		fmt.Fprintf(stdout, "pending  %s\n", f)
	}
	fmt.Fprintf(stdout, "%d applied, %d pending\n", len(st.Applied), len(st.Pending))
	return 0
}
