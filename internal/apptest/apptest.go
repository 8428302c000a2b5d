// Package apptest builds and runs generated applications for end-to-end tests: generate through the real
// CLI, go build, start the binary on a free port against a real database, and talk to it over HTTP.
package apptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmgen/crmgen/cmd/crmgen/cli"
	"github.com/crmgen/crmgen/metamodel"
)

// App is a generated and built application.
type App struct {
	Dir   string // the generated source tree
	Bin   string // the built binary
	Model *metamodel.Model
	// WorkDir is the server's working directory; empty means the test's. A test of a binary that must
	// run from anywhere starts it in a directory of its own.
	WorkDir string
}

// RepoRoot returns the crmgen checkout this package was compiled from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var buildMu sync.Mutex

// Build generates the model at modelDir (relative paths are relative to the repository root) with
// `crmgen generate --dev` into .build/test/<name> and builds it against this checkout. An app already
// built from the same sources (by another test process, or an earlier run) is used as it is (see
// stamp.go); otherwise regeneration and the build are incremental.
func Build(tb testing.TB, modelDir, name string) *App {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	dir := filepath.Join(RepoRoot(), ".build", "test", name)
	defer lockApp(tb, dir)()
	return build(tb, modelDir, dir, name)
}

// Regenerate makes the next version of the app prev: it copies prev's source tree (what a team keeps in
// version control) to .build/test/<name>, generates the model at modelDir over it with `crmgen generate
// --dev --allow-destructive`, as a developer would after changing the model, and builds it. prev is left
// as it was, so tests can run both versions against one database.
func Regenerate(tb testing.TB, prev *App, modelDir, name string) *App {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	dir := filepath.Join(RepoRoot(), ".build", "test", name)
	defer lockApp(tb, dir)()
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatal(err)
	}
	if err := copyTree(prev.Dir, dir, prev.Bin); err != nil {
		tb.Fatalf("copy %s: %v", prev.Dir, err)
	}
	return build(tb, modelDir, dir, name)
}

func build(tb testing.TB, modelDir, dir, name string) *App {
	tb.Helper()
	if !filepath.IsAbs(modelDir) {
		modelDir = filepath.Join(RepoRoot(), modelDir)
	}
	bin := filepath.Join(dir, name)
	inputs, err := inputsHash(modelDir)
	if err != nil {
		tb.Fatalf("hash the sources of %s: %v", name, err)
	}
	if upToDate(dir, bin, inputs) {
		tb.Logf("%s is built from these sources already (by another test process, or an earlier run)", name)
		return &App{Dir: dir, Bin: bin, Model: LoadModel(tb, modelDir)}
	}
	os.Remove(stamp(dir))
	var out bytes.Buffer
	start := time.Now()
	if code := cli.Do([]string{"generate", "--dev", "--allow-destructive", modelDir, "-o", dir}, nil, &out, &out); code != 0 {
		tb.Fatalf("crmgen generate %s: exit %d\n%s", modelDir, code, out.String())
	}
	tb.Logf("generated %s in %s", name, time.Since(start).Round(time.Millisecond))
	m := LoadModel(tb, modelDir)
	start = time.Now()
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", dir, err, b)
	}
	tb.Logf("built %s in %s", name, time.Since(start).Round(time.Millisecond))
	if err := writeStamp(dir, bin, inputs); err != nil {
		tb.Fatalf("stamp %s: %v", dir, err)
	}
	return &App{Dir: dir, Bin: bin, Model: m}
}

// LoadModel loads and builds the model at modelDir (relative paths are relative to the repository root),
// failing the test if it does not.
func LoadModel(tb testing.TB, modelDir string) *metamodel.Model {
	tb.Helper()
	if !filepath.IsAbs(modelDir) {
		modelDir = filepath.Join(RepoRoot(), modelDir)
	}
	m, err := metamodel.Load(modelDir)
	if err == nil {
		m, err = metamodel.Build(m)
	}
	if err != nil {
		tb.Fatalf("load %s: %v", modelDir, err)
	}
	return m
}

// copyTree copies the regular files under src to dst, except skip.
func copyTree(src, dst, skip string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == skip {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// Server is a running application, seen as one client: with Token set, requests carry it as a Bearer
// token.
type Server struct {
	URL   string
	Token string
	cmd   *exec.Cmd
	logs  *syncBuffer
	done  chan struct{}
}

// As returns the server seen by the user who signs in with username and password (through the login
// mutation); the test fails if signing in fails.
func (s *Server) As(tb testing.TB, username, password string) *Server {
	tb.Helper()
	anon := *s
	anon.Token = ""
	r := anon.GraphQL(tb, `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": username, "p": password})
	var out struct {
		Login struct{ Token string } `json:"login"`
	}
	r.Decode(tb, &out)
	if out.Login.Token == "" {
		tb.Fatalf("login %s: no token", username)
	}
	c := *s
	c.Token = out.Login.Token
	return &c
}

var readyLine = regexp.MustCompile(`is ready at (http://[0-9.:\[\]a-z]+)`)

// Start runs the application against db (a SQLite path or postgres:// URL) on a free loopback port and
// waits until it serves. The server is stopped when the test ends; its log is printed if the test failed.
func (a *App) Start(tb testing.TB, db string, args ...string) *Server {
	tb.Helper()
	s, logs := a.start(tb, db, args...)
	tb.Cleanup(func() {
		s.Stop()
		if tb.Failed() {
			tb.Logf("server log (%s):\n%s", filepath.Base(a.Bin), tail(logs.String(), 8000))
		}
	})
	return s
}

var detached struct {
	mu      sync.Mutex
	servers []*Server
	dirs    []string
}

// StartDetached runs the application like Start, on a SQLite database of its own, for the rest of the
// test process rather than one test: a fuzz target serves every input from one server. StopDetached
// stops it (TestMain calls it); the server also dies with the test process.
func (a *App) StartDetached(tb testing.TB, args ...string) *Server {
	tb.Helper()
	dir, err := os.MkdirTemp("", "crmgen-detached-")
	if err != nil {
		tb.Fatal(err)
	}
	s, _ := a.start(tb, filepath.Join(dir, "app.db"), args...)
	detached.mu.Lock()
	detached.servers = append(detached.servers, s)
	detached.dirs = append(detached.dirs, dir)
	detached.mu.Unlock()
	return s
}

// StopDetached stops the servers StartDetached started and removes their databases.
func StopDetached() {
	detached.mu.Lock()
	defer detached.mu.Unlock()
	for _, s := range detached.servers {
		s.Stop()
	}
	for _, d := range detached.dirs {
		os.RemoveAll(d)
	}
	detached.servers, detached.dirs = nil, nil
}

func (a *App) start(tb testing.TB, db string, args ...string) (*Server, *syncBuffer) {
	tb.Helper()
	cmd := exec.Command(a.Bin, append([]string{"--db", db, "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = a.WorkDir
	// A server never outlives the test process, even when a test binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &Server{cmd: cmd, logs: logs, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if mm := readyLine.FindStringSubmatch(sc.Text()); mm != nil {
				select {
				case urls <- mm[1]:
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case s.URL = <-urls:
	case <-s.done:
		tb.Fatalf("%s exited before it was ready:\n%s", filepath.Base(a.Bin), logs.String())
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		tb.Fatalf("%s was not ready after 3 minutes:\n%s", filepath.Base(a.Bin), logs.String())
	}
	return s, logs
}

// Stop stops the server gracefully (SIGTERM), killing it after 20 s.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Logs returns what the server has logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// Response is a GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Error is a GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Decode unmarshals the data into v, failing the test on errors in the response.
func (r *Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if len(r.Errors) > 0 {
		tb.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Data, err)
	}
}

// GraphQL posts a query with variables and returns the decoded response (HTTP-level failures fail the
// test; GraphQL errors are returned for the test to check).
func (s *Server) GraphQL(tb testing.TB, query string, vars map[string]any, header ...http.Header) *Response {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	for _, h := range header {
		for k, v := range h {
			req.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		tb.Fatalf("POST /graphql: status %d, body %s", resp.StatusCode, b)
	}
	return &r
}

// Statements returns the number of SQL statements the server has sent (from /metrics, which the main port
// shows to superusers only: sign in as one).
func (s *Server) Statements(tb testing.TB) int64 {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/metrics", nil)
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "crm_sql_statements_total "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	tb.Fatalf("no crm_sql_statements_total in /metrics:\n%s", b)
	return 0
}

// SQLitePath returns a fresh SQLite database path in the test's temp dir.
func SQLitePath(tb testing.TB) string { return filepath.Join(tb.TempDir(), "app.db") }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("…%s", s[len(s)-n:])
}
