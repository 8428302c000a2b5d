package generator_test

import (
	"bytes"
	"encoding/json"
	"go/format"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/generator"
)

// The extend/ starter is the app's from the moment it is written: it is none of the generated files, so
// the manifest does not list it and no later generation can rewrite or remove it; the generated main
// imports its package, and it is gofmt-clean Go of package extend.
func TestExtendStarter(t *testing.T) {
	res := generateSmall(t)
	src := res.Starter["extend/extend.go"]
	if src == nil {
		t.Fatalf("no extend/extend.go starter; starter files: %v", res.Starter.Paths())
	}
	for p := range res.Files {
		if strings.HasPrefix(p, generator.ExtendDir+"/") {
			t.Errorf("%s is a generated file: a regeneration would rewrite it", p)
		}
	}
	var man generator.Manifest
	if err := json.Unmarshal(res.Files[generator.ManifestPath], &man); err != nil {
		t.Fatal(err)
	}
	for p := range man.Files {
		if strings.HasPrefix(p, generator.ExtendDir+"/") {
			t.Errorf("the manifest lists %s: a regeneration that no longer produced it would remove it", p)
		}
	}
	if formatted, err := format.Source(src); err != nil || !bytes.Equal(formatted, src) {
		t.Errorf("the starter is not gofmt-clean (%v):\n%s", err, src)
	}
	if !bytes.Contains(src, []byte("\npackage extend\n")) || !bytes.Contains(src, []byte(`extension.BeforeWrite("`)) {
		t.Errorf("the starter is not package extend with an example hook:\n%s", src)
	}
	if !bytes.Contains(res.Files["main.go"], []byte(`_ "small/extend"`)) {
		t.Errorf("main.go does not import the extend package:\n%s", res.Files["main.go"])
	}
}
