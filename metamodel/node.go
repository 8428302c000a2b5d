package metamodel

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// srcPos holds the positions of an element's keys and list items: "to" is the position of the value of
// key to, "fields.2" the position of the third item of the list under fields.
type srcPos map[string]Pos

// textLoc remembers where a localized text and each of its locale keys were written.
type textLoc struct {
	text Text
	keys map[string]Pos
}

// posOf returns the recorded position of key inside element x, or def.
func (m *Model) posOf(x any, key string, def Pos) Pos {
	if s, ok := m.src[x]; ok {
		if p, ok := s[key]; ok {
			return p
		}
	}
	return def
}

// hasKey reports whether key was written in element x.
func (m *Model) hasKey(x any, key string) bool {
	_, ok := m.src[x][key]
	return ok
}

// failed reports whether key was written in element x but Load reported a problem in its value. Build
// does not report such a value as missing or empty: the problem already reported is the one to fix.
func (m *Model) failed(x any, key string) bool {
	p, ok := m.src[x][key]
	return ok && m.broken[p]
}

// loader decodes yaml.v3 node trees into a Model, one file at a time, keeping every position.
type loader struct {
	diags
	m     *Model
	file  string
	lines []string
	first map[string]Pos // kind + qualified name → first declaration
	// budget limits how many nodes value may visit per file, so aliases cannot expand exponentially.
	budget int
}

// valueBudget is the number of nodes data values of one file may expand to.
const valueBudget = 1 << 20

func (l *loader) at(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

// mark records the position of node n as key inside element x.
func (l *loader) mark(x any, key string, n *yaml.Node) {
	s := l.m.src[x]
	if s == nil {
		s = srcPos{}
		l.m.src[x] = s
	}
	if _, ok := s[key]; !ok {
		s[key] = l.at(n)
	}
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the kind of a node for messages: "a mapping", "a list", "a string", ...
func describe(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil || isNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return fmt.Sprintf("%q", n.Value)
}

// mapping walks the pairs of a mapping node, rejecting keys not in keys (when keys is non-nil) with a
// suggestion, and keys written twice. A null node is an empty mapping.
func (l *loader) mapping(n *yaml.Node, what string, keys []string, fn func(key string, k, v *yaml.Node)) {
	l.pairs(n, what, keys, true, fn)
}

// pairs is mapping with the check for keys written twice optional (named does its own).
func (l *loader) pairs(n *yaml.Node, what string, keys []string, dups bool, fn func(key string, k, v *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(l.at(n), "%s: want a mapping, got %s", what, describe(n))
		return
	}
	seen := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errorf(l.at(k), "%s: want a name as key, got %s", what, describe(k))
			continue
		}
		key := k.Value
		if keys != nil && !contains(keys, key) {
			l.errorf(l.at(k), "unknown key %q in %s%s", key, what, hint(key, keys))
			// A misspelt key is decoded as the key it most likely means, unless that one is written too:
			// dropping `fileds` would report every use of its fields as unknown.
			key = closest(key, keys)
			if key == "" || hasKeyNode(n, key) {
				continue
			}
		}
		if p, ok := seen[key]; ok && dups {
			l.errorf(l.at(k), "key %q is declared twice in %s (first at %s)", key, what, p)
			continue
		}
		seen[key] = l.at(k)
		before := len(l.errs)
		fn(key, k, v)
		if len(l.errs) > before {
			l.m.broken[l.at(v)] = true
		}
	}
}

// hasKeyNode reports whether mapping node n has the key.
func hasKeyNode(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

// named walks a mapping of named declarations (entities, fields, states, …). A name declared twice, in this
// mapping or in another file, is an error naming both places. qual is the qualified name for messages
// and duplicate detection (e.g. "Patient.name").
func (l *loader) named(n *yaml.Node, kind, what string, qual func(string) string, fn func(name string, k, v *yaml.Node)) {
	if n := deref(n); !isNull(n) && n.Kind != yaml.MappingNode {
		l.m.incomplete = true
	}
	l.pairs(n, what, nil, false, func(name string, k, v *yaml.Node) {
		q := qual(name)
		id := kind + " " + q
		if p, ok := l.first[id]; ok {
			l.errorf(l.at(k), "%s %q is declared twice (first at %s)", kind, q, p)
			return
		}
		l.first[id] = l.at(k)
		fn(name, k, v)
	})
}

// list walks the items of a sequence node. A null node is an empty list.
func (l *loader) list(n *yaml.Node, what string, fn func(i int, item *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(l.at(n), "%s: want a list, got %s", what, describe(n))
		return
	}
	for i, it := range n.Content {
		fn(i, deref(it))
	}
}

// str reads a scalar as a string; null and collections are errors.
func (l *loader) str(n *yaml.Node, what string) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		l.errorf(l.at(n), "%s: want a string, got %s", what, describe(n))
		return ""
	}
	return n.Value
}

// boolean reads true or false.
func (l *loader) boolean(n *yaml.Node, what string) bool {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		l.errorf(l.at(n), "%s: want true or false, got %s", what, describe(n))
		return false
	}
	var b bool
	_ = n.Decode(&b)
	return b
}

// integer reads an integer.
func (l *loader) integer(n *yaml.Node, what string) (int, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		l.errorf(l.at(n), "%s: want an integer, got %s", what, describe(n))
		return 0, false
	}
	var i int
	if err := n.Decode(&i); err != nil {
		l.errorf(l.at(n), "%s: integer %s out of range", what, n.Value)
		return 0, false
	}
	return i, true
}

// number reads an integer or a float.
func (l *loader) number(n *yaml.Node, what string) (float64, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		l.errorf(l.at(n), "%s: want a number, got %s", what, describe(n))
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		l.errorf(l.at(n), "%s: invalid number %s", what, n.Value)
		return 0, false
	}
	return f, true
}

// strList reads a list of strings, recording each item's position under key.i in element x (and the list's
// under key). With one true, a single scalar is accepted as a one-item list.
func (l *loader) strList(n *yaml.Node, what string, x any, key string, one bool) []string {
	n = deref(n)
	l.mark(x, key, n)
	if one && n.Kind == yaml.ScalarNode && !isNull(n) {
		l.mark(x, key+".0", n)
		return []string{n.Value}
	}
	out := []string{}
	l.list(n, what, func(i int, it *yaml.Node) {
		s := l.str(it, what)
		l.mark(x, key+"."+strconv.Itoa(len(out)), it)
		out = append(out, s)
	})
	return out
}

// expr reads a CEL expression; its position is that of its first character.
func (l *loader) expr(n *yaml.Node, what string) Expr {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || isNull(n) || strings.TrimSpace(n.Value) == "" {
		l.errorf(l.at(n), "%s: want an expression, got %s", what, describe(n))
		return Expr{}
	}
	pos := l.at(n)
	switch n.Style {
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		pos.Col++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The content starts on the next non-empty line, at its indentation.
		for i := n.Line; i < len(l.lines); i++ { // l.lines is 0-based: index n.Line is the next line
			if t := strings.TrimLeft(l.lines[i], " "); t != "" {
				pos.Line = i + 1
				pos.Col = len(l.lines[i]) - len(t) + 1
				break
			}
		}
	}
	return Expr{Src: strings.TrimRight(n.Value, "\n"), Pos: pos}
}

// value converts a YAML node to a Go value: string, int64, float64, bool, nil, []any or map[string]any.
// Timestamps stay strings as written.
func (l *loader) value(n *yaml.Node) any {
	n = deref(n)
	if l.budget--; l.budget == 0 {
		l.errorf(l.at(n), "values expand to too many nodes (are aliases nested too deeply?)")
	}
	if l.budget <= 0 {
		return nil
	}
	switch {
	case n == nil || isNull(n):
		return nil
	case n.Kind == yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, it := range n.Content {
			out = append(out, l.value(it))
		}
		return out
	case n.Kind == yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[deref(n.Content[i]).Value] = l.value(n.Content[i+1])
		}
		return out
	}
	switch n.Tag {
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i
		}
		var f float64
		_ = n.Decode(&f)
		return f
	case "!!float":
		var f float64
		_ = n.Decode(&f)
		return f
	case "!!bool":
		var b bool
		_ = n.Decode(&b)
		return b
	}
	return n.Value
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
