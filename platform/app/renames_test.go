package app_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/fixture/app/backend"
	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/app"
)

// TestRenamesKeepData: a database made by an earlier model — where Account.creditLimit was oldLimit and Tag
// was Label — is brought to the current model by renamedFrom without losing a value, and a second start
// changes nothing.
func TestRenamesKeepData(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		ctx := context.Background()
		db := env.DB.SQL
		for _, q := range []string{
			`ALTER TABLE accounts RENAME COLUMN credit_limit TO old_limit`,
			`ALTER TABLE tags RENAME TO labels`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		m, err := metamodel.Unmarshal(backend.Model)
		if err != nil {
			t.Fatal(err)
		}
		m.Entity("Account").Field("creditLimit").RenamedFrom = "oldLimit"
		m.Entity("Tag").RenamedFrom = "Label"
		log := slog.New(slog.DiscardHandler)
		for range 2 {
			if err := app.ApplyRenames(ctx, db, env.DB.Dialect, m, log); err != nil {
				t.Fatal(err)
			}
		}
		var sum float64
		if err := db.QueryRowContext(ctx, `SELECT sum(credit_limit) FROM accounts`).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum != 3500 { // 1000 + 500 + 2000, Delta has none
			t.Errorf("credit limits add up to %v after the rename, want 3500", sum)
		}
		var tags int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM tags`).Scan(&tags); err != nil {
			t.Fatal(err)
		}
		if tags != 2 {
			t.Errorf("%d tags after the rename, want 2", tags)
		}
		// The app reads them through the model as before.
		n, err := env.Client.Account.Query().Count(env.System())
		if err != nil || n != 4 {
			t.Errorf("accounts through ent: %d, %v", n, err)
		}
	})
}
