// Package e2e drives generated applications end to end: each test generates an app from a model with the
// real CLI, builds it, starts it against a fresh SQLite file and a fresh Postgres database, and talks to it
// over HTTP.
package e2e

import (
	"os"
	"sync"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	apptest.StopDetached()
	pgtest.Stop()
	os.Exit(code)
}

var (
	apps   = map[string]*apptest.App{}
	appsMu sync.Mutex
)

// built returns the app generated from modelDir, building it once per test binary.
func built(t testing.TB, modelDir, name string) *apptest.App {
	t.Helper()
	appsMu.Lock()
	defer appsMu.Unlock()
	if a := apps[name]; a != nil {
		return a
	}
	a := apptest.Build(t, modelDir, name)
	apps[name] = a
	return a
}

// kitchen is the app of testdata/kitchen, which uses every feature of the foundation.
func kitchen(t *testing.T) *apptest.App { return built(t, "e2e/testdata/kitchen", "kitchen") }

// onEachDB runs fn against a fresh server on SQLite and on Postgres, signed in as the demo admin. Its
// workflow timers are off: the demo data's dates are fixed, so which timers are due at start depends on
// the day the tests run, and tests of the data must not (timer tests start their servers themselves).
func onEachDB(t *testing.T, a *apptest.App, fn func(t *testing.T, s *apptest.Server)) {
	onEachDSN(t, a, func(t *testing.T, s *apptest.Server, _ string) { fn(t, s) })
}

// onEachDSN is onEachDB for tests that also read the database itself: fn gets its DSN.
func onEachDSN(t *testing.T, a *apptest.App, fn func(t *testing.T, s *apptest.Server, dsn string)) {
	eachDB(t, func(t *testing.T, dsn string) {
		// Uploaded files in the test's own directory (by default they are kept next to a SQLite
		// database, but in ./files, the package's directory, for Postgres).
		fn(t, a.Start(t, dsn, noTimers, "--files="+t.TempDir()).As(t, "admin", "admin123"), dsn)
	})
}

// eachDB runs fn as a subtest on a new SQLite database and on a new Postgres database.
func eachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", apptest.SQLitePath}, {"postgres", pgtest.DSN}} {
		t.Run(db.name, func(t *testing.T) { fn(t, db.dsn(t)) })
	}
}

// noTimers turns an app's workflow timers off.
const noTimers = "--timer-interval=0"
