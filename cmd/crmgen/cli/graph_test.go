package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the diagrams the examples' READMEs embed from crmgen graph")

// The diagrams in an example's README sit between these lines.
const (
	graphBegin = "<!-- crmgen graph: the diagrams below are the output of `crmgen graph` on this model; " +
		"go test ./cmd/crmgen/cli -run TestGraphInReadmes -update refreshes them -->\n"
	graphEnd = "<!-- end of crmgen graph -->\n"
)

// TestGraphInReadmes checks that the Mermaid diagrams the examples' READMEs embed are what crmgen graph
// draws of the example now, so they stay current as the models change (-update refreshes them).
func TestGraphInReadmes(t *testing.T) {
	for _, ex := range []string{"hospital", "b2b-sales", "tobacco", "bank"} {
		t.Run(ex, func(t *testing.T) {
			dir := filepath.Join("..", "..", "..", "examples", ex)
			got := run(t, 0, "graph", dir).stdout
			readme := filepath.Join(dir, "README.md")
			b, err := os.ReadFile(readme)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			head, rest, ok := strings.Cut(text, graphBegin)
			embedded, tail, ok2 := strings.Cut(rest, graphEnd)
			if *update {
				if !ok || !ok2 {
					head, tail = strings.TrimRight(text, "\n")+"\n\n## 模型图 / Diagrams\n\n", ""
				}
				if err := os.WriteFile(readme, []byte(head+graphBegin+got+graphEnd+tail), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !ok || !ok2 {
				t.Fatalf("%s embeds no diagrams between %q and %q (go test -update adds them)", readme, graphBegin, graphEnd)
			}
			if !strings.Contains(got, "```mermaid\nerDiagram\n") || !strings.Contains(got, "```mermaid\nstateDiagram-v2\n") {
				t.Errorf("crmgen graph %s draws no ER diagram or no state diagram:\n%.500s", dir, got)
			}
			if diff := cmp.Diff(embedded, got); diff != "" {
				t.Errorf("%s: the diagrams are out of date (go test ./cmd/crmgen/cli -run TestGraphInReadmes -update) (-want +got):\n%s", readme, diff)
			}
		})
	}
}

// TestGraphOutput checks -o and --locale: the file holds the Markdown, with labels in the locale asked.
func TestGraphOutput(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"m.yaml": `app: {name: t, locales: [zh, en]}
entities:
  Lead:
    label: {zh: 线索, en: Lead}
    fields: {name: string}
`})
	out := filepath.Join(dir, "d.md")
	r := run(t, 0, "graph", dir, "-o", out, "--locale", "en")
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing with -o", r.stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `Lead["Lead"] {`) || strings.Contains(string(b), "线索") {
		t.Errorf("graph --locale en wrote:\n%s", b)
	}
	if r := run(t, 0, "graph", dir); !strings.Contains(r.stdout, `Lead["线索"] {`) {
		t.Errorf("graph without --locale does not use the default locale zh:\n%s", r.stdout)
	}
}
