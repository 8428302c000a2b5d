package admin

import (
	"context"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/dbtest"
	"github.com/crmgen/crmgen/platform/database"
)

// The users' preferences on both databases: no row is the app's zone; a choice is kept per user and
// replaced by the next; "" goes back to the app's zone; creating the table twice is harmless.
func TestPreferenceStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		p := &PreferenceStore{DB: db.SQL, Dialect: db.Dialect}
		for range 2 {
			if err := p.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		zone := func(user int) string {
			t.Helper()
			name, err := p.zone(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			return name
		}
		set := func(user int, name string) {
			t.Helper()
			if err := p.setZone(ctx, user, name); err != nil {
				t.Fatal(err)
			}
		}
		if got := zone(1); got != "" {
			t.Errorf("a user who chose nothing has zone %q, want the app's (\"\")", got)
		}
		set(1, "Europe/London")
		set(2, "America/New_York")
		set(1, "Asia/Tokyo")
		if got := zone(1); got != "Asia/Tokyo" {
			t.Errorf("user 1 has %q after choosing twice, want the last choice Asia/Tokyo", got)
		}
		if got := zone(2); got != "America/New_York" {
			t.Errorf("user 2 has %q, want their own America/New_York", got)
		}
		set(2, "")
		if got := zone(2); got != "" {
			t.Errorf("user 2 has %q after going back to the app's zone", got)
		}
		if got := zone(3); got != "" {
			t.Errorf("user 3 has %q without choosing", got)
		}

		// A zone read is remembered for zoneTTL: no statement for the next screens; a choice made on
		// another instance (another store on the same table) shows here once that time has passed.
		clock := time.Now()
		p.now = func() time.Time { return clock }
		other := &PreferenceStore{DB: db.SQL, Dialect: db.Dialect}
		zone(1)
		before := database.Statements.Load()
		if got := zone(1); got != "Asia/Tokyo" || database.Statements.Load() != before {
			t.Errorf("a second read within %v: %q and %d statements; want the remembered zone, no statement", zoneTTL, got, database.Statements.Load()-before)
		}
		if err := other.setZone(ctx, 1, "Europe/Paris"); err != nil {
			t.Fatal(err)
		}
		if got := zone(1); got != "Asia/Tokyo" {
			t.Errorf("within %v of the last read: %q, want the remembered Asia/Tokyo", zoneTTL, got)
		}
		clock = clock.Add(zoneTTL)
		if got := zone(1); got != "Europe/Paris" {
			t.Errorf("%v after the last read: %q, want the other instance's choice Europe/Paris", zoneTTL, got)
		}
	})
}
