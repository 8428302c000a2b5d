package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// dirPrefix starts the name of every private cluster's temporary directory.
const dirPrefix = "crmgen-pgtest-"

// readyTimeout bounds the wait for a new server to accept connections.
const readyTimeout = 30 * time.Second

// private is the process's private cluster, started on first use.
var private cluster

// cluster is a throwaway PostgreSQL server that this process runs.
type cluster struct {
	mu      sync.Mutex
	started bool
	stopped bool
	dsn     string
	err     error

	dir    string        // temporary directory: data/, server.log, owner.pid
	proc   *os.Process   // the postmaster
	exited chan struct{} // closed when the postmaster has exited
}

// start starts the cluster once and returns its DSN; later calls return the
// result of the first. Callers wait while another caller starts it.
func (c *cluster) start(bin string, logf func(string, ...any)) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return "", errors.New("the private PostgreSQL cluster was stopped (pgtest.Stop)")
	}
	if !c.started {
		c.started = true
		c.dsn, c.err = c.boot(bin)
		if c.err != nil {
			c.err = fmt.Errorf("start private PostgreSQL cluster: %w", c.err)
		} else {
			logf("pgtest: started a private PostgreSQL cluster in %s (%s)", c.dir, c.dsn)
		}
	}
	return c.dsn, c.err
}

// stop shuts the server down at once (it holds nothing worth keeping) and
// removes its directory.
func (c *cluster) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	c.halt()
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// halt stops the postmaster, if it runs, and waits for it.
func (c *cluster) halt() {
	if c.proc == nil {
		return
	}
	c.proc.Signal(quitSignal) // immediate shutdown
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.proc.Kill()
		<-c.exited
	}
	c.proc = nil
}

// boot creates the cluster's directory, runs initdb and starts the server.
func (c *cluster) boot(bin string) (string, error) {
	cred, err := serverUser()
	if err != nil {
		return "", err
	}
	sweep()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return "", err
	}
	c.dir = dir
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return "", err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}

	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", localeFlag(), "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = procAttr(cred, false)
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %w\n%s", err, out)
	}

	// A port can be taken between freePort and the server's bind: try again.
	for range 3 {
		var port int
		port, err = freePort()
		if err != nil {
			return "", err
		}
		if err = c.serve(bin, data, port, cred); err == nil {
			return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), nil
		}
	}
	return "", err
}

// serve starts the postmaster on port and waits until it accepts connections.
func (c *cluster) serve(bin, data string, port int, cred *account) error {
	logPath := filepath.Join(c.dir, "server.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", // TCP only: a socket path can be too long in a deep TMPDIR
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr(cred, true)

	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		// The parent-death signal fires when the thread that started the
		// child ends, not the process: keep this thread until postgres exits.
		runtime.LockOSThread()
		defer logFile.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.proc, c.exited = cmd.Process, exited

	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			c.proc = nil
			return fmt.Errorf("postgres exited on port %d:\n%s", port, tail(logPath))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			c.halt()
			return fmt.Errorf("postgres not ready on port %d after %v: %w\n%s", port, readyTimeout, err, tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findBinaries returns the directory with initdb and postgres: the newest
// /usr/lib/postgresql/<major>/bin (Debian), else the directory of initdb on PATH.
func findBinaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			d := filepath.Dir(real)
			if isExecutable(filepath.Join(d, "postgres")) {
				return d, nil
			}
		}
	}
	return "", errors.New("no initdb and postgres in /usr/lib/postgresql/*/bin or on PATH")
}

// majorOf returns the major version in /usr/lib/postgresql/<major>/bin.
func majorOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sweep removes the directories of private clusters whose test process and
// server are gone (a process that ended without Stop leaves its directory).
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		if pidAlive(filepath.Join(d, "owner.pid")) || pidAlive(filepath.Join(d, "data", "postmaster.pid")) {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "owner.pid")); err != nil {
			continue // not written yet, or not ours
		}
		os.RemoveAll(d)
	}
}

// pidAlive reports whether the file exists and its first line is the id of a
// running process.
func pidAlive(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	return err == nil && pid > 0 && processAlive(pid)
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
