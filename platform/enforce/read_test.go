package enforce_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/fixture/app/ent"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/account"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/deal"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/team"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/enforce"
)

func TestMain(m *testing.M) {
	m.Run()
	pgtest.Stop()
}

// The fixture's data (internal/fixture/model): teams HQ ⊃ East, West; rep1 and mgr in East, rep2 and mix
// in West; accounts Acme (rep1, East), Beta (mgr, East), Gamma and Delta (rep2, West, Delta without a
// credit limit); deals Acme renewal (rep1), Beta pilot (mgr), Gamma rollout (rep2) and Cross sale (rep1,
// on Gamma: a deal East reads on an account it does not).

func accountNames(t *testing.T, ctx context.Context, q *ent.AccountQuery) []string {
	t.Helper()
	rows, err := q.All(ctx)
	if err != nil {
		t.Fatalf("query accounts: %v", err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

func dealTitles(t *testing.T, ctx context.Context, q *ent.DealQuery) []string {
	t.Helper()
	rows, err := q.All(ctx)
	if err != nil {
		t.Fatalf("query deals: %v", err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Title)
	}
	sort.Strings(out)
	return out
}

func same(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

// refused asserts that err refuses the field of entity.
func refused(t *testing.T, what string, err error, entity, field string) {
	t.Helper()
	var de *enforce.FieldDeniedError
	if !errors.As(err, &de) || de.Entity != entity || de.Field != field {
		t.Errorf("%s: %v, want the field %s.%s refused", what, err, entity, field)
	}
}

func TestReadScopesNarrowEveryQuery(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		same(t, "rep1's accounts", accountNames(t, env.As(t, "rep1"), c.Account.Query()), "Acme")
		same(t, "mgr's accounts (team East)", accountNames(t, env.As(t, "mgr"), c.Account.Query()), "Acme", "Beta")
		same(t, "view's accounts", accountNames(t, env.As(t, "view"), c.Account.Query()), "Acme", "Beta", "Delta", "Gamma")
		same(t, "admin's accounts", accountNames(t, env.As(t, "admin"), c.Account.Query()), "Acme", "Beta", "Delta", "Gamma")
		n, err := c.Deal.Query().Count(env.As(t, "rep2"))
		if err != nil || n != 1 {
			t.Errorf("rep2 counts %d deals (%v), want 1", n, err)
		}
		// A traversal from a readable row reaches only readable rows.
		ctx := env.As(t, "mgr")
		crossSale := c.Deal.Query().Where(deal.Title("Cross sale")).OnlyX(ctx)
		if n, err := crossSale.QueryAccount().Count(ctx); err != nil || n != 0 {
			t.Errorf("mgr reaches %d accounts from Cross sale (%v), want 0 (Gamma is West's)", n, err)
		}
	})
}

func TestNoRuntimeNoRows(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		if _, err := env.Client.Account.Query().All(context.Background()); err == nil {
			t.Error("a query without a runtime in its context ran")
		}
		if _, err := env.Client.Tag.Create().SetName("loose").Save(context.Background()); err == nil {
			t.Error("a write without a runtime in its context ran")
		}
	})
}

// Filters on a field the reader may not see are refused wherever they appear: at the top, under not and
// or, and inside a relation filter's subquery (which ent renders after its last error check).
func TestHiddenFiltersRefusedAtAnyDepth(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		rep1, view, mgr := env.As(t, "rep1"), env.As(t, "view"), env.As(t, "mgr")
		_, err := c.Account.Query().Where(account.CreditLimitGT(0)).All(rep1)
		refused(t, "rep1: creditLimit > 0", err, "Account", "creditLimit")
		_, err = c.Account.Query().Where(account.Not(account.Or(account.CreditLimitGT(0), account.Name("Acme")))).All(rep1)
		refused(t, "rep1: not(creditLimit > 0 or name = Acme)", err, "Account", "creditLimit")
		_, err = c.Deal.Query().Where(deal.HasAccountWith(account.CreditLimitGT(0))).All(rep1)
		refused(t, "rep1: deals with an account of creditLimit > 0", err, "Account", "creditLimit")
		_, err = c.Team.Query().Where(team.Not(team.HasAccountsWith(account.TaxNoHasPrefix("T-")))).Count(view)
		refused(t, "view: teams without accounts whose taxNo starts T- (sensitive)", err, "Account", "taxNo")
		_, err = c.Account.Query().Where(account.ReserveGT(0)).All(rep1)
		refused(t, "rep1: reserve (computed from the hidden creditLimit) > 0", err, "Account", "reserve")
		// A role that makes the sensitive field visible may filter on it.
		same(t, "mgr: taxNo = T-BETA", accountNames(t, mgr, c.Account.Query().Where(account.TaxNo("T-BETA"))), "Beta")
	})
}

// A field shown on some of the reader's rows only is null to them on the others: a filter there answers
// what it answers on null, whatever the stored value.
func TestPerRowFieldsFilterAsTheReaderSeesThem(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		mix := env.As(t, "mix") // viewer (all accounts, creditLimit hidden) + manager of West (shows it)
		same(t, "mix: creditLimit >= 0", accountNames(t, mix, c.Account.Query().Where(account.CreditLimitGTE(0))), "Gamma")
		same(t, "mix: not(creditLimit >= 0)", accountNames(t, mix, c.Account.Query().Where(account.Not(account.CreditLimitGTE(0)))))
		same(t, "mix: creditLimit is null", accountNames(t, mix, c.Account.Query().Where(account.CreditLimitIsNil())), "Acme", "Beta", "Delta")
		if err := enforce.SortContext(mix, "Account", account.FieldCreditLimit); err == nil {
			t.Error("mix may sort accounts by creditLimit, shown on some of their rows only")
		}
	})
}

// A foreign key to a row the reader may not read is null to them.
func TestForeignKeysToUnreadableRowsAreNull(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		gamma := c.Account.Query().Where(account.Name("Gamma")).OnlyX(env.System())
		mgr := env.As(t, "mgr")
		same(t, "mgr: deals of account Gamma", dealTitles(t, mgr, c.Deal.Query().Where(deal.AccountID(gamma.ID))))
		same(t, "mgr: deals not of account Gamma", dealTitles(t, mgr, c.Deal.Query().Where(deal.AccountIDNEQ(gamma.ID))), "Acme renewal", "Beta pilot")
		same(t, "mgr: not(deal of Gamma)", dealTitles(t, mgr, c.Deal.Query().Where(deal.Not(deal.AccountID(gamma.ID)))), "Acme renewal", "Beta pilot")
		same(t, "mgr: deals with an account", dealTitles(t, mgr, c.Deal.Query().Where(deal.HasAccount())), "Acme renewal", "Beta pilot")
		same(t, "mgr: deals without an account", dealTitles(t, mgr, c.Deal.Query().Where(deal.Not(deal.HasAccount()))), "Cross sale")
		same(t, "admin: deals of account Gamma", dealTitles(t, env.As(t, "admin"), c.Deal.Query().Where(deal.AccountID(gamma.ID))), "Cross sale", "Gamma rollout")
	})
}

func TestSoftDeletedRowsLeaveRelationFilters(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		sys := env.System()
		west := c.Team.Query().Where(team.Name("West")).OnlyX(sys)
		if n := c.Team.Query().Where(team.HasAccounts(), team.ID(west.ID)).CountX(sys); n != 1 {
			t.Fatalf("West has accounts: %d", n)
		}
		c.Account.Delete().Where(account.RegionID(west.ID)).ExecX(sys)
		if n := c.Team.Query().Where(team.HasAccounts(), team.ID(west.ID)).CountX(sys); n != 0 {
			t.Errorf("West still has accounts after its accounts were deleted (softly): %d", n)
		}
		if n := c.Team.Query().Where(team.HasAccounts(), team.ID(west.ID)).CountX(enforce.IncludeDeleted(sys)); n != 1 {
			t.Errorf("West has no accounts with deleted rows included: %d", n)
		}
	})
}

func TestComputedFieldsInheritRestrictions(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		rt := env.Runtime
		for _, c := range []struct {
			user, field string
			shows       bool
		}{
			{"rep1", "risk", false}, {"rep1", "reserve", false}, {"view", "risk", false},
			{"mgr", "risk", true}, {"mgr", "reserve", true},
		} {
			if got := rt.AccessOf(env.As(t, c.user), "Account").Shows(c.field); got != c.shows {
				t.Errorf("%s sees Account.%s: %v, want %v", c.user, c.field, got, c.shows)
			}
		}
	})
}
