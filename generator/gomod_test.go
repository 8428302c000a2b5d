package generator_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/crmgen/crmgen"
)

// TestGoMod expects the go.mod of an app generated without Options.CrmgenDir to require crmgen at the
// version of the running binary (a test binary has none, so crmgen.Version) with no replace, its go.sum to
// hold the sum of crmgen's go.mod at that version, and no generated file to name this checkout: the app
// builds wherever the module proxy serves crmgen. TestPortable (cmd/crmgen/cli) builds such an app.
func TestGoMod(t *testing.T) {
	res := generateSmall(t)
	f, err := modfile.Parse("go.mod", res.Files["go.mod"], nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Replace) > 0 {
		t.Errorf("go.mod replaces %s => %s", f.Replace[0].Old.Path, f.Replace[0].New.Path)
	}
	found := false
	for _, r := range f.Require {
		if r.Mod.Path == crmgen.ModulePath {
			found = r.Mod.Version == crmgen.Version
			if !found {
				t.Errorf("go.mod requires %s %s, want %s", r.Mod.Path, r.Mod.Version, crmgen.Version)
			}
		}
	}
	if !found {
		t.Errorf("go.mod does not require %s:\n%s", crmgen.ModulePath, res.Files["go.mod"])
	}
	if want := crmgen.ModulePath + " " + crmgen.Version + "/go.mod h1:"; !strings.Contains(string(res.Files["go.sum"]), "\n"+want) {
		t.Errorf("go.sum has no line %q", want)
	}
	checkout, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Files.Paths() {
		if bytes.Contains(res.Files[p], []byte(checkout)) {
			t.Errorf("%s names the checkout %s", p, checkout)
		}
	}
}
