package cli_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/modfile"

	"github.com/crmgen/crmgen/cmd/crmgen/cli"
	"github.com/crmgen/crmgen/generator"
	"github.com/crmgen/crmgen/metamodel"
)

// result is what one in-process run of crmgen did.
type result struct {
	code           int
	stdout, stderr string
}

// crmgen runs the command line in-process.
func crmgen(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Do(args, strings.NewReader(""), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// want fails the test unless the run exited with code.
func (r result) want(t *testing.T, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("crmgen %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
}

// run runs crmgen and expects the exit code.
func run(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := crmgen(t, args...)
	r.want(t, code, args...)
	return r
}

// writeFiles writes files (slash path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// validModel is a small valid model with two entities of its own (User and Team are built in).
const validModel = `app: {name: clitest}
entities:
  Lead:
    label: {en: Lead}
    traits: [timestamps]
    fields:
      name: {type: string, required: true}
    relations:
      source: {to: Source, kind: belongsTo, inverse: leads}
  Source:
    traits: []
    fields:
      name: {type: string, required: true, unique: true}
`

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"model.yaml": validModel})
	r := run(t, 0, "validate", dir)
	if want := dir + `: valid model "clitest": 4 entities, 0 enums, 0 roles, 0 workflows` + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing", r.stderr)
	}
}

// TestValidateBroken expects every problem of a broken model as file:line:col: message, with the file
// joined to the path the model was given as, and exit code 1.
func TestValidateBroken(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		arg   string   // relative to the model directory; "" for the directory
		want  []string // "<file>:line:col: message", file relative to the model directory
	}{{
		name: "decode",
		files: map[string]string{"model.yaml": `app: {name: t, colour: red}
entities:
  Lead:
    fields:
      name: {type: string, requird: true}
      score: {type: int, required: maybe}
`},
		want: []string{
			`model.yaml:1:16: unknown key "colour" in app (want one of name, title, locales, defaultLocale, timezone)`,
			`model.yaml:5:28: unknown key "requird" in field "Lead.name" (did you mean "required"?)`,
			`model.yaml:6:36: field "Lead.score" required: want true or false, got "maybe"`,
		},
	}, {
		name: "build",
		files: map[string]string{
			"app.yaml": "app: {name: t}\n",
			"sub/lead.yaml": `entities:
  Lead:
    fields:
      nme: {type: strng}
      grade: {type: enum, enum: Grade}
`},
		want: []string{
			`sub/lead.yaml:4:19: unknown field type "strng" (want one of string, text, int, float, decimal, bool, date, datetime, enum, email, phone, url, json, file, image)`,
			`sub/lead.yaml:5:33: unknown enum "Grade" for field "Lead.grade"`,
		},
	}, {
		// Problems found while decoding do not stop the model from being validated: the unknown key and the
		// unknown field type come in one run.
		name: "decode and build in one run",
		files: map[string]string{"model.yaml": `app: {name: t}
entities:
  Lead:
    felds: {}
    fields:
      nme: {type: strng}
`},
		want: []string{
			`model.yaml:4:5: unknown key "felds" in entity "Lead" (did you mean "fields"?)`,
			`model.yaml:6:19: unknown field type "strng" (want one of string, text, int, float, decimal, bool, date, datetime, enum, email, phone, url, json, file, image)`,
		},
	}, {
		name: "single file",
		files: map[string]string{"crm.yaml": `app: {name: t}
entities:
  Lead:
    fields:
      nme: {type: strng}
`},
		arg:  "crm.yaml",
		want: []string{`crm.yaml:5:19: unknown field type "strng" (want one of string, text, int, float, decimal, bool, date, datetime, enum, email, phone, url, json, file, image)`},
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, c.files)
			arg := dir
			if c.arg != "" {
				arg = filepath.Join(dir, c.arg)
			}
			r := run(t, 1, "validate", arg)
			var want []string
			for _, w := range c.want {
				file, rest, _ := strings.Cut(w, ":")
				want = append(want, filepath.Join(dir, filepath.FromSlash(file))+":"+rest)
			}
			want = append(want, strconv.Itoa(len(c.want))+" error(s) in "+arg)
			if diff := cmp.Diff(want, strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

// fileState is a generated file's content and modification time.
type fileState struct {
	data  []byte
	mtime time.Time
}

// tree reads every file under dir.
func tree(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fileState{b, st.ModTime()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var writeLine = regexp.MustCompile(`write (\d+) file\(s\), (\d+) unchanged, (\d+) removed`)

// written parses the counts of generate's write step.
func written(t *testing.T, stdout string) (write, unchanged, removed int) {
	t.Helper()
	m := writeLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no write step in the output:\n%s", stdout)
	}
	write, _ = strconv.Atoi(m[1])
	unchanged, _ = strconv.Atoi(m[2])
	removed, _ = strconv.Atoi(m[3])
	return
}

// TestGenerate drives generate through one output directory: a first generation, an unchanged second one
// that writes nothing, --check, and a changed model (a field added, an entity removed) that rewrites
// only what changed and removes the removed entity's files. Three of the runs execute entc and gqlgen.
func TestGenerate(t *testing.T) {
	model := t.TempDir()
	out := filepath.Join(t.TempDir(), "app")
	writeFiles(t, model, map[string]string{"model.yaml": validModel})

	// First generation.
	r := run(t, 0, "generate", model, "-o", out)
	n, unchanged, removed := written(t, r.stdout)
	first := tree(t, out)
	if n != len(first) || unchanged != 0 || removed != 0 {
		t.Errorf("first generation: write %d, %d unchanged, %d removed; want %d, 0, 0", n, unchanged, removed, len(first))
	}
	for _, p := range []string{"ent/schema/lead.go", "ent/schema/source.go", "ent/source/source.go", "main.go", "go.mod",
		"go.sum", "backend/backend.go", "graph/ent.graphqls", "graph/generated.go", generator.ManifestPath, "extend/extend.go"} {
		if _, ok := first[p]; !ok {
			t.Errorf("first generation wrote no %s", p)
		}
	}
	for _, step := range []string{"load and validate model", "plan and emit sources", "entc + entgql", "gqlgen"} {
		if !strings.Contains(r.stdout, "  "+step) {
			t.Errorf("first generation did not report step %q:\n%s", step, r.stdout)
		}
	}
	// A file crmgen did not write, which no generation may touch.
	writeFiles(t, out, map[string]string{"NOTES.md": "mine\n"})
	// Backdate everything, so a rewrite shows even on a file system with coarse timestamps.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for p := range tree(t, out) {
		if err := os.Chtimes(filepath.Join(out, filepath.FromSlash(p)), old, old); err != nil {
			t.Fatal(err)
		}
	}
	before := tree(t, out)

	unchangedSince := func(t *testing.T, what string) {
		t.Helper()
		now := tree(t, out)
		if diff := cmp.Diff(keys(before), keys(now)); diff != "" {
			t.Fatalf("%s: files (-before +after):\n%s", what, diff)
		}
		for p, st := range now {
			if !st.mtime.Equal(old) || !bytes.Equal(st.data, before[p].data) {
				t.Errorf("%s: %s was rewritten", what, p)
			}
		}
	}

	if !t.Run("unchanged model", func(t *testing.T) {
		r := run(t, 0, "generate", model, "-o", out)
		if !strings.Contains(r.stdout, "reuse entc and gqlgen output") {
			t.Errorf("entc and gqlgen ran again on an unchanged model:\n%s", r.stdout)
		}
		// extend/extend.go, the starter the first generation wrote, is the app's now: not compared at all.
		if n, unchanged, removed := written(t, r.stdout); n != 0 || unchanged != len(first)-1 || removed != 0 {
			t.Errorf("second generation: write %d, %d unchanged, %d removed; want 0, %d, 0", n, unchanged, removed, len(first)-1)
		}
		if !strings.Contains(r.stdout, "write 0 file(s)") {
			t.Errorf("stdout has no %q:\n%s", "write 0 file(s)", r.stdout)
		}
		unchangedSince(t, "second generation")

		r = run(t, 0, "generate", model, "-o", out, "--check")
		if want := out + " is up to date\n"; !strings.HasSuffix(r.stdout, want) {
			t.Errorf("--check printed\n%s\nwant it to end with %q", r.stdout, want)
		}
		unchangedSince(t, "--check")
	}) {
		return
	}

	// Add a field to Lead; remove Source and Lead's relation to it.
	changed := strings.Replace(validModel, "      name: {type: string, required: true}\n",
		"      name: {type: string, required: true}\n      email: {type: email}\n", 1)
	changed = changed[:strings.Index(changed, "    relations:")]
	writeFiles(t, model, map[string]string{"model.yaml": changed})

	r = run(t, 1, "generate", model, "-o", out, "--check")
	m := regexp.MustCompile(regexp.QuoteMeta(out) + ` is out of date: (\d+) file\(s\) would be written, (\d+) removed\n`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("--check on a changed model printed\n%s", r.stdout)
	}
	unchangedSince(t, "--check on a changed model")

	// Dropping Source is destructive: refused, naming it, until allowed.
	if r := run(t, 1, "generate", model, "-o", out); !strings.Contains(r.stderr, "dropped entity Source: destructive") {
		t.Errorf("generate did not refuse dropping Source:\n%s", r.stderr)
	}
	unchangedSince(t, "a refused destructive change")
	r = run(t, 0, "generate", model, "-o", out, "--allow-destructive")
	n, unchanged, removed = written(t, r.stdout)
	if strconv.Itoa(n) != m[1] || strconv.Itoa(removed) != m[2] {
		t.Errorf("generate wrote %d and removed %d file(s); --check said %s and %s", n, removed, m[1], m[2])
	}
	after := tree(t, out)
	var rewritten, kept, gone, added []string
	for p, st := range before {
		now, ok := after[p]
		switch {
		case !ok:
			gone = append(gone, p)
		case bytes.Equal(now.data, st.data):
			kept = append(kept, p)
			if !now.mtime.Equal(old) {
				t.Errorf("%s has the same content but was rewritten", p)
			}
		default:
			rewritten = append(rewritten, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			added = append(added, p)
		}
	}
	sort.Strings(gone)
	// -2: NOTES.md and extend/extend.go, files of the app's that generation does not compare.
	if n != len(rewritten)+len(added) || removed != len(gone) || unchanged != len(kept)-2 {
		t.Errorf("generate reported write %d, %d unchanged, %d removed; the directory shows %d rewritten, %d added, %d unchanged, %d removed",
			n, unchanged, removed, len(rewritten), len(added), len(kept)-2, len(gone))
	}
	for _, p := range []string{"ent/schema/lead.go", "graph/ent.graphqls", "backend/model.json", generator.ManifestPath} {
		if !contains(rewritten, p) {
			t.Errorf("%s was not rewritten", p)
		}
	}
	for _, p := range []string{"main.go", "go.mod", "go.sum", "gqlgen.yml", "NOTES.md", "extend/extend.go"} {
		if !contains(kept, p) {
			t.Errorf("%s was rewritten or removed", p)
		}
	}
	if !strings.Contains(string(after["ent/schema/lead.go"].data), `field.String("email")`) {
		t.Errorf("ent/schema/lead.go has no email field:\n%s", after["ent/schema/lead.go"].data)
	}
	// Everything generated for Source, and only that, is gone.
	if !contains(gone, "ent/schema/source.go") || !contains(gone, "ent/source/source.go") {
		t.Errorf("the removed entity's files are still there; removed: %q", gone)
	}
	for _, p := range gone {
		if !strings.Contains(p, "source") {
			t.Errorf("%s was removed, but it did not belong to the removed entity", p)
		}
	}
	for p := range after {
		if strings.Contains(p, "source") || strings.HasSuffix(p, ".crmgen-tmp") {
			t.Errorf("%s is left in the output directory", p)
		}
	}

	r = run(t, 0, "generate", model, "-o", out, "--check")
	if !strings.HasSuffix(r.stdout, out+" is up to date\n") {
		t.Errorf("--check after regenerating printed\n%s", r.stdout)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestInit(t *testing.T) {
	for _, c := range []struct{ base, app string }{
		{"My CRM_2", "my-crm-2"},
		{"2024", "crm"}, // not a valid app name: the default
	} {
		t.Run(c.base, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.base)
			path := filepath.Join(dir, "model.yaml")
			r := run(t, 0, "init", dir)
			if want := "wrote " + path + "\nnext: crmgen validate " + dir + " && crmgen run " + dir + "\n"; r.stdout != want {
				t.Errorf("stdout %q, want %q", r.stdout, want)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "crmgen.schema.json")); err != nil || !bytes.Equal(b, metamodel.JSONSchema()) {
				t.Errorf("init wrote no crmgen.schema.json for the modeline of model.yaml (%v)", err)
			}
			r = run(t, 0, "validate", dir)
			if want := dir + `: valid model "` + c.app + `": 4 entities, 1 enums, 0 roles, 0 workflows` + "\n"; r.stdout != want {
				t.Errorf("validate: stdout %q, want %q", r.stdout, want)
			}
			if r.stderr != "" {
				t.Errorf("the starter model has warnings:\n%s", r.stderr)
			}

			if err := os.WriteFile(path, []byte("# mine\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r = run(t, 1, "init", dir)
			if want := "crmgen: " + path + " already exists; choose another directory\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			if b, _ := os.ReadFile(path); string(b) != "# mine\n" {
				t.Errorf("init overwrote %s", path)
			}
		})
	}
}

// TestVersion expects crmgen's version and the versions of ent, entgql, gqlgen and gqlparser that crmgen's
// go.mod requires. A test binary carries no dependency versions in its build info, so the stack is checked
// on a crmgen binary built for the purpose.
func TestVersion(t *testing.T) {
	head := regexp.MustCompile(`^crmgen \S+ \(output format ` + regexp.QuoteMeta(generator.Version) + `, ` +
		regexp.QuoteMeta(runtime.Version()) + `\)$`)
	r := run(t, 0, "version")
	if first, _, _ := strings.Cut(r.stdout, "\n"); !head.MatchString(first) {
		t.Errorf("first line %q, want it to match %s", first, head)
	}

	b, err := os.ReadFile(filepath.Join("..", "..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	for _, req := range mod.Require {
		versions[req.Mod.Path] = req.Mod.Version
	}
	bin := filepath.Join(t.TempDir(), "crmgen")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/crmgen/crmgen/cmd/crmgen").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("crmgen version: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if !head.MatchString(lines[0]) {
		t.Errorf("first line %q, want it to match %s", lines[0], head)
	}
	for _, p := range []string{"entgo.io/ent", "entgo.io/contrib", "github.com/99designs/gqlgen", "github.com/vektah/gqlparser/v2"} {
		if versions[p] == "" {
			t.Fatalf("go.mod does not require %s", p)
		}
		if want := "  " + p + " " + versions[p]; !contains(lines[1:], want) {
			t.Errorf("crmgen version has no line %q:\n%s", want, out)
		}
	}
}

// TestSchema expects crmgen schema to print the JSON Schema of the model format, as committed in
// metamodel/crmgen.schema.json for the examples' modelines.
func TestSchema(t *testing.T) {
	r := run(t, 0, "schema")
	if r.stdout != string(metamodel.JSONSchema()) || r.stderr != "" {
		t.Errorf("crmgen schema: stdout is not metamodel.JSONSchema() (%d bytes), stderr %q", len(r.stdout), r.stderr)
	}
	if !strings.Contains(r.stdout, `"$schema": "https://json-schema.org/draft/2020-12/schema"`) {
		t.Errorf("crmgen schema does not declare draft 2020-12:\n%.300s", r.stdout)
	}
	run(t, 2, "schema", "extra")
}

// TestHelp expects the help of crmgen and of every command it lists to have examples of that command.
// Cobra's help command is not crmgen's.
func TestHelp(t *testing.T) {
	r := run(t, 0, "--help")
	if !strings.Contains(r.stdout, "\nExamples:\n") {
		t.Errorf("crmgen --help has no Examples section:\n%s", r.stdout)
	}
	_, list, ok := strings.Cut(r.stdout, "Available Commands:\n")
	if !ok {
		t.Fatalf("crmgen --help lists no commands:\n%s", r.stdout)
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var cmds []string
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] != "help" {
			cmds = append(cmds, f[0])
		}
	}
	if diff := cmp.Diff([]string{"build", "completion", "diff", "generate", "graph", "init", "run", "schema", "validate", "version"}, cmds); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	for _, c := range cmds {
		r := run(t, 0, c, "--help")
		_, examples, ok := strings.Cut(r.stdout, "\nExamples:\n")
		examples, _, _ = strings.Cut(examples, "\n\n")
		if !ok || !strings.Contains(examples, "crmgen "+c) {
			t.Errorf("crmgen %s --help has no Examples section with a crmgen %s example:\n%s", c, c, r.stdout)
		}
	}
}

func TestUnknownFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "crmgen: unknown flag: --bogus\n"},
		{[]string{"validate", "--bogus", "x"}, "crmgen: unknown flag: --bogus\n"},
		{[]string{"generate", "x", "--bogus"}, "crmgen: unknown flag: --bogus\n"},
		{[]string{"init", "-z", "x"}, "crmgen: unknown shorthand flag: 'z' in -z\n"},
		{[]string{"validate"}, "crmgen: accepts 1 arg(s), received 0\n"},
		{[]string{"version", "extra"}, "crmgen: unknown command \"extra\" for \"crmgen version\"\n"},
		{[]string{"bogus"}, "crmgen: unknown command \"bogus\" for \"crmgen\"\n"},
	} {
		if r := run(t, 2, c.args...); r.stderr != c.want {
			t.Errorf("crmgen %s: stderr %q, want %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
	}
}
