package metamodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"gopkg.in/yaml.v3"
)

// TestSchemaFile keeps the committed crmgen.schema.json, which the examples' modelines point to, equal to
// JSONSchema (go test -update rewrites it).
func TestSchemaFile(t *testing.T) {
	got := JSONSchema()
	if *update {
		if err := os.WriteFile(SchemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(SchemaFile)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is out of date (go test ./metamodel -run TestSchemaFile -update) (-want +got):\n%s", SchemaFile, diff)
	}
	if !bytes.Equal(got, JSONSchema()) {
		t.Error("JSONSchema is not deterministic")
	}
}

// TestSchemaAcceptsModels validates every file of the examples, of the valid corpus and the starter model
// against the schema with a JSON Schema validator: what the loader accepts, the schema accepts too.
func TestSchemaAcceptsModels(t *testing.T) {
	sch := compileSchema(t)
	var files []string
	for _, root := range []string{"../examples", "testdata/valid"} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
			}
			return err
		})
	}
	if len(files) < 20 {
		t.Fatalf("found %d model files, want the examples and the valid corpus", len(files))
	}
	files = append(files, "../templates/starter/model.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("{{ .Name }}"), []byte("starter")) // the starter is a template
		for _, p := range schemaProblems(t, sch, data) {
			t.Errorf("%s:%s", f, p)
		}
	}
}

// TestModelines checks that every example model file starts with the modeline that points editors to the
// committed schema, and that the starter model points to the schema init writes next to it.
func TestModelines(t *testing.T) {
	files, err := filepath.Glob("../examples/*/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Glob("../examples/*/data/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, data...)
	if len(files) < 20 {
		t.Fatalf("found %d example model files, want the examples", len(files))
	}
	abs, err := filepath.Abs(SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "# yaml-language-server: $schema="
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		rel, ok := strings.CutPrefix(line, prefix)
		if !ok {
			t.Errorf("%s: first line %q, want %s<relative path to metamodel/%s>", f, line, prefix, SchemaFile)
			continue
		}
		if got, _ := filepath.Abs(filepath.Join(filepath.Dir(f), rel)); got != abs {
			t.Errorf("%s: modeline points to %s, want %s", f, got, abs)
		}
	}
	b, err := os.ReadFile("../templates/starter/model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := prefix + SchemaFile + "\n"; !strings.HasPrefix(string(b), want) {
		t.Errorf("the starter model does not start with %q", want)
	}
}

// TestSchemaCatchesStructuralErrors checks that what the loader rejects as an unknown key or a value of the
// wrong kind in the broken corpus, the schema rejects too, at the same line and column: an editor shows
// it as it is typed. Inside a misspelt key, which the loader reads as the key it most likely means, the
// schema stops at the key.
func TestSchemaCatchesStructuralErrors(t *testing.T) {
	sch := compileSchema(t)
	dirs, err := filepath.Glob("testdata/broken/*")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		m, err := Load(dir)
		var list ErrorList
		if !errors.As(err, &list) || m.incomplete && strings.Contains(list.Error(), "invalid YAML") {
			continue
		}
		flagged := map[string]bool{}
		misspelt := map[string][2]int{} // file → the lines of a misspelt key's value
		for _, e := range list {
			if e.Pos.File == "" || flagged[e.Pos.File] {
				continue
			}
			flagged[e.Pos.File] = true
			data, err := os.ReadFile(filepath.Join(dir, e.Pos.File))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range schemaProblems(t, sch, data) {
				flagged[e.Pos.File+":"+strings.SplitN(p, ": ", 2)[0]] = true
			}
		}
		for _, e := range list {
			if strings.Contains(e.Msg, "unknown key") && strings.Contains(e.Msg, "did you mean") {
				if r, ok := misspelt[e.Pos.File]; !ok || e.Pos.Line > r[1] {
					misspelt[e.Pos.File] = [2]int{e.Pos.Line, valueEnd(t, filepath.Join(dir, e.Pos.File), e.Pos)}
				}
			}
		}
		for _, e := range list {
			if !strings.Contains(e.Msg, "unknown key") && !strings.Contains(e.Msg, ": want ") {
				continue
			}
			if r, ok := misspelt[e.Pos.File]; ok && e.Pos.Line > r[0] && e.Pos.Line <= r[1] {
				continue
			}
			checked++
			at := fmt.Sprintf("%s:%d:%d", e.Pos.File, e.Pos.Line, e.Pos.Col)
			if !flagged[at] {
				t.Errorf("%s: the schema accepts what the loader rejects: %s", filepath.Join(dir, at), e.Msg)
			}
		}
	}
	t.Logf("checked %d structural errors of the broken corpus", checked)
	if checked < 20 {
		t.Errorf("checked %d structural errors of the broken corpus, want at least 20", checked)
	}
}

// valueEnd returns the last line of the value of the key at pos in file.
func valueEnd(t *testing.T, file string, pos Pos) int {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	end := pos.Line
	var find func(n *yaml.Node)
	var last func(n *yaml.Node)
	last = func(n *yaml.Node) {
		end = max(end, n.Line)
		for _, c := range n.Content {
			last(c)
		}
	}
	find = func(n *yaml.Node) {
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && c.Line == pos.Line && c.Column == pos.Col {
				last(n.Content[i+1])
			}
			find(c)
		}
	}
	find(&doc)
	return end
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///crmgen.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("file:///crmgen.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// schemaProblems validates each YAML document of a file against the schema and returns the problems as
// "line:col: message", positioned like the loader's: at the value of the wrong kind, or at the unknown key.
func schemaProblems(t *testing.T, sch *jsonschema.Schema, data []byte) []string {
	t.Helper()
	var out []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		root := doc.Content[0]
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustJSON(t, yamlJSON(root))))
		if err != nil {
			t.Fatal(err)
		}
		var ve *jsonschema.ValidationError
		if err := sch.Validate(inst); errors.As(err, &ve) {
			out = append(out, schemaErrors(root, ve)...)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// schemaErrors flattens a validation error into positioned messages.
func schemaErrors(root *yaml.Node, ve *jsonschema.ValidationError) []string {
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		n := nodeAt(root, e.InstanceLocation)
		if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && n != nil {
			for _, p := range ap.Properties {
				if k := keyNode(n, p); k != nil {
					out = append(out, fmt.Sprintf("%d:%d: additional property %q", k.Line, k.Column, p))
				}
			}
		}
		if n != nil && len(e.Causes) == 0 {
			out = append(out, fmt.Sprintf("%d:%d: %v", n.Line, n.Column, e.ErrorKind))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

// nodeAt follows a JSON instance location through a YAML node tree.
func nodeAt(n *yaml.Node, path []string) *yaml.Node {
	n = deref(n)
	for _, seg := range path {
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if deref(n.Content[i]).Value == seg {
					next = deref(n.Content[i+1])
				}
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i >= len(n.Content) {
				return nil
			}
			n = deref(n.Content[i])
		default:
			return nil
		}
		if n == nil {
			return nil
		}
	}
	return n
}

func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Value == key {
			return k
		}
	}
	return nil
}

// yamlJSON converts a YAML node to the JSON value an editor's YAML language server validates.
func yamlJSON(n *yaml.Node) any {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[deref(n.Content[i]).Value] = yamlJSON(n.Content[i+1])
		}
		return out
	case yaml.SequenceNode:
		out := []any{}
		for _, it := range n.Content {
			out = append(out, yamlJSON(it))
		}
		return out
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		_ = n.Decode(&b)
		return b
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n.Value
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
