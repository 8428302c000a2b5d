package seed_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture/app/backend"
	_ "github.com/crmgen/crmgen/internal/fixture/app/ent/runtime" // the schemas' hooks and interceptors
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/metamodel"
	platformapp "github.com/crmgen/crmgen/platform/app"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/seed"
)

// TestLoadIfEmptyNeverReloads: data is loaded into an empty database once. Later starts load nothing —
// not the same data, not a model's new data, and not reference data without users, which a database
// without users but with records must not get twice.
func TestLoadIfEmptyNeverReloads(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "seed.db") }}, {"postgres", pgtest.DSN}} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			full, err := metamodel.Unmarshal(backend.Model)
			if err != nil {
				t.Fatal(err)
			}
			d, err := database.Open(db.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			p, err := platformapp.NewPlatform(ctx, full, d, backend.Open, platformapp.PlatformConfig{Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			// Reference data only: the tags, and no users.
			tagsOnly := *full
			tagsOnly.Data = &metamodel.Data{}
			for _, s := range full.Data.Sets {
				if s.Entity == "Tag" {
					tagsOnly.Data.Sets = append(tagsOnly.Data.Sets, s)
				}
			}
			ctx = p.Context(ctx)
			n, err := seed.LoadIfEmpty(ctx, &tagsOnly, p.Backend)
			if err != nil || n != 2 {
				t.Fatalf("first load: %d records, %v; want the 2 tags", n, err)
			}
			for _, m := range []*metamodel.Model{&tagsOnly, full} {
				if n, err := seed.LoadIfEmpty(ctx, m, p.Backend); err != nil || n != 0 {
					t.Errorf("load into a database with data: %d records, %v; want none", n, err)
				}
			}
			if tags, err := p.Backend.Count(enforce.System(ctx), "Tag"); err != nil || tags != 2 {
				t.Errorf("%d tags (%v), want 2", tags, err)
			}
		})
	}
}
