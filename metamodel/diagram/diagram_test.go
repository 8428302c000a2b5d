package diagram

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmgen/crmgen/metamodel"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata and the diagrams in the examples' READMEs")

func load(t *testing.T, dir string) *metamodel.Model {
	t.Helper()
	m, err := metamodel.Load(dir)
	if err == nil {
		m, err = metamodel.Build(m)
	}
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return m
}

// golden compares got with the file want, or rewrites it with -update.
func golden(t *testing.T, want string, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(b), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", want, diff)
	}
}

// TestGolden draws the models under testdata in each of their locales and compares the Markdown with
// <model>/<locale>.md.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no models under testdata (%v)", err)
	}
	for _, dir := range dirs {
		m := load(t, dir)
		for _, locale := range m.App.Locales {
			t.Run(filepath.Base(dir)+"/"+locale, func(t *testing.T) {
				got := Markdown(All(m, locale))
				golden(t, filepath.Join(dir, locale+".md"), got)
				if again := Markdown(All(load(t, dir), locale)); again != got {
					t.Error("the diagrams of the same model differ between two runs")
				}
			})
		}
	}
}
