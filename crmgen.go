// Package crmgen is the root of the crmgen module. It embeds the module's go.mod and go.sum: a generated
// application requires exactly the versions crmgen was built with, so its go.mod copies these
// requirements and its go.sum copies these sums, and generation never needs new module resolution.
package crmgen

import (
	_ "embed"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"golang.org/x/mod/module"
)

// ModulePath is this module's path, which generated apps require.
const ModulePath = "github.com/crmgen/crmgen"

// Version is the version a release of these sources is tagged with. A binary built from a checkout (go
// build, go run, go test) carries no module version of its own, so the apps it generates require this one.
const Version = "v0.1.0"

// GoMod is this module's go.mod.
//
//go:embed go.mod
var GoMod []byte

// GoSum is this module's go.sum.
//
//go:embed go.sum
var GoSum []byte

// ModuleVersion returns the version of crmgen that generated apps require: the version of the running
// binary. The go command stamps it into binaries built from a module version (go install …@v0.2.0), with
// sum, the go.sum hash of that version's module zip; otherwise it is Version and sum is empty.
func ModuleVersion() (version, sum string) {
	bi, ok := debug.ReadBuildInfo()
	// A build from a checkout may be stamped "(devel)" or a pseudo-version with "+dirty", which no proxy
	// serves; module.Check rejects both.
	if ok && bi.Main.Path == ModulePath && module.Check(ModulePath, bi.Main.Version) == nil {
		return bi.Main.Version, bi.Main.Sum
	}
	return Version, ""
}

// SourceDir returns the directory of the crmgen checkout this binary was built from, or "" when the
// sources are not on this machine (a binary built with -trimpath). crmgen generate --dev points the app's
// go.mod at it, and generation runs entc and gqlgen against it.
func SourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "platform")); err != nil {
		return ""
	}
	return dir
}
