package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crmgen/crmgen/generator"
)

// writePlan is what writing a generated application into a directory changes.
type writePlan struct {
	dir       string
	write     map[string][]byte
	remove    []string
	unchanged int
}

func (p *writePlan) changes() int { return len(p.write) + len(p.remove) }

// planWrite compares the generated files with the directory: files with the same content are left alone
// (their modification times too, so go build's cache stays warm), and files the previous generation wrote
// that this one does not are removed. Files crmgen never wrote are never touched.
func planWrite(dir string, files generator.Files, prev *generator.Manifest) *writePlan {
	p := &writePlan{dir: dir, write: map[string][]byte{}}
	for _, path := range files.Paths() {
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err == nil && bytes.Equal(old, files[path]) {
			p.unchanged++
			continue
		}
		p.write[path] = files[path]
	}
	if prev != nil {
		for path := range prev.Files {
			if _, ok := files[path]; !ok {
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(path))); err == nil {
					p.remove = append(p.remove, path)
				}
			}
		}
	}
	return p
}

// apply writes each file through a temporary file and a rename, so a reader never sees half a file.
func (p *writePlan) apply() error {
	for path, b := range p.write {
		full := filepath.Join(p.dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		tmp := full + ".crmgen-tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", full, err)
		}
		if err := os.Rename(tmp, full); err != nil {
			return fmt.Errorf("write %s: %w", full, err)
		}
	}
	for _, path := range p.remove {
		if err := os.Remove(filepath.Join(p.dir, filepath.FromSlash(path))); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
