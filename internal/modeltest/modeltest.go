// Package modeltest builds the models that unit tests write inline, as YAML.
package modeltest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// FromYAML is the model of src, a model file, loaded and built as crmgen loads and builds a model
// directory; an error fails the test.
func FromYAML(tb testing.TB, src string) *metamodel.Model {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.yaml"), []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	m, err := metamodel.Load(dir)
	if err == nil {
		m, err = metamodel.Build(m)
	}
	if err != nil {
		tb.Fatalf("model: %v", err)
	}
	return m
}
