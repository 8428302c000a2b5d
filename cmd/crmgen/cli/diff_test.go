package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// TestDiffAndDestructiveRefusal: an app generated from one model (its backend/model.json), then a model
// that renames a field with renamedFrom, adds one and drops another. diff says each at its position;
// generate refuses the drop, naming it, and writes nothing.
func TestDiffAndDestructiveRefusal(t *testing.T) {
	v1 := t.TempDir()
	writeFiles(t, v1, map[string]string{"model.yaml": `app: {name: evo}
entities:
  Lead:
    fields:
      name: {type: string}
      fax: {type: string}
      phone: {type: string}
`})
	m, err := metamodel.Load(v1)
	if err == nil {
		m, err = metamodel.Build(m)
	}
	if err != nil {
		t.Fatal(err)
	}
	js, err := metamodel.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	writeFiles(t, app, map[string]string{"backend/model.json": string(js)})

	v2 := t.TempDir()
	writeFiles(t, v2, map[string]string{"model.yaml": `app: {name: evo}
entities:
  Lead:
    fields:
      name: {type: string}
      mobile: {type: string, renamedFrom: phone}
      email: {type: email}
`})
	model := filepath.Join(v2, "model.yaml")
	r := run(t, 0, "diff", v2, "-o", app)
	for _, want := range []string{
		model + ":6:7: renamed field Lead.mobile (phone → mobile)",
		model + ":7:7: added field Lead.email",
		model + ":3:3: dropped field Lead.fax: destructive",
		"3 change(s)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, 1, "generate", v2, "-o", app)
	if !strings.Contains(r.stderr, model+":3:3: dropped field Lead.fax: destructive") || !strings.Contains(r.stderr, "--allow-destructive") {
		t.Errorf("generate's refusal:\n%s", r.stderr)
	}
	entries, _ := os.ReadDir(app)
	if len(entries) != 1 {
		t.Errorf("generate wrote into %s although it refused: %v", app, entries)
	}
}
