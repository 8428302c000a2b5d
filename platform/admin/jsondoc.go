package admin

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A json field holds a document the model does not describe (a questionnaire's questions, a device's
// settings). Screens show it as people read such things, not as JSON: an object as a list of its keys and
// values, a list of objects as a table with a column per key, a list of plain values as one line, and
// true/false in the user's words. Keys are the data's own; they are shown as written.

// doc is a JSON value as a screen shows it: one of Text, Null, Fields, List, Line or Table.
type doc struct {
	Text   string     // a plain value (string, number, yes/no), or "" for null
	Null   bool       // a JSON null
	Fields []docField // an object, its keys sorted (the API's JSON does not keep their order)
	List   []*doc     // a list of mixed values, one an item
	Line   string     // a list of plain values, on one line
	Table  *docTable  // a list of objects
	More   string     // "+n more" when a list was cut at docMaxItems
}

type docField struct {
	Key   string
	Value *doc
}

type docTable struct {
	Columns []string
	Rows    [][]*doc // a cell per column; nil where the row has no such key
}

// docMaxDepth and docMaxItems bound what a document costs to show: deeper values are shown as compact
// JSON text, longer lists are cut with a note of how many items are not shown.
const (
	docMaxDepth = 6
	docMaxItems = 200
)

// jsonDoc returns v (as decoded from the API's JSON) as a document in lang.
func jsonDoc(v any, lang string) *doc { return toDoc(v, lang, 0) }

func toDoc(v any, lang string, depth int) *doc {
	if depth >= docMaxDepth {
		b, _ := json.Marshal(v)
		return &doc{Text: string(b)}
	}
	switch x := v.(type) {
	case nil:
		return &doc{Null: true}
	case bool:
		if x {
			return &doc{Text: translate(lang, "yes")}
		}
		return &doc{Text: translate(lang, "no")}
	case float64:
		return &doc{Text: strconv.FormatFloat(x, 'f', -1, 64)}
	case json.Number:
		return &doc{Text: x.String()}
	case string:
		return &doc{Text: x}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := &doc{Fields: make([]docField, len(keys))}
		for i, k := range keys {
			d.Fields[i] = docField{Key: k, Value: toDoc(x[k], lang, depth+1)}
		}
		return d
	case []any:
		d := &doc{}
		items := x
		if len(items) > docMaxItems {
			d.More = fmt.Sprintf(translate(lang, "n more"), len(items)-docMaxItems)
			items = items[:docMaxItems]
		}
		if cols := tableColumns(items); cols != nil {
			t := &docTable{Columns: cols, Rows: make([][]*doc, len(items))}
			for i, it := range items {
				obj := it.(map[string]any)
				row := make([]*doc, len(cols))
				for j, c := range cols {
					if cv, ok := obj[c]; ok {
						row[j] = toDoc(cv, lang, depth+2)
					}
				}
				t.Rows[i] = row
			}
			d.Table = t
			return d
		}
		d.List = make([]*doc, len(items))
		plain := true
		for i, it := range items {
			d.List[i] = toDoc(it, lang, depth+1)
			plain = plain && d.List[i].Fields == nil && d.List[i].List == nil && d.List[i].Table == nil && d.List[i].Line == ""
		}
		if plain {
			texts := make([]string, len(d.List))
			for i, x := range d.List {
				texts[i] = x.Text
				if x.Null {
					texts[i] = "—"
				}
			}
			d.List, d.Line = nil, strings.Join(texts, translate(lang, ", "))
		}
		return d
	}
	b, _ := json.Marshal(v)
	return &doc{Text: string(b)}
}

// tableColumns returns the union of the keys of items, sorted, when every item is an object (and there
// is at least one), else nil.
func tableColumns(items []any) []string {
	if len(items) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var cols []string
	for _, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil
		}
		for k := range obj {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	return cols
}
