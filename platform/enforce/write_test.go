package enforce_test

import (
	"errors"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/account"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/deal"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/user"
	"github.com/crmgen/crmgen/platform/enforce"
)

// A creator may name another owner only when their update scope would let them hand the record over.
func TestOwnerOnCreate(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		sys := env.System()
		id := func(name string) int { return c.User.Query().Where(user.Username(name)).OnlyIDX(sys) }
		for _, tc := range []struct {
			creator, owner string
			ok             bool
		}{
			{"rep1", "rep1", true},
			{"rep1", "rep2", false}, // own scope: cannot hand over
			{"mgr", "rep1", true},   // team scope: rep1 is in East
			{"mgr", "rep2", false},  // rep2 is in West
			{"admin", "rep2", true},
		} {
			_, err := c.Account.Create().SetName("New " + tc.creator + " " + tc.owner).SetOwnerID(id(tc.owner)).Save(env.As(t, tc.creator))
			var ve *enforce.ValidationError
			switch {
			case tc.ok && err != nil:
				t.Errorf("%s creates an account owned by %s: %v", tc.creator, tc.owner, err)
			case !tc.ok && (!errors.As(err, &ve) || ve.Fields[0].Field != "owner" || ve.Fields[0].Rule != enforce.RuleOwner):
				t.Errorf("%s creates an account owned by %s: %v, want the owner refused", tc.creator, tc.owner, err)
			}
		}
		if n := c.Account.Query().Where(account.NameHasPrefix("New rep1 rep2")).CountX(sys); n != 0 {
			t.Errorf("a refused create left %d rows", n)
		}
	})
}

// History obeys the record's field rules where it is read: masked sensitive fields leave it in lists, and
// related rows the reader may not read answer null.
func TestHistoryFollowsFieldRules(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		sys := env.System()
		acme := c.Account.Query().Where(account.Name("Acme")).OnlyX(sys)
		c.Account.UpdateOne(acme).SetTaxNo("T-ACME-2").ExecX(env.As(t, "admin"))
		view := env.As(t, "view")
		changed := func(listed bool) map[string]bool {
			entries, err := env.Runtime.History(view, env.DB.SQL, "Account", acme.ID, listed)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, e := range entries {
				for _, ch := range e.Changes {
					out[ch.Field] = true
				}
			}
			return out
		}
		if changed(true)["taxNo"] {
			t.Error("view's history of Acme in a list shows taxNo, a sensitive field they see on the detail only")
		}
		if !changed(false)["taxNo"] {
			t.Error("view's history of Acme on its detail leaves taxNo out")
		}
		if changed(false)["creditLimit"] {
			t.Error("view's history shows creditLimit, hidden from them")
		}
		cross := c.Deal.Query().Where(deal.Title("Cross sale")).OnlyX(sys)
		entries, err := env.Runtime.History(env.As(t, "mgr"), env.DB.SQL, "Deal", cross.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			for _, ch := range e.Changes {
				if ch.Field == "account" && (ch.New != nil || ch.Old != nil) {
					t.Errorf("mgr's history of Cross sale names its account (West's Gamma): %v → %v", ch.Old, ch.New)
				}
			}
		}
	})
}
