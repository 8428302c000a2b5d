package metamodel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Sections are the top-level keys of a model file.
var Sections = objectKeys("file")

// source is one model file: its name relative to the model directory, and its content.
type source struct {
	name string
	data []byte
}

// Load reads a model: a directory (every *.yaml and *.yml file in it, recursively, in sorted order, merged)
// or a single file. Positions are relative to the directory (for a single file: its base name). Unknown
// keys and names declared twice are errors. Load reports every error it finds as an ErrorList and returns
// the (possibly partial) model with it; references stay names until Build. Decoding goes on past a problem
// (a misspelt key is read as the key it most likely means, a value of the wrong type is left out), so
// Build can validate what was decoded and report Load's errors together with its own.
func Load(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	var srcs []source
	if !st.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		srcs = append(srcs, source{name: filepath.Base(path), data: data})
	} else {
		var names []string
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != path && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
				rel, err := filepath.Rel(path, p)
				if err != nil {
					return err
				}
				names = append(names, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("load model: no *.yaml or *.yml files in %s", path)
		}
		sort.Strings(names)
		for _, n := range names {
			data, err := os.ReadFile(filepath.Join(path, filepath.FromSlash(n)))
			if err != nil {
				return nil, fmt.Errorf("load model: %w", err)
			}
			srcs = append(srcs, source{name: n, data: data})
		}
	}
	return loadSources(srcs)
}

// loadSources decodes and merges model files given in order.
func loadSources(srcs []source) (*Model, error) {
	m := &Model{Sections: map[string]Pos{}, src: map[any]srcPos{}, broken: map[Pos]bool{}}
	l := &loader{m: m, first: map[string]Pos{}}
	for _, s := range srcs {
		l.file = s.name
		l.budget = valueBudget
		l.lines = strings.Split(string(s.data), "\n")
		dec := yaml.NewDecoder(bytes.NewReader(s.data))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				l.yamlError(err)
				break
			}
			l.document(&doc)
		}
	}
	if len(l.errs) > 0 {
		m.loadErrs = l.sorted()
		return m, m.loadErrs
	}
	return m, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns a yaml.v3 syntax error into a positioned error.
func (l *loader) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
		// yaml.v3 reports parser errors (unlike scanner errors) with a 0-based line.
		if strings.HasPrefix(msg, "did not find expected") {
			line++
		}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	l.errorf(Pos{File: l.file, Line: line, Col: 1}, "invalid YAML: %s", msg)
	l.m.incomplete = true
}

// document decodes the top-level sections of one YAML document.
func (l *loader) document(doc *yaml.Node) {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		doc = doc.Content[0]
	}
	l.mapping(doc, "the model file", Sections, func(key string, k, v *yaml.Node) {
		if _, ok := l.m.Sections[key]; !ok {
			l.m.Sections[key] = l.at(k)
		}
		switch key {
		case "app":
			l.app(k, v)
		case "enums":
			l.enums(v)
		case "entities":
			l.entities(v)
		case "roles":
			l.roles(v)
		case "workflows":
			l.workflows(v)
		case "automations":
			l.automations(v)
		case "reports":
			l.reports(v)
		case "dashboards":
			l.dashboards(v)
		case "functions":
			l.functions(v)
		case "data":
			l.data(k, v)
		}
	})
}
