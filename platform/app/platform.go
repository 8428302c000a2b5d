package app

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"

	"entgo.io/ent/dialect"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/account"
	"github.com/crmgen/crmgen/platform/attach"
	"github.com/crmgen/crmgen/platform/audit"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/extension"
	"github.com/crmgen/crmgen/platform/outbox"
	"github.com/crmgen/crmgen/platform/process"
	"github.com/crmgen/crmgen/platform/report"
	"github.com/crmgen/crmgen/platform/seed"
)

// Platform is what one generated application runs on over one database: its model's rules (enforce),
// its processes (workflows, automations, timers, notifications), sign-in, and the typed backend. Every
// value is its own — nothing is installed process-wide — so one process can run several (tests do). The
// app's server builds one; tests of the platform build one over the fixture app (internal/fixture).
type Platform struct {
	Model    *metamodel.Model
	DB       *database.DB
	Backend  Backend
	Runtime  *enforce.Runtime
	Engine   *process.Engine
	Sessions *auth.Service
	Reports  *report.Engine
	// Migrated is what the database has had of the app's versioned migrations (empty without them).
	Migrated MigrationStatus
}

// PlatformConfig configures what NewPlatform builds beyond the model and the database.
type PlatformConfig struct {
	Auth       auth.Config
	Dispatcher *outbox.Dispatcher // nil: notifications stay in the inbox and outbox
	Channels   []string
	Log        *slog.Logger
	// Migrations holds the app's versioned migrations (migrations/<dialect>/*.sql and atlas.sum); nil, or
	// none for the database's dialect, migrates the schema with ent at start instead.
	Migrations fs.FS
	// Files keeps the contents of file and image fields: references written to them are checked against
	// it (enforce.Runtime.Files). nil refuses every reference.
	Files attach.Store
}

// NewPlatform builds the platform of model m over db, with the backend open makes, and creates or
// updates the database's tables (the platform's own, then the model's).
func NewPlatform(ctx context.Context, m *metamodel.Model, db *database.DB, open func(dialect.Driver) Backend, cfg PlatformConfig) (*Platform, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	b := open(db.Driver)
	p := &Platform{Model: m, DB: db, Backend: b, Runtime: enforce.New(m, db.Dialect, b),
		Sessions: auth.New(db.SQL, db.Dialect, cfg.Auth)}
	p.Runtime.Files = cfg.Files
	if err := process.Compile(m); err != nil {
		return nil, fmt.Errorf("model expressions: %w", err)
	}
	if err := extension.Check(m); err != nil {
		return nil, err
	}
	m.SetFunctions(extension.Call) // the model's declared functions run the extend package's code
	p.Engine = &process.Engine{Model: m, Dialect: db.Dialect, Backend: b, DB: db.SQL, Log: cfg.Log,
		Dispatcher: cfg.Dispatcher, Channels: cfg.Channels}
	process.Install(p.Engine, p.Runtime)
	p.Reports = &report.Engine{Model: m, DB: db.SQL, Dialect: db.Dialect, Runtime: p.Runtime}
	// What the sign-in cache holds of a user (roles, team, activity; a team's sub-teams) is read again
	// once it changes.
	p.Runtime.Changed = func(entity string, id int) {
		p.Reports.Changed(entity)
		switch {
		case entity == "User" && id != 0:
			p.Sessions.ForgetUser(id)
		case entity == "User" || entity == "Team":
			p.Sessions.ForgetAll()
		}
	}

	ctx = p.Context(ctx)
	// database.SearchDDL (Postgres only) creates the function the search indexes of migrations call.
	for _, ddl := range []string{enforce.SequencesDDL, audit.DDL(db.Dialect), audit.IndexDDL, database.SearchDDL(db.Dialect)} {
		if ddl == "" {
			continue
		}
		if _, err := db.SQL.ExecContext(ctx, ddl); err != nil {
			return nil, fmt.Errorf("create platform tables: %w", err)
		}
	}
	if err := p.Sessions.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("create session tables: %w", err)
	}
	if err := process.Migrate(ctx, db.SQL, db.Dialect); err != nil {
		return nil, err
	}
	// ent's migration at start: renames first, then whatever the model's tables lack.
	migrateWithEnt := func(ctx context.Context) error {
		if err := applyRenames(ctx, db.SQL, db.Dialect, m, cfg.Log); err != nil {
			return fmt.Errorf("rename tables and columns (renamedFrom): %w", err)
		}
		if err := b.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	}
	dir, err := loadMigrations(cfg.Migrations, db.Dialect)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return p, migrateWithEnt(ctx)
	}
	if p.Migrated, err = migrateVersioned(ctx, db.SQL, db.Dialect, dir, migrateWithEnt, false, cfg.Log); err != nil {
		return nil, err
	}
	return p, nil
}

// Context returns ctx carrying the platform: what runs in it — requests, data loading, jobs — obeys the
// model's rules and reaches sign-in. A context without them may do nothing (see enforce.NewContext).
func (p *Platform) Context(ctx context.Context) context.Context {
	return report.NewContext(account.NewContext(enforce.NewContext(ctx, p.Runtime), p.Sessions), p.Reports)
}

// Seed loads the model's data into an empty database and returns how many records it loaded.
func (p *Platform) Seed(ctx context.Context) (int, error) {
	return seed.LoadIfEmpty(p.Context(ctx), p.Model, p.Backend)
}
