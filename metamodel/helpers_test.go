package metamodel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// problems loads and builds a model directory and returns every error and warning, one a line, sorted by
// position. As in the CLI, Build runs after Load's errors too and reports them with its own.
func problems(t testing.TB, dir string) []string {
	t.Helper()
	m, err := Load(dir)
	if _, ok := err.(ErrorList); err != nil && !ok {
		t.Fatalf("Load: %v", err)
	}
	_, err = Build(m)
	var all ErrorList
	if err != nil {
		list, ok := err.(ErrorList)
		if !ok {
			t.Fatalf("Build: %v", err)
		}
		all = append(all, list...)
	}
	all = append(all, m.Warnings...)
	all.Sort()
	return lines(all)
}

func lines(l ErrorList) []string {
	out := []string{}
	for _, e := range l {
		out = append(out, e.Error())
	}
	return out
}

// writeModel writes files (name → content) into a new temporary directory.
func writeModel(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.TrimPrefix(content, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
