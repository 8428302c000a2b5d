package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/cmd/crmgen/cli"
	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
)

// evolveVersions returns the apps of testdata/evolve/v1 and of v2 regenerated over it, built once per
// test binary.
func evolveVersions(t *testing.T) (v1, v2 *apptest.App) {
	t.Helper()
	v1 = built(t, "e2e/testdata/evolve/v1", "evolve-v1")
	appsMu.Lock()
	defer appsMu.Unlock()
	if v2 = apps["evolve-v2"]; v2 == nil {
		v2 = apptest.Regenerate(t, v1, "e2e/testdata/evolve/v2", "evolve-v2")
		apps["evolve-v2"] = v2
	}
	return v1, v2
}

// TestEvolveKeepsData runs an app, writes records through its API (a workflow step among them), stops
// it, and starts the app of the next version of the model on the same database, on SQLite and Postgres:
// the next version renames Customer.phone to mobile (renamedFrom), drops fax (generated with
// --allow-destructive), adds email, an enum value and a relation. Every record keeps its id and values
// under their new names, the ticket keeps its workflow history, the dropped field is gone from the API,
// the new ones work, and the demo data — v2's included — is loaded only into the empty database.
func TestEvolveKeepsData(t *testing.T) {
	v1, v2 := evolveVersions(t)
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", apptest.SQLitePath}, {"postgres", pgtest.DSN}} {
		t.Run(db.name, func(t *testing.T) {
			dsn := db.dsn(t)
			s := v1.Start(t, dsn, noTimers).As(t, "admin", "admin123")
			acme := create(t, s, v1.Model, "Customer", map[string]any{"name": "Acme", "phone": "13800000001", "fax": "010-999", "grade": "B"}, "")
			beta := create(t, s, v1.Model, "Customer", map[string]any{"name": "Beta", "phone": "13800000002"}, "")
			acmeID, betaID := str(t, acme, "id"), str(t, beta, "id")
			done := createID(t, s, v1.Model, "Ticket", map[string]any{"title": "broken printer", "customer": acmeID})
			open := createID(t, s, v1.Model, "Ticket", map[string]any{"title": "new laptop", "customer": betaID})
			query(t, s, `mutation($id: ID!) { transitionTicket(id: $id, transition: "finish", comment: "replaced the toner") { id } }`,
				map[string]any{"id": done})
			before := counts(t, s, v1.Model)
			if before["Customer"] != 3 || before["Ticket"] != 2 {
				t.Fatalf("v1 holds %v, want 3 customers (the demo one and two written) and 2 tickets", before)
			}
			s.Stop()

			// A restart of the same version loads no demo data into the filled database.
			s = v1.Start(t, dsn, noTimers).As(t, "admin", "admin123")
			sameCounts(t, "after a restart of v1", before, counts(t, s, v1.Model))
			s.Stop()

			s = v2.Start(t, dsn, noTimers).As(t, "admin", "admin123")
			after := counts(t, s, v2.Model)
			sameCounts(t, "after the start of v2 (whose data adds a customer)", before, after)
			if total(t, s, v2.Model, "Customer", map[string]any{"name": "Demo2"}) != 0 {
				t.Error("v2's demo customer was loaded into a database that had data")
			}

			const sel = `id name mobile email grade referredBy { id } tickets { edges { node { id } } }`
			a := node(t, s, "Customer", acmeID, sel)
			if a["name"] != "Acme" || a["mobile"] != "13800000001" || a["grade"] != "B" || a["email"] != nil {
				t.Errorf("Acme after the upgrade: %v; want its phone as mobile, grade B and no email", a)
			}
			if got := ids(t, nodesAt(t, a, "tickets")); !slices.Equal(got, []string{done}) {
				t.Errorf("Acme's tickets after the upgrade: %v, want [%s]", got, done)
			}
			if b := node(t, s, "Customer", betaID, sel); b["mobile"] != "13800000002" {
				t.Errorf("Beta after the upgrade: %v, want its phone as mobile", b)
			}
			demo := lookup(t, s, v2.Model, "Customer", map[string]any{"name": "Demo"})
			if d := node(t, s, "Customer", demo, sel); d["mobile"] != "010-1" || d["grade"] != "A" {
				t.Errorf("the demo customer after the upgrade: %v", d)
			}

			const tsel = `title status workflowHistory { from to transition user comment } availableTransitions { name }`
			tk := node(t, s, "Ticket", done, tsel)
			if tk["status"] != "done" {
				t.Errorf("finished ticket after the upgrade: %v", tk)
			}
			if got := jsonString(tk["workflowHistory"]); !strings.Contains(got, `"comment":"replaced the toner","from":"open","to":"done","transition":"finish","user":"admin"`) {
				t.Errorf("finished ticket's history after the upgrade: %s", got)
			}
			// The open ticket still runs its workflow under the new version, and its history grows.
			query(t, s, `mutation($id: ID!) { transitionTicket(id: $id, transition: "finish") { id } }`, map[string]any{"id": open})
			if h := list(t, node(t, s, "Ticket", open, tsel), "workflowHistory"); len(h) != 2 || at(t, h[1], "to") != "done" {
				t.Errorf("open ticket's history after finishing it under v2: %s", jsonString(h))
			}

			// The dropped field is gone from the API, for reading and for writing.
			if e := mustFail(t, s, `query($id: ID!) { node(id: $id) { ... on Customer { fax } } }`, map[string]any{"id": acmeID}); !strings.Contains(e.Message, "fax") {
				t.Errorf("reading the dropped field: %+v", e)
			}
			if e := mustFail(t, s, `mutation { createCustomer(input: {name: "Fax", fax: "1"}) { id } }`, nil); !strings.Contains(e.Message, "fax") {
				t.Errorf("writing the dropped field: %+v", e)
			}

			// The new field, enum value and relation work.
			a = update(t, s, "Customer", acmeID, map[string]any{"email": "it@acme.example", "grade": "C"}, "email grade")
			if a["email"] != "it@acme.example" || a["grade"] != "C" {
				t.Errorf("Acme with the new field and grade: %v", a)
			}
			gamma := createID(t, s, v2.Model, "Customer", map[string]any{"name": "Gamma", "mobile": "13800000003", "referredBy": acmeID})
			if got := ids(t, nodesAt(t, node(t, s, "Customer", acmeID, `referrals { edges { node { id } } }`), "referrals")); !slices.Equal(got, []string{gamma}) {
				t.Errorf("Acme's referrals: %v, want [%s]", got, gamma)
			}
			after = counts(t, s, v2.Model)
			s.Stop()

			// A restart of v2 changes nothing: the renames are done, and the data is not loaded again.
			s = v2.Start(t, dsn, noTimers).As(t, "admin", "admin123")
			sameCounts(t, "after a restart of v2", after, counts(t, s, v2.Model))
			if a := node(t, s, "Customer", acmeID, sel); a["mobile"] != "13800000001" || a["email"] != "it@acme.example" {
				t.Errorf("Acme after a restart of v2: %v", a)
			}
			// A new customer gets an id of its entity's range, which the SQLite rebuild of the table keeps.
			delta := createID(t, s, v2.Model, "Customer", map[string]any{"name": "Delta"})
			if d := node(t, s, "Customer", delta, "name"); d["name"] != "Delta" {
				t.Errorf("a customer created after the upgrade: %v", d)
			}
			s.Stop()

			// The database had both migrations; v1's app, which has only the first, refuses to start on it.
			out := runApp(t, v2, "migrate", "--db", dsn, "--dry-run")
			if !strings.Contains(out, "applied  0001_init.sql\napplied  0002_model.sql\n2 applied, 0 pending") {
				t.Errorf("evolve migrate --dry-run:\n%s", out)
			}
			cmd := exec.Command(v1.Bin, "--db", dsn, "--addr", "127.0.0.1:0", noTimers)
			b, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(b), "the database is ahead of this app: it has had migration 0002 (0002_model.sql)") {
				t.Errorf("v1 on the database v2 migrated: %v\n%s", err, b)
			}
		})
	}
}

// TestEvolveMigrationFiles: generating v2 over v1 added a migration per database that renames phone
// (keeping its values), drops fax and adds the new columns, and carried v1's file over unchanged.
func TestEvolveMigrationFiles(t *testing.T) {
	v1, v2 := evolveVersions(t)
	for dir, want := range map[string][]string{
		"sqlite":   {"INSERT INTO `new_customers` (`id`, `name`, `mobile`, `grade`, `created_at`, `updated_at`, `owner_id`) SELECT `id`, `name`, `phone`, `grade`,", "`email` text NULL", "`referred_by_id` integer NULL"},
		"postgres": {`ALTER TABLE "customers" RENAME COLUMN "phone" TO "mobile"`, `DROP COLUMN "fax"`, `ADD COLUMN "email" character varying NULL`, `ADD COLUMN "referred_by_id" bigint NULL`},
	} {
		b, err := os.ReadFile(filepath.Join(v2.Dir, "migrations", dir, "0002_model.sql"))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s migration lacks %q:\n%s", dir, w, b)
			}
		}
		init1, _ := os.ReadFile(filepath.Join(v1.Dir, "migrations", dir, "0001_init.sql"))
		init2, _ := os.ReadFile(filepath.Join(v2.Dir, "migrations", dir, "0001_init.sql"))
		if len(init1) == 0 || string(init1) != string(init2) {
			t.Errorf("%s: v2's first migration differs from v1's", dir)
		}
	}
}

// TestEvolveDiffSQL: crmgen diff, run with v2's model on v1's app, says what changes at the model's
// positions, lists what the app's next start would run on a database (--db), and prints the SQL of the
// migration generate would add, for SQLite and Postgres, writing nothing.
func TestEvolveDiffSQL(t *testing.T) {
	v1, _ := evolveVersions(t)
	model := filepath.Join(apptest.RepoRoot(), "e2e", "testdata", "evolve", "v2")
	// A database no app has started on yet: the app's next start there runs its first migration.
	db := apptest.SQLitePath(t)
	var stdout, stderr bytes.Buffer
	if code := cli.Do([]string{"diff", model, "-o", v1.Dir, "--db", db}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("crmgen diff: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		filepath.Join(model, "model.yaml") + ":24:7: renamed field Customer.mobile (phone → mobile)",
		"dropped field Customer.fax: destructive",
		"the database has had 0 of the app's migrations; the app's next start there runs:\n\n" + filepath.Join(v1.Dir, "migrations", "sqlite", "0001_init.sql") + ":\n-- Generated by crmgen",
		"SQLite (migrations/sqlite/0002_model.sql):\n  PRAGMA foreign_keys = off;",
		"SELECT `id`, `name`, `phone`, `grade`",
		"Postgres (migrations/postgres/0002_model.sql):\n",
		`  ALTER TABLE "customers" RENAME COLUMN "phone" TO "mobile";`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(v1.Dir, "migrations", "sqlite", "0002_model.sql")); err == nil {
		t.Error("diff wrote a migration into the app")
	}
}

// runApp runs an app's command (not its server) and returns its output; the test fails if it fails.
func runApp(t *testing.T, a *apptest.App, args ...string) string {
	t.Helper()
	b, err := exec.Command(a.Bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(a.Bin), strings.Join(args, " "), err, b)
	}
	return string(b)
}

// TestEvolveRefusesDestructive: regenerating the app of v1 from v2 without --allow-destructive is
// refused, naming the dropped field and the line of its entity in v2, and writes nothing.
func TestEvolveRefusesDestructive(t *testing.T) {
	v1 := built(t, "e2e/testdata/evolve/v1", "evolve-v1")
	dir := t.TempDir()
	js, err := os.ReadFile(filepath.Join(v1.Dir, "backend", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "backend"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "backend", "model.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(apptest.RepoRoot(), "e2e", "testdata", "evolve", "v2")
	var stdout, stderr bytes.Buffer
	if code := cli.Do([]string{"generate", "--dev", model, "-o", dir}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("generate v2 over v1 without --allow-destructive: exit %d, want 1\n%s%s", code, stdout.String(), stderr.String())
	}
	want := filepath.Join(model, "model.yaml") + ":19:3: dropped field Customer.fax: destructive"
	if !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "--allow-destructive") {
		t.Errorf("refusal lacks %q and the flag that allows it:\n%s", want, stderr.String())
	}
	for _, ok := range []string{"renamed field Customer.mobile", "added field Customer.email"} {
		if strings.Contains(stderr.String(), ok) {
			t.Errorf("refusal lists a change that keeps data (%s):\n%s", ok, stderr.String())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("generate wrote into %s although it refused: %v", dir, entries)
	}
}
