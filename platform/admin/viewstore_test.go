package admin

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/database"
)

// The saved views' table on both databases: a user lists their own views and the shared ones; only the
// owner deletes a view, a superuser a shared one too; creating the table twice is harmless.
func TestViewStore(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "v.db") }}, {"postgres", pgtest.DSN}} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			d, err := database.Open(db.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			v := &ViewStore{DB: d.SQL, Dialect: d.Dialect}
			for range 2 {
				if err := v.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(v.create(ctx, 1, "Patient", "A", "f.grade=A", true))
			must(v.create(ctx, 1, "Patient", "mine", "sort=name", false))
			must(v.create(ctx, 2, "Patient", "theirs", "sort=-name", false))
			must(v.create(ctx, 2, "Visit", "visits", "", false))
			names := func(user int) []string {
				vs, err := v.list(ctx, user, "Patient")
				must(err)
				var out []string
				for _, x := range vs {
					out = append(out, x.Name)
				}
				return out
			}
			if got := names(2); len(got) != 2 || got[0] != "A" || got[1] != "theirs" {
				t.Errorf("user 2 sees %q, want the shared A first, then theirs", got)
			}
			vs, _ := v.list(ctx, 2, "Patient")
			shared := vs[0].ID
			if ok, err := v.remove(ctx, shared, 2, false); err != nil || ok {
				t.Errorf("a user deleted another's shared view (%v)", err)
			}
			if ok, err := v.remove(ctx, vs[1].ID, 1, true); err != nil || ok {
				t.Errorf("a superuser deleted another's private view (%v)", err)
			}
			if ok, err := v.remove(ctx, shared, 3, true); err != nil || !ok {
				t.Errorf("a superuser could not delete a shared view (%v)", err)
			}
			if got := names(1); len(got) != 1 || got[0] != "mine" {
				t.Errorf("user 1 sees %q after the deletion", got)
			}
		})
	}
}

func TestViewQuery(t *testing.T) {
	if got := cleanViewQuery("?f.grade=A&after=xyz&o=25&p=3&t=100&cols=name&n=50"); got != "cols=name&f.grade=A&n=50" {
		t.Errorf("cleanViewQuery kept %q", got)
	}
}
