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
// the generator's starter, a file of comments that shows how to register a hook.

// extendSource returns the files a new app's extend/ starts from: those of <model>/extend/ when the model
// is a directory that has one, else starter.
func extendSource(modelPath string, starter generator.Files) (generator.Files, error) {
	root := filepath.Join(modelPath, generator.ExtendDir)
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return starter, nil
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
		rel, err := filepath.Rel(modelPath, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the model's %s package: %w", generator.ExtendDir, err)
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
