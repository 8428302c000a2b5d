package generator

import (
	"os"
	"path/filepath"
	_ "unsafe" // go:linkname

	"golang.org/x/tools/go/packages"
)

// gqlgen loads the packages it binds (the generated ent package above all) with types but without their
// dependencies' syntax, a mode in which golang.org/x/tools/go/packages runs `go list -export -deps`: that
// compiles every package listed, the roots included, only so that the others' types can be read from
// export data. For a large model the root is the generated ent package, and compiling it is most of
// gqlgen's time (the 50-entity model of bench/generate.sh, whose ent package is 351,000 lines: 77 s of
// gqlgen's 92 s; the app's build then compiles it again in its own directory). Asking for the
// dependencies too makes go/packages type-check everything from source and compile nothing, at a cost
// that hardly grows with the model: some 5 s for each of gqlgen's three loads here. So a large ent
// package is loaded from source, a small one as gqlgen does (its compile is quicker than the source of
// every dependency). Measured on 2 cores: the small test model 7 s export, 16 s source; hospital (2.4 MB
// of ent) 17 s either way; the 50-entity model 153 s export, 25 s source.
//
// gqlgen has no option for its load mode, so its package variable is set, under codegenMu, for the
// duration of a run. The link fails if gqlgen renames it; TestDeterministic checks, from the go commands
// run, that the mode is the one set and that both modes generate the same files.
//
//go:linkname gqlgenLoadMode github.com/99designs/gqlgen/internal/code.mode
var gqlgenLoadMode packages.LoadMode

// sourceTypesAbove is the size, in bytes of Go source, of the generated ent package (ent/*.go) above
// which gqlgen type-checks from source.
var sourceTypesAbove int64 = 3 << 20

// gqlgenLoads sets gqlgen's load mode for the ent package under dir and returns what restores it.
func gqlgenLoads(dir string) (restore func()) {
	files, _ := filepath.Glob(filepath.Join(dir, "ent", "*.go"))
	var size int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			size += st.Size()
		}
	}
	old := gqlgenLoadMode
	if size > sourceTypesAbove {
		gqlgenLoadMode |= packages.NeedDeps | packages.NeedImports
	}
	return func() { gqlgenLoadMode = old }
}
