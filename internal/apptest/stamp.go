package apptest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// Several test processes may build the same app: CI runs the end-to-end package as two processes, one
// for the screens and one for the rest, and both start with the hospital example. Generating an example
// costs tens of seconds of CPU and building it minutes, so the first process to need an app builds it
// under a lock of the app's directory and leaves a stamp beside it: what the build was made from (the
// model's files, the generator's and the platform's sources, the Go toolchain) and what it produced. A
// process that finds a stamp matching both, and the binary in place, uses the app as it is.

// lockApp takes the lock of the app directory dir (a file beside it) for this process, waiting while
// another process holds it, and returns its release.
func lockApp(tb testing.TB, dir string) func() {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		tb.Fatalf("lock %s: %v", dir, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

// stampSources are the parts of this checkout that generated apps are made from, relative to its root.
var stampSources = []string{"cmd/crmgen", "generator", "metamodel", "platform", "templates", "go.mod", "go.sum"}

// inputsHash hashes what building modelDir's app depends on: the model's files, the sources of
// stampSources (tests and test data aside: they change no app) and the toolchain.
func inputsHash(modelDir string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if err := hashTree(h, modelDir, "", nil); err != nil {
		return "", err
	}
	root := RepoRoot()
	skip := func(rel string) bool {
		return strings.HasSuffix(rel, "_test.go") || strings.Contains("/"+rel+"/", "/testdata/")
	}
	for _, src := range stampSources {
		if err := hashTree(h, filepath.Join(root, src), src, skip); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// outputsHash hashes the app directory dir as a build left it, the binary bin by its size and time (it
// is large, and only a build writes it).
func outputsHash(dir, bin string) (string, error) {
	h := sha256.New()
	st, err := os.Stat(bin)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "bin %d %d\n", st.Size(), st.ModTime().UnixNano())
	err = hashTree(h, dir, "", func(rel string) bool { return filepath.Join(dir, rel) == bin })
	return hex.EncodeToString(h.Sum(nil)), err
}

// hashTree writes the regular files under dir (or dir itself, a file) to h, each as its path
// (prefix/relative path) and content, in path order, but those skip names.
func hashTree(h io.Writer, dir, prefix string, skip func(rel string) bool) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if skip == nil || !skip(filepath.ToSlash(rel)) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, rel := range files {
		b, err := os.ReadFile(filepath.Join(dir, rel)) // rel is "." when dir is a file
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s/%s %d\n", prefix, filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return nil
}

// stamp is the stamp file of app directory dir.
func stamp(dir string) string { return dir + ".stamp" }

// upToDate reports whether dir holds the build of inputs (an inputsHash) with binary bin, untouched
// since: its stamp names those inputs and the outputs as they are now.
func upToDate(dir, bin, inputs string) bool {
	b, err := os.ReadFile(stamp(dir))
	if err != nil {
		return false
	}
	in, out, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if in != inputs {
		return false
	}
	now, err := outputsHash(dir, bin)
	return err == nil && now == out
}

// writeStamp records that dir holds the build of inputs with binary bin.
func writeStamp(dir, bin, inputs string) error {
	out, err := outputsHash(dir, bin)
	if err != nil {
		return err
	}
	return os.WriteFile(stamp(dir), []byte(inputs+" "+out+"\n"), 0o644)
}
