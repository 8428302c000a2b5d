package peers

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// TestModel checks that the benchmark's model loads and validates, and has what the queries and the
// data rely on.
func TestModel(t *testing.T) {
	spec, err := metamodel.Load("model")
	if err != nil {
		t.Fatalf("load bench/peers/model: %v", err)
	}
	m, err := metamodel.Build(spec)
	if err != nil {
		t.Fatalf("build bench/peers/model: %v", err)
	}
	if len(m.Roles) != 0 {
		t.Errorf("the model has %d roles; the benchmark signs in as a user of a model without roles, who may do everything", len(m.Roles))
	}
	for _, name := range []string{"Customer", "Opportunity"} {
		if m.Entity(name) == nil {
			t.Errorf("the model has no entity %s", name)
		}
	}
}

// TestScripts checks the shell scripts' syntax (bash -n), and that the files the run reads exist.
func TestScripts(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	// The benchmark scripts next door share bench/lib with this one: check them all.
	var scripts []string
	for _, pattern := range []string{"*.sh", "../*.sh", "../lib/*.sh"} {
		found, _ := filepath.Glob(pattern)
		scripts = append(scripts, found...)
	}
	if len(scripts) == 0 {
		t.Fatal("no script in bench/peers")
	}
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
	if py, err := exec.LookPath("python3"); err == nil {
		if out, err := exec.Command(py, "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])", "peers.py").CombinedOutput(); err != nil {
			t.Errorf("peers.py: %v\n%s", err, out)
		}
	}
	for _, f := range []string{"data.sql", "truth.sql", "wrk.lua", "peers.py", "postgraphile/graphile.config.mjs",
		"query/crmgen.graphql", "query/postgraphile.graphql", "query/crmgen-create.graphql"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("run.sh needs %s: %v", f, err)
		}
	}
}
