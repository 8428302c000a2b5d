package generator_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/generator"
)

// smallGoLog is where the go commands run while the small model was generated are written, a line each.
var smallGoLog string

// logGoCommands runs generate with a go command on PATH that writes its arguments, a line a command, to a
// new file whose name it leaves in *log, before running the real one: entc and gqlgen run go themselves
// (go/packages runs `go list`).
func logGoCommands(log *string, generate func() error) error {
	real, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "crmgen-gocmd-")
	if err != nil {
		return err
	}
	*log = filepath.Join(dir, "go.log")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %q\nexec %q \"$@\"\n", *log, real)
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		return err
	}
	path := os.Getenv("PATH")
	os.Setenv("PATH", dir+string(os.PathListSeparator)+path)
	defer os.Setenv("PATH", path)
	return generate()
}

// exportLoads counts the `go list` commands in the log that asked for export data (which compiles the
// packages named) of pkg.
func exportLoads(t *testing.T, log, pkg string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cmd := range strings.Split(string(b), "\n") {
		args := strings.Fields(cmd)
		if len(args) > 0 && args[0] == "list" && slices.Contains(args, "-export=true") && slices.Contains(args, pkg) {
			n++
		}
	}
	return n
}

// moduleOf is the module path of a generated app.
func moduleOf(files generator.Files) string {
	for _, line := range strings.Split(string(files["go.mod"]), "\n") {
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}
