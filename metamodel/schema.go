package metamodel

import (
	"bytes"
	"encoding/json"
	"sort"
)

// SchemaFile is the name of the JSON Schema of the model format as committed in this package's directory
// and as `crmgen init` writes it next to a starter model; model files point to it with the modeline
// `# yaml-language-server: $schema=<path to crmgen.schema.json>`.
const SchemaFile = "crmgen.schema.json"

// JSONSchema returns the JSON Schema (draft 2020-12) of one model file, for editors (the YAML language
// server of VS Code, JetBrains IDEs) to complete and check model files as they are typed. It is written
// from the format table the loader decodes with, so it knows exactly the keys the loader accepts and the
// kind of value each holds. It checks one file: names that other files declare, and everything Build
// checks across the model (references, expressions, permissions), are left to `crmgen validate`.
// The output is deterministic.
func JSONSchema() []byte {
	file := formatObjects["file"]
	root := objectSchema(file)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "crmgen model file"
	root["type"] = []string{"object", "null"} // an empty file is a valid (empty) part of a model
	defs := map[string]any{
		"text": map[string]any{
			"description": "A plain string, or a map of locale to string: {zh: 客户, en: Customer}. " +
				"Quote a text that holds a comma: {zh: 文本, en: \"a text, with a comma\"}.",
			"anyOf": []any{
				map[string]any{"type": "string"},
				map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
			},
		},
	}
	for name, o := range formatObjects {
		if name != "file" {
			defs[name] = objectSchema(o)
		}
	}
	root["$defs"] = defs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic("metamodel: encode JSON Schema: " + err.Error()) // only maps, strings and numbers: cannot fail
	}
	return b.Bytes()
}

// objectSchema writes a mapping with fixed keys. A null mapping reads as an empty one, unless it must
// have a key.
func objectSchema(o *formatObject) map[string]any {
	props := map[string]any{}
	var required []string
	for _, k := range o.keys {
		s := shapeSchema(k.shape)
		if k.doc != "" {
			s["description"] = k.doc
		}
		props[k.name] = s
		if k.required {
			required = append(required, k.name)
		}
	}
	out := map[string]any{
		"type":                 []string{"object", "null"},
		"description":          o.doc,
		"properties":           props,
		"additionalProperties": false,
	}
	if o.rest != nil {
		out["additionalProperties"] = shapeSchema(o.rest)
	}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	if len(required) > 0 || o.notNull {
		out["type"] = "object"
	}
	if o.oneKey {
		out["type"] = "object"
		out["minProperties"] = 1
		out["maxProperties"] = 1
	}
	return out
}

// shapeSchema writes a value's shape. Lists and mappings of names may be null (they read as empty);
// scalars may not.
func shapeSchema(s *shape) map[string]any {
	out := map[string]any{}
	switch s.kind {
	case shapeString:
		out["type"] = "string"
		if len(s.words) > 0 {
			out["enum"] = s.words
		}
		if s.pattern != "" {
			out["pattern"] = s.pattern
		}
	case shapeBool:
		out["type"] = "boolean"
	case shapeInteger:
		out["type"] = "integer"
		out["minimum"] = s.min
	case shapeNumber:
		out["type"] = "number"
	case shapeText:
		out["$ref"] = "#/$defs/text"
	case shapeExpr:
		// A CEL expression; YAML reads `true` or `0` as a boolean or number, which is the same expression.
		out["type"] = []string{"string", "number", "boolean"}
		out["pattern"] = `\S` // not blank
	case shapeAny:
	case shapeValue:
		out["not"] = map[string]any{"type": "null"}
	case shapeObject:
		out["$ref"] = "#/$defs/" + s.ref
	case shapeNamed:
		out["type"] = []string{"object", "null"}
		out["additionalProperties"] = shapeSchema(s.item)
	case shapeList:
		out["type"] = []string{"array", "null"}
		out["items"] = shapeSchema(s.item)
	case shapeOneOrList:
		out["anyOf"] = []any{shapeSchema(s.item), map[string]any{"type": "array", "items": shapeSchema(s.item)}}
	case shapeEither:
		var alts []any
		for _, a := range s.alts {
			alts = append(alts, shapeSchema(a))
		}
		out["anyOf"] = alts
	}
	if s.doc != "" {
		out["description"] = s.doc
	}
	return out
}
