package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/crmgen/crmgen/generator"
)

// The app's extend/ package is the team's own code (hooks registered with platform/extension). Generation
// starts it once, when the app has no extend/ directory, and then never writes, rewrites or removes
// anything in it: it is in no manifest, so planWrite's removal of stale files cannot reach it.
//
// A model directory may carry the package's sources beside its YAML, in <model>/extend/ (the examples do:
// a model and its custom code travel together). An app without extend/ starts from those; otherwise from
// the generator's starter, a file of comments that shows how to register a hook. A model's extend/ may be
// a module of its own (a go.mod, as examples/hospital/extend has: code that imports the app's ent package
// builds only in the app); its go.mod and go.sum are not copied, since in the app it is one of the app's
// packages.

// extendSource returns the files a new app's extend/ starts from: those of <model>/extend/ when the model
// is a directory that has one, else starter.
func extendSource(modelPath string, starter generator.Files) (generator.Files, error) {
	files, err := readExtend(modelPath)
	if files == nil && err == nil {
		return starter, nil
	}
	return files, err
}

// currentExtend returns the extend/ package a generation of the app in dir works with, and the directory
// its paths are relative to: the app's own when it has one (generation never replaces it), else the
// model's, which the app is about to start from. Generation reads its *.graphql files and checks them
// against its Go files.
func currentExtend(modelPath, dir string) (generator.Files, string, error) {
	files, err := readExtend(dir)
	if files != nil || err != nil {
		return files, dir, err
	}
	files, err = readExtend(modelPath)
	return files, modelBase(modelPath), err
}

// readExtend reads the files of root's extend/ directory, by path relative to root (extend/…); nil when
// root has no extend/ directory.
func readExtend(base string) (generator.Files, error) {
	root := filepath.Join(base, generator.ExtendDir)
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, nil
	}
	files := generator.Files{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(base, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == generator.ExtendDir+"/go.mod" || rel == generator.ExtendDir+"/go.sum" {
			return nil
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the %s package: %w", generator.ExtendDir, err)
	}
	return files, nil
}

// start adds files to write where the app does not yet have their package's directory (extend/): a
// directory that exists, even empty or changed beyond recognition, is the team's and stays as it is.
func (p *writePlan) start(files generator.Files) {
	for _, path := range files.Paths() {
		top, _, _ := strings.Cut(path, "/")
		if _, err := os.Stat(filepath.Join(p.dir, top)); err == nil {
			continue
		}
		p.write[path] = files[path]
	}
}
