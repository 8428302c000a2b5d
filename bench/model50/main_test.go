package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// TestModelIsValid keeps the benchmark's model one that crmgen accepts, with the size it claims.
func TestModelIsValid(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.yaml"), []byte(model()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := metamodel.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := metamodel.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	things := 0
	for _, e := range m.Entities {
		if len(e.Name) == 7 && e.Name[:5] == "Thing" {
			things++
		}
	}
	if things != entities {
		t.Errorf("the model has %d generated entities, want %d", things, entities)
	}
}
