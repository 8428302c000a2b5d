package metamodel

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary files to the loader and Build: they may report errors but must never panic.
func FuzzLoad(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _ := loadSources([]source{{name: "fuzz.yaml", data: data}})
		if m == nil {
			t.Fatal("loadSources returned no model")
		}
		m, _ = Build(m)
		if m != nil && m.built {
			if _, err := Marshal(m); err != nil {
				t.Fatalf("Marshal of a built model: %v", err)
			}
		}
	})
}
