package generator_test

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmgen/crmgen/generator"
	"github.com/crmgen/crmgen/metamodel"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden from the current output")

// smallModel is the model of the golden and determinism tests.
const smallModel = "testdata/models/small"

// loadModel loads and builds a model directory.
func loadModel(t testing.TB, dir string) *metamodel.Model {
	t.Helper()
	m, err := metamodel.Load(dir)
	if err == nil {
		m, err = metamodel.Build(m)
	}
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m
}

// The small model is generated once per test binary: Generate runs entc and gqlgen, which take seconds.
var (
	smallOnce   sync.Once
	smallResult *generator.Result
	smallErr    error
)

// generateSmall returns the generation of the small model, shared by the tests of this package. Its
// Files must not be modified.
func generateSmall(t testing.TB) *generator.Result {
	t.Helper()
	smallOnce.Do(func() {
		m, err := metamodel.Load(smallModel)
		if err == nil {
			m, err = metamodel.Build(m)
		}
		if err == nil {
			err = logGoCommands(&smallGoLog, func() error {
				smallResult, err = generator.Generate(context.Background(), m, generator.Options{})
				return err
			})
		}
		smallErr = err
	})
	if smallErr != nil {
		t.Fatalf("generate %s: %v", smallModel, smallErr)
	}
	return smallResult
}

// golden reports whether a generated file is compared with a golden copy: the files crmgen writes itself
// and the GraphQL schema entgql derives. Left out are go.mod and go.sum (they copy crmgen's own, which
// change with its dependencies; TestGoMod checks what crmgen adds), the manifest (hashes of everything), and
// the bulky output of entc (everything under ent/ but the schemas) and of gqlgen (the executor and
// models).
func golden(path string) bool {
	switch path {
	case "go.mod", "go.sum", generator.ManifestPath, "graph/generated.go", "graph/models_gen.go":
		return false
	}
	if strings.HasPrefix(path, "ent/") {
		return strings.HasPrefix(path, "ent/schema/")
	}
	return true
}

// TestGolden compares the generated files of the small model with testdata/golden/small. Run
// `go test ./generator -run TestGolden -update` to rewrite them, then read the diff before committing.
func TestGolden(t *testing.T) {
	res := generateSmall(t)
	got := map[string][]byte{}
	for p, b := range res.Files {
		if golden(p) {
			got[p] = b
		}
	}
	// The files a reviewer of the goldens relies on must be among them.
	for _, p := range []string{"ent/schema/account.go", "ent/schema/category.go", "ent/schema/contact.go",
		"ent/schema/user.go", "ent/schema/team.go", "graph/crm.graphqls", "graph/ent.graphqls",
		"graph/resolver.go", "backend/backend.go", "gqlgen.yml", "main.go", "backend/model.json"} {
		if got[p] == nil {
			t.Errorf("Generate did not produce %s", p)
		}
	}

	dir := filepath.Join("testdata", "golden", "small")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for p, b := range got {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}

	want := readTree(t, dir)
	if len(want) == 0 {
		t.Fatalf("no golden files in %s (run go test -update to create them)", dir)
	}
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		w, inWant := want[p]
		g, inGot := got[p]
		switch {
		case !inWant:
			t.Errorf("%s: generated but has no golden copy (run go test -update)", p)
		case !inGot:
			t.Errorf("%s: has a golden copy but is no longer generated (run go test -update)", p)
		default:
			if diff := cmp.Diff(string(w), string(g)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", p, diff)
			}
		}
	}
}

// readTree reads every file under dir, keyed by slash-separated path relative to dir.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// TestSmallModelMapping checks, independently of the goldens (which -update rewrites wholesale), the
// decisions in the generated schemas that a wrong golden would most likely hide.
func TestSmallModelMapping(t *testing.T) {
	files := generateSmall(t).Files
	contains := []struct {
		path, what, want string
	}{
		// Required fields and edges are not Optional; optional ones are Optional and Nillable.
		{"ent/schema/account.go", "required name", `field.String("name").Comment("Name").Annotations(`},
		{"ent/schema/account.go", "optional notes", `field.Text("notes").Optional().Nillable().Annotations(`},
		{"ent/schema/contact.go", "required foreign key", `field.Int("account_id").Annotations(enforce.Guard{Guarded: true}),`},
		{"ent/schema/contact.go", "required edge", `edge.From("account", Account.Type).Ref("contacts").Field("account_id").Unique().Required().Comment("Account"),`},
		{"ent/schema/contact.go", "optional foreign key", `field.Int("manager_id").Optional().Nillable(),`},
		// The on-delete action sits on the edge.To of the target, which owns the foreign key's constraint.
		{"ent/schema/account.go", "Contact.account cascade", `edge.To("contacts", Contact.Type).Comment("Contact").Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.Cascade), `},
		{"ent/schema/category.go", "Account.category restrict", `edge.To("accounts", Account.Type).Comment("Account").Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.Restrict), `},
		{"ent/schema/category.go", "Category.parent cascade", `edge.To("children", Category.Type).Comment("Category").Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.Cascade), `},
		{"ent/schema/user.go", "Contact.manager set null", `edge.To("managed_contacts", Contact.Type).Comment("Contact").Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.SetNull), `},
		{"ent/schema/user.go", "Account.owner set null", `edge.To("accounts_by_owner", Account.Type).Comment("Account").Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.SetNull), `},
		// The secret password hash never reaches GraphQL.
		{"ent/schema/user.go", "secret passwordHash", `field.String("password_hash").Optional().Nillable().Sensitive().Comment("Password hash").Annotations(entgql.Skip(entgql.SkipAll)),`},
		// The many-to-many join table is named from the declaring side.
		{"ent/schema/account.go", "manyToMany storage", `edge.To("tags", Category.Type).StorageKey(edge.Table("account_tags"), edge.Columns("account_id", "category_id"))`},
		{"ent/schema/category.go", "manyToMany inverse", `edge.From("tagged_accounts", Account.Type).Ref("tags")`},
		// A virtual computed field is not stored; a stored one is, but is not writable.
		{"ent/schema/account.go", "stored computed", `field.Int("name_length").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput), `},
		{"graph/crm.graphqls", "virtual computed", "extend type Account {\n  \"\"\"Computed: record.employees * 2\"\"\"\n  doubled: Int\n}\n"},
	}
	for _, c := range contains {
		if !strings.Contains(string(files[c.path]), c.want) {
			t.Errorf("%s: %s: want it to contain\n\t%s", c.path, c.what, c.want)
		}
	}
	absent := []struct {
		path, what, notWant string
	}{
		{"ent/schema/account.go", "virtual computed stored", `"doubled"`},
		{"graph/ent.graphqls", "secret in GraphQL", "password"},
		{"graph/ent.graphqls", "secret in GraphQL", "Password"},
	}
	for _, c := range absent {
		if strings.Contains(string(files[c.path]), c.notWant) {
			t.Errorf("%s: %s: want no %q", c.path, c.what, c.notWant)
		}
	}
}
