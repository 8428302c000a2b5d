package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/generator"
)

// extend/ is started only where the app has none — from the model's extend/ when it has one, else from
// the starter — and neither a later start nor the removal of stale generated files touches it.
func TestExtendWrittenOnce(t *testing.T) {
	starter := generator.Files{"extend/extend.go": []byte("package extend // starter\n")}

	model := t.TempDir()
	if src, err := extendSource(model, starter); err != nil || string(src["extend/extend.go"]) != "package extend // starter\n" {
		t.Fatalf("a model without extend/: %v %v, want the starter", src, err)
	}
	if err := os.MkdirAll(filepath.Join(model, "extend", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, s := range map[string]string{"extend/hooks.go": "package extend // the model's\n", "extend/sub/x.txt": "data\n"} {
		if err := os.WriteFile(filepath.Join(model, filepath.FromSlash(p)), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := extendSource(model, starter)
	if err != nil || len(src) != 2 || string(src["extend/hooks.go"]) != "package extend // the model's\n" || src["extend/sub/x.txt"] == nil {
		t.Fatalf("a model with extend/: %v %v, want its two files", src.Paths(), err)
	}

	app := t.TempDir()
	p := planWrite(app, generator.Files{"main.go": []byte("package main\n")}, nil)
	p.start(src)
	if err := p.apply(); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(app, "extend", "hooks.go")
	if b, err := os.ReadFile(mine); err != nil || string(b) != "package extend // the model's\n" {
		t.Fatalf("a new app's extend/hooks.go: %q %v", b, err)
	}
	// The team edits the file; the next generation, whose previous manifest lists every file it wrote,
	// leaves extend/ as it is.
	if err := os.WriteFile(mine, []byte("package extend // edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prev := &generator.Manifest{Files: map[string]string{"main.go": "x", "old.go": "y"}}
	p = planWrite(app, generator.Files{"main.go": []byte("package main\n")}, prev)
	p.start(starter)
	if p.changes() != 0 {
		t.Errorf("regenerating an app that has extend/ would change %v and remove %v", keys(p.write), p.remove)
	}
	if err := p.apply(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mine); string(b) != "package extend // edited\n" {
		t.Errorf("extend/hooks.go after regenerating: %q, want the team's edit", b)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
