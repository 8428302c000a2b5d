package cli_test

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"

	crmgenmod "github.com/crmgen/crmgen"
	"github.com/crmgen/crmgen/internal/apptest"
)

// TestPortable installs crmgen the way a user outside this repository does and proves that what it makes
// depends on no checkout and no network. This working tree is published as crmgenmod.Version in a module
// proxy directory; every other module comes from the module cache, itself a file proxy. Then:
//
//   - go install github.com/crmgen/crmgen/cmd/crmgen@<version>;
//   - that binary's init and generate, in a directory outside the repository: no file of the app names the
//     checkout or the temporary directories, and its go.mod requires crmgen at the version, with no replace;
//   - the app directory is moved elsewhere and built there with plain go build (go.sum is complete);
//   - crmgen build makes a static binary, which is copied into an empty directory and started there;
//     the demo admin signs in over HTTP and creates a customer through GraphQL.
//
// The go commands use a module cache of their own (a release must not land in the shared one), so they
// build with -trimpath and without cgo, which keys the build cache by module version rather than by
// directory: only the first run on a machine compiles the dependencies.
func TestPortable(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	publish(t, proxy, root, crmgenmod.Version)
	gobin := filepath.Join(tmp, "bin")
	env := goEnv(t, proxy, filepath.Join(tmp, "modcache"), gobin)

	sh(t, env, tmp, "go", "install", crmgenmod.ModulePath+"/cmd/crmgen@"+crmgenmod.Version)
	bin := filepath.Join(gobin, "crmgen")
	if out := sh(t, env, tmp, bin, "version"); !strings.HasPrefix(out, "crmgen "+crmgenmod.Version+" ") {
		t.Errorf("installed crmgen version: %q, want crmgen %s", out, crmgenmod.Version)
	}

	work := filepath.Join(tmp, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, env, work, bin, "init", "mycrm")
	sh(t, env, work, bin, "generate", "mycrm", "-o", "app")
	app := filepath.Join(work, "app")
	noPaths(t, app, root, tmp)
	gomod, err := os.ReadFile(filepath.Join(app, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(mf.Replace) > 0 {
		t.Errorf("go.mod replaces %s without --dev", mf.Replace[0].Old.Path)
	}
	if !requires(mf, crmgenmod.ModulePath, crmgenmod.Version) {
		t.Errorf("go.mod does not require %s %s:\n%s", crmgenmod.ModulePath, crmgenmod.Version, gomod)
	}

	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(app, moved); err != nil {
		t.Fatal(err)
	}
	sh(t, env, moved, "go", "build", "-o", "mycrm", ".")
	if _, err := os.Stat(filepath.Join(moved, "mycrm")); err != nil {
		t.Fatalf("go build in the moved app wrote no binary: %v", err)
	}

	dist := filepath.Join(work, "dist", "mycrm")
	sh(t, env, work, bin, "build", "mycrm", "-o", dist)
	runDir := t.TempDir()
	server := filepath.Join(runDir, "mycrm")
	b, err := os.ReadFile(dist)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(server, b, 0o755); err != nil {
		t.Fatal(err)
	}
	static(t, server)
	srv := (&apptest.App{Bin: server, WorkDir: runDir}).Start(t, "mycrm.db").As(t, "admin", "admin123")
	var created struct {
		CreateCustomer struct{ ID, Name string } `json:"createCustomer"`
	}
	srv.GraphQL(t, `mutation { createCustomer(input: {name: "Initech", grade: A}) { id name } }`, nil).Decode(t, &created)
	if created.CreateCustomer.ID == "" || created.CreateCustomer.Name != "Initech" {
		t.Errorf("createCustomer returned %+v", created.CreateCustomer)
	}
	if _, err := os.Stat(filepath.Join(runDir, "mycrm.db")); err != nil {
		t.Errorf("the database is not in the server's directory: %v", err)
	}
}

// publish writes the module in dir, at version, into a GOPROXY directory.
func publish(t *testing.T, proxy, dir, version string) {
	t.Helper()
	at := filepath.Join(proxy, crmgenmod.ModulePath, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	// The module holds what git would (tracked files and new ones not ignored), not the build outputs,
	// test binaries and logs under .build and artifacts, which other tests and CI write meanwhile.
	out, err := exec.Command("git", "-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("list the working tree's files: %v", err)
	}
	var files []zip.File
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if st, err := os.Lstat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() { // a deleted file is still listed
			files = append(files, treeFile{dir: dir, path: filepath.ToSlash(name)})
		}
	}
	var z bytes.Buffer
	if err := zip.Create(&z, module.Version{Path: crmgenmod.ModulePath, Version: version}, files); err != nil {
		t.Fatalf("zip the working tree: %v", err)
	}
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	for name, b := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  crmgenmod.GoMod,
		version + ".zip":  z.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(at, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// treeFile is a file of the working tree as golang.org/x/mod/zip takes it.
type treeFile struct{ dir, path string }

func (f treeFile) Path() string                 { return f.path }
func (f treeFile) Lstat() (os.FileInfo, error)  { return os.Lstat(filepath.Join(f.dir, f.path)) }
func (f treeFile) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.dir, f.path)) }

// goEnv is the environment of a machine without network that reaches modules only through proxy and the
// module cache's downloads.
func goEnv(t *testing.T, proxy, modcache, gobin string) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	downloads := filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOPROXY", "GOMODCACHE", "GOFLAGS", "GOBIN", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY",
			"GOWORK", "GOTOOLCHAIN", "CGO_ENABLED":
		default:
			env = append(env, kv)
		}
	}
	return append(env,
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(downloads),
		"GOMODCACHE="+modcache, "GOBIN="+gobin, "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local",
		// -modcacherw lets the test remove its module cache; see TestPortable on -trimpath and cgo.
		"GOFLAGS=-modcacherw -trimpath", "CGO_ENABLED=0")
}

// sh runs a command in dir and returns its standard output; the test fails if it fails.
func sh(t *testing.T, env []string, dir, name string, args ...string) string {
	t.Helper()
	start := time.Now()
	c := exec.Command(name, args...)
	c.Dir, c.Env = dir, env
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("%s %s (in %s): %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), dir, err, stdout.String(), stderr.String())
	}
	t.Logf("%s %s: %s", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return stdout.String()
}

// noPaths fails the test for every file under dir that contains one of paths.
func noPaths(t *testing.T, dir string, paths ...string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, abs := range paths {
			if bytes.Contains(b, []byte(abs)) {
				rel, _ := filepath.Rel(dir, p)
				t.Errorf("generated %s contains the path %s", rel, abs)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d files generated in %s", n, dir)
	}
}

func requires(f *modfile.File, path, version string) bool {
	for _, r := range f.Require {
		if r.Mod.Path == path && r.Mod.Version == version {
			return true
		}
	}
	return false
}

// static fails the test unless bin is an executable that needs no dynamic loader (no C library).
func static(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("read %s: %v", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (it has an ELF interpreter)", filepath.Base(bin))
		}
	}
}

// TestDev expects generate --dev to tie the app to this checkout, as the repository's own tests, e2e
// helpers and bench scripts rely on: its go.mod replaces crmgen with the checkout's absolute path.
func TestDev(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	model := t.TempDir()
	out := filepath.Join(t.TempDir(), "app")
	writeFiles(t, model, map[string]string{"model.yaml": validModel})
	run(t, 0, "generate", "--dev", model, "-o", out)
	b, err := os.ReadFile(filepath.Join(out, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Replace) != 1 || f.Replace[0].Old.Path != crmgenmod.ModulePath || f.Replace[0].New.Path != filepath.ToSlash(root) {
		t.Errorf("go.mod of generate --dev does not replace %s with %s:\n%s", crmgenmod.ModulePath, root, b)
	}
}
