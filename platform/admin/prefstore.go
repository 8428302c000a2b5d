package admin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crmgen/crmgen/platform/database"
)

// PreferenceStore keeps the users' own settings of the screens in the platform table crm_user_preferences,
// one row per user: for now the time zone the screens show and read times in ("" or no row: the app's
// zone). A platform table rather than a column of the users table, as for saved views: the users table is
// the model's (generated, migrated with it), and a preference of the screens is not part of the API.
//
// A user's zone is read on every screen they open, so it is remembered for zoneTTL after it was read: a
// choice made on this instance applies at once, one made on another instance sharing the database within
// zoneTTL.
type PreferenceStore struct {
	DB      *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres

	zones sync.Map         // user id → cachedZone
	now   func() time.Time // nil: time.Now (tests move it)
}

// zoneTTL is how long a user's zone is remembered after it was read from the database.
const zoneTTL = 10 * time.Second

type cachedZone struct {
	name string
	read time.Time
}

func (p *PreferenceStore) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// Migrate creates the preferences' table when it does not exist.
func (p *PreferenceStore) Migrate(ctx context.Context) error {
	_, err := p.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS crm_user_preferences (
		user_id    BIGINT NOT NULL PRIMARY KEY,
		timezone   VARCHAR(64) NOT NULL DEFAULT '',
		updated_at BIGINT NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("create user preferences table: %w", err)
	}
	return nil
}

func (p *PreferenceStore) q(query string) string { return database.Rebind(p.Dialect, query) }

// zone returns the name of the user's time zone, "" when they chose none (the app's zone).
func (p *PreferenceStore) zone(ctx context.Context, user int) (string, error) {
	now := p.clock()
	if c, ok := p.zones.Load(user); ok && now.Sub(c.(cachedZone).read) < zoneTTL {
		return c.(cachedZone).name, nil
	}
	var name string
	err := p.DB.QueryRowContext(ctx, p.q(`SELECT timezone FROM crm_user_preferences WHERE user_id = ?`), user).Scan(&name)
	database.Statements.Add(1)
	if errors.Is(err, sql.ErrNoRows) {
		name, err = "", nil
	}
	if err != nil {
		return "", err
	}
	p.zones.Store(user, cachedZone{name: name, read: now})
	return name, nil
}

// setZone keeps the user's time zone; "" goes back to the app's. The caller has checked the name.
func (p *PreferenceStore) setZone(ctx context.Context, user int, name string) error {
	// Both dialects have INSERT … ON CONFLICT (SQLite since 3.24).
	upsert := `INSERT INTO crm_user_preferences (user_id, timezone, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at`
	_, err := p.DB.ExecContext(ctx, p.q(upsert), user, name, time.Now().UnixMilli())
	if err != nil {
		p.zones.Delete(user)
		return err
	}
	p.zones.Store(user, cachedZone{name: name, read: p.clock()})
	return nil
}
