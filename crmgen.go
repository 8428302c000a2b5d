// Package crmgen is the root of the crmgen module. It embeds the module's go.mod and go.sum: a generated
// application requires exactly the versions crmgen was built with, so its go.mod copies these
// requirements and its go.sum copies these sums, and generation never needs new module resolution.
package crmgen

import (
	_ "embed"
	"os"
	"path/filepath"
	"runtime"
)

// GoMod is this module's go.mod.
//
//go:embed go.mod
var GoMod []byte

// GoSum is this module's go.sum.
//
//go:embed go.sum
var GoSum []byte

// SourceDir returns the directory of the crmgen checkout this binary was built from, or "" when the
// sources are not on this machine (an installed binary). Generated apps point a go.mod replace at it.
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
