package enforce_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/fixture/app/ent/account"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/extension"
)

// hookSeen records what the test's hooks saw, by account name.
var hookSeen = struct {
	sync.Mutex
	afterIDs map[string]int
	oldNames map[int]string
	setLate  map[string]error
}{afterIDs: map[string]int{}, oldNames: map[int]string{}, setLate: map[string]error{}}

// The hooks act only on accounts named "Hooked …", so the package's other tests see the fixture as it is.
func init() {
	extension.BeforeWrite("Account", func(ctx context.Context, w *extension.Write) error {
		name, err := w.String("name") // on update, read from the stored record when the write leaves it
		if err != nil || !strings.HasPrefix(name, "Hooked") || w.Op == extension.Delete {
			return err
		}
		if w.Op == extension.Update {
			hookSeen.Lock()
			hookSeen.oldNames[w.ID()] = name
			hookSeen.Unlock()
		}
		tax, err := w.String("taxNo")
		if err != nil {
			return err
		}
		switch {
		case tax == "BAD":
			return extension.Refuse("taxNo", "checksum", map[string]string{"zh": "税号校验位不正确", "en": "the tax number's check digit is wrong"})
		case tax == "" && w.Op == extension.Create:
			if err := w.Set("taxNo", "T-"+strings.ToUpper(strings.ReplaceAll(name, " ", "-"))); err != nil {
				return err
			}
			return w.Set("tier", "gold") // an enum, set by its key
		}
		return nil
	})
	extension.AfterWrite("Account", func(ctx context.Context, w *extension.Write) error {
		name, err := w.String("name")
		if err != nil || !strings.HasPrefix(name, "Hooked") || w.Op != extension.Create {
			return err
		}
		hookSeen.Lock()
		hookSeen.afterIDs[name] = w.ID()
		hookSeen.setLate[name] = w.Set("tier", "silver")
		hookSeen.Unlock()
		if name == "Hooked rollback" {
			return errors.New("after-write hook failed")
		}
		return nil
	})
}

// The app's hooks run inside the enforcement point: a refusal names its field with the hook's words in each
// locale and writes nothing; values a hook sets are written (and validated); an after-write hook sees the
// new id and its error rolls the transaction back.
func TestExtensionHooks(t *testing.T) {
	fixture.Each(t, func(t *testing.T, env *fixture.Env) {
		c := env.Client
		sys := env.System()
		rep := env.As(t, "rep1")

		_, err := c.Account.Create().SetName("Hooked bad").SetTaxNo("BAD").Save(rep)
		var ve *enforce.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "taxNo" || ve.Fields[0].Rule != "checksum" ||
			ve.Fields[0].Messages["zh"] != "税号校验位不正确" || ve.Fields[0].Msg != "the tax number's check digit is wrong" {
			t.Fatalf("a refused write: %v, want a validation error of taxNo with the hook's messages", err)
		}
		if n := c.Account.Query().Where(account.Name("Hooked bad")).CountX(sys); n != 0 {
			t.Errorf("a refused write left %d rows", n)
		}

		a, err := c.Account.Create().SetName("Hooked fill").Save(rep)
		if err != nil {
			t.Fatal(err)
		}
		if a.TaxNo == nil || *a.TaxNo != "T-HOOKED-FILL" || a.Tier != account.TierGold {
			t.Errorf("filled by the hook: taxNo %v, tier %v; want T-HOOKED-FILL and gold", a.TaxNo, a.Tier)
		}
		hookSeen.Lock()
		afterID, lateErr := hookSeen.afterIDs["Hooked fill"], hookSeen.setLate["Hooked fill"]
		hookSeen.Unlock()
		if afterID != a.ID {
			t.Errorf("the after-write hook saw id %d, want %d", afterID, a.ID)
		}
		if lateErr == nil {
			t.Error("an after-write hook could set a field of a write already made")
		}

		if err := c.Account.UpdateOneID(a.ID).SetTier(account.TierSilver).Exec(rep); err != nil {
			t.Fatal(err)
		}
		hookSeen.Lock()
		old := hookSeen.oldNames[a.ID]
		hookSeen.Unlock()
		if old != "Hooked fill" {
			t.Errorf("an update's hook read name %q, want the stored Hooked fill", old)
		}
		if err := c.Account.UpdateOneID(a.ID).SetTaxNo("BAD").Exec(rep); !errors.As(err, &ve) {
			t.Errorf("an update to a refused value: %v", err)
		}

		tx, err := c.Tx(rep)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Account.Create().SetName("Hooked rollback").Save(rep)
		if err == nil || errors.As(err, &ve) {
			t.Errorf("a failing after-write hook: %v, want its error", err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := c.Account.Query().Where(account.Name("Hooked rollback")).CountX(sys); n != 0 {
			t.Errorf("the transaction of a failed after-write hook kept %d rows", n)
		}
	})
}
