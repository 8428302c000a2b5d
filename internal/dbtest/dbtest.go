// Package dbtest runs a platform test against a fresh database of each dialect the platform supports: a
// SQLite file in the test's temporary directory and a fresh Postgres database from internal/pgtest (whose
// server the test binary's TestMain stops with pgtest.Stop).
package dbtest

import (
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/database"
)

// Each runs f in one subtest per dialect, "sqlite" and "postgres", with the database open and its DSN
// (for tests that open more handles to it). The database is closed when the subtest ends.
func Each(t *testing.T, f func(t *testing.T, db *database.DB, dsn string)) {
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "test.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.dsn(t)
			db, err := database.Open(dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			f(t, db, dsn)
		})
	}
}
