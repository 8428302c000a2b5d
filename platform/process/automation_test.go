package process_test

import (
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/account"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/user"
	"github.com/crmgen/crmgen/platform/database"
)

// An automation on create sees the record as it was written, though it is no longer read back: the
// workflow's initial stage, the owner the platform stamped, the amount given, and the related account's
// tier (the fixture's bigDeal: amount ≥ 1000, stage open, a gold account; it notifies the deal's owner).
func TestAutomationOnCreate(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		sys := env.System()
		acme := c.Account.Query().Where(account.Name("Acme")).OnlyIDX(sys) // gold, rep1's, East
		beta := c.Account.Query().Where(account.Name("Beta")).OnlyIDX(sys) // silver, mgr's, East
		told := func(username string) int {
			t.Helper()
			id := c.User.Query().Where(user.Username(username)).OnlyIDX(sys)
			var n int
			row := env.DB.SQL.QueryRowContext(sys, database.Rebind(env.DB.Dialect,
				"SELECT COUNT(*) FROM crm_inbox WHERE user_id = ? AND title = ?"), id, "A big deal")
			if err := row.Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, tc := range []struct {
			creator string
			account int
			amount  float64
			told    bool
		}{
			{"rep1", acme, 1500, true},
			{"rep1", acme, 999.99, false}, // under the amount
			{"mgr", beta, 5000, false},    // a silver account
			{"mgr", acme, 1000, true},     // the owner stamped is the creator, mgr
		} {
			before := told(tc.creator)
			if _, err := c.Deal.Create().SetTitle("Automated").SetAmount(tc.amount).SetAccountID(tc.account).
				Save(env.As(t, tc.creator)); err != nil {
				t.Fatalf("%s creates a deal of %v: %v", tc.creator, tc.amount, err)
			}
			if got := told(tc.creator) - before; got != map[bool]int{true: 1}[tc.told] {
				t.Errorf("%s creates a deal of %v on account %d: %d notifications to the owner; want told %t",
					tc.creator, tc.amount, tc.account, got, tc.told)
			}
		}
	})
}
