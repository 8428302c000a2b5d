package generator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	entgen "entgo.io/ent/entc/gen"
	"github.com/google/go-cmp/cmp"

	"github.com/crmgen/crmgen/generator"
	"github.com/crmgen/crmgen/metamodel"
)

// TestDeterministic generates the small model a second time, from a freshly loaded model, and expects
// byte-identical files at the same paths, including entc's and gqlgen's output and the manifest. The
// second time gqlgen loads the ent package from source, as it does for a large model (gqlgenload.go):
// the go commands run show the first generation compiled the ent package for its export data and the
// second did not, and both modes generate the same files.
func TestDeterministic(t *testing.T) {
	first := generateSmall(t).Files
	var log string
	var second *generator.Result
	err := logGoCommands(&log, func() error {
		defer generator.SetSourceTypesAbove(0)()
		var err error
		second, err = generator.Generate(context.Background(), loadModel(t, smallModel), generator.Options{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if second.Reused {
		t.Error("a generation without Options.Previous reports Reused")
	}
	compareFiles(t, first, second.Files)
	module := moduleOf(first)
	if got := exportLoads(t, smallGoLog, module+"/ent"); got == 0 {
		t.Errorf("the small model's generation ran no `go list -export` of %s/ent: the check cannot see what it checks", module)
	}
	if got := exportLoads(t, log, module+"/ent"); got > 0 {
		t.Errorf("loading from source, generation still ran `go list -export` of %s/ent %d times", module, got)
	}
}

// compareFiles reports every path present in only one of want and got and every path whose contents differ.
func compareFiles(t *testing.T, want, got generator.Files) {
	t.Helper()
	if diff := cmp.Diff(want.Paths(), got.Paths()); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	for _, p := range want.Paths() {
		g, ok := got[p]
		if !ok || bytes.Equal(want[p], g) {
			continue
		}
		diff := cmp.Diff(string(want[p]), string(g))
		if len(diff) > 4000 {
			diff = diff[:4000] + "\n…"
		}
		t.Errorf("%s differs (-want +got):\n%s", p, diff)
	}
}

// TestGofmt expects every generated Go file, crmgen's and entc's and gqlgen's, to be gofmt-clean.
func TestGofmt(t *testing.T) {
	files := generateSmall(t).Files
	n := 0
	for _, p := range files.Paths() {
		if !strings.HasSuffix(p, ".go") {
			continue
		}
		n++
		got, err := format.Source(files[p])
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if !bytes.Equal(got, files[p]) {
			t.Errorf("%s is not gofmt-clean:\n%s", p, cmp.Diff(string(files[p]), string(got)))
		}
	}
	if n < 20 {
		t.Errorf("only %d Go files generated; want the ent schemas, client, resolvers and executor", n)
	}
}

// TestReuse generates with Options.Previous set to the manifest of an earlier generation and expects the
// earlier output to be reused, unchanged, while it is intact and the model is the same, and not otherwise.
func TestReuse(t *testing.T) {
	first := generateSmall(t).Files
	prev, err := generator.ReadManifest(first[generator.ManifestPath])
	if err != nil {
		t.Fatal(err)
	}
	if len(prev.Files) != len(first)-1 {
		t.Errorf("manifest lists %d files, want every file but itself (%d)", len(prev.Files), len(first)-1)
	}
	readFrom := func(files generator.Files) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			b, ok := files[p]
			if !ok {
				return nil, fmt.Errorf("open %s: %w", p, os.ErrNotExist)
			}
			return b, nil
		}
	}

	t.Run("unchanged", func(t *testing.T) {
		res, err := generator.Generate(context.Background(), loadModel(t, smallModel), generator.Options{
			Previous: prev, ReadPrevious: readFrom(first)})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Reused {
			t.Error("Reused = false for an unchanged model and intact previous output")
		}
		compareFiles(t, first, res.Files)
	})

	// A generation that does not reuse goes on to run entc, which a cancelled context stops; a reuse
	// returns before that. So these cases cost no entc run.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	notReused := func(t *testing.T, m *metamodel.Model, read func(string) ([]byte, error)) {
		t.Helper()
		var steps []string
		res, err := generator.Generate(cancelled, m, generator.Options{Previous: prev, ReadPrevious: read,
			Step: func(name string, _ time.Duration) { steps = append(steps, name) }})
		if err == nil {
			t.Fatalf("Generate returned without running entc (Reused = %v, steps %q)", res.Reused, steps)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Generate: %v, want the cancelled context's error from the entc step", err)
		}
	}

	t.Run("field added", func(t *testing.T) {
		src, err := os.ReadFile(filepath.Join(smallModel, "model.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		const anchor = "      name: {type: string, required: true, label: {zh: 姓名, en: Name}}\n"
		if !bytes.Contains(src, []byte(anchor)) {
			t.Fatalf("model.yaml has no line %q to add a field after", anchor)
		}
		changed := bytes.Replace(src, []byte(anchor), []byte(anchor+"      title: {type: string}\n"), 1)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "model.yaml"), changed, 0o644); err != nil {
			t.Fatal(err)
		}
		notReused(t, loadModel(t, dir), readFrom(first))
	})
	t.Run("previous file edited", func(t *testing.T) {
		edited := generator.Files{}
		for p, b := range first {
			edited[p] = b
		}
		edited["ent/client.go"] = append(append([]byte(nil), first["ent/client.go"]...), "\n// edited\n"...)
		notReused(t, loadModel(t, smallModel), readFrom(edited))
	})
	t.Run("previous file missing", func(t *testing.T) {
		missing := generator.Files{}
		for p, b := range first {
			if p != "graph/generated.go" {
				missing[p] = b
			}
		}
		notReused(t, loadModel(t, smallModel), readFrom(missing))
	})
}

// entAcronyms are the initialisms of entc/gen's ruleset (entgo.io/ent/entc/gen/func.go), which ent and
// entgql upper-case in Go and GraphQL names.
var entAcronyms = []string{
	"ACL", "API", "ASCII", "AWS", "CPU", "CSS", "DNS", "EOF", "GB", "GUID",
	"HCL", "HTML", "HTTP", "HTTPS", "ID", "IP", "JSON", "KB", "LHS", "MAC",
	"MB", "QPS", "RAM", "RHS", "RPC", "SLA", "SMTP", "SQL", "SSH", "SSO",
	"TCP", "TLS", "TTL", "UDP", "UI", "UID", "URI", "URL", "UTF8", "UUID",
	"VM", "XML", "XMPP", "XSRF", "XSS",
}

// TestGraphQLNamesMatchEnt checks that metamodel predicts how ent names a field: for each candidate
// word w, ent's pascal("a_"+w) upper-cases w exactly when metamodel's GraphQL name of the field "aW" does.
func TestGraphQLNamesMatchEnt(t *testing.T) {
	pascal := entgen.Funcs["pascal"].(func(string) string)
	words := []string{
		// Ordinary words, some of them prefixes or near misses of initialisms.
		"name", "tax", "date", "code", "ids", "idx", "identity", "url2", "urls", "api2", "https2", "utf",
		"utf16", "db", "pdf", "sms", "crm", "vat", "iso", "sku", "ok", "gps", "ssn", "vip", "mac2", "ram3",
	}
	for _, a := range entAcronyms {
		words = append(words, strings.ToLower(a))
	}
	sort.Strings(words)
	nAcronyms := 0
	for _, w := range words {
		entUpper := pascal("a_"+w) == "A"+strings.ToUpper(w)
		f := &metamodel.Field{Name: "a" + metamodel.Pascal(w)}
		ours := f.GraphQLName()
		oursUpper := ours == "a"+strings.ToUpper(w)
		if entUpper != oursUpper {
			t.Errorf("word %q: ent names a_%s %q, metamodel names field %q %q", w, w, pascal("a_"+w), f.Name, ours)
		}
		if entUpper {
			nAcronyms++
		}
	}
	if nAcronyms != len(entAcronyms) {
		t.Errorf("ent upper-cases %d of the candidate words, want its %d acronyms (did ent's ruleset change?)",
			nAcronyms, len(entAcronyms))
	}
}
