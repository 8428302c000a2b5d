package admin

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestJSONDoc checks how a json field's document is shaped for the screens: objects as keys and values
// in key order, lists of objects as tables over the union of their keys, plain lists as one line in the
// language's separator, yes/no in its words, and bounds on depth and length that still say what is cut.
func TestJSONDoc(t *testing.T) {
	decode := func(s string) any {
		t.Helper()
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber() // as the admin decodes the API's answers
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	d := jsonDoc(decode(`{"version": 1, "items": [{"seq": 1, "text": "好吗？", "options": ["是", "否"]}, {"seq": 2, "text": "说明", "required": false}], "note": null}`), "zh")
	if len(d.Fields) != 3 || d.Fields[0].Key != "items" || d.Fields[1].Key != "note" || d.Fields[2].Key != "version" {
		t.Fatalf("object fields %+v, want items, note, version", d.Fields)
	}
	if v := d.Fields[2].Value; v.Text != "1" {
		t.Errorf("version %+v, want 1", v)
	}
	if !d.Fields[1].Value.Null {
		t.Errorf("null reads %+v", d.Fields[1].Value)
	}
	tab := d.Fields[0].Value.Table
	if tab == nil || strings.Join(tab.Columns, ",") != "options,required,seq,text" || len(tab.Rows) != 2 {
		t.Fatalf("items table %+v", tab)
	}
	if got := tab.Rows[0][0].Line; got != "是、否" {
		t.Errorf("options line %q, want 是、否", got)
	}
	if tab.Rows[0][1] != nil || tab.Rows[1][0] != nil {
		t.Errorf("a key a row lacks has a cell: %+v", tab.Rows)
	}
	if got := tab.Rows[1][1].Text; got != "否" {
		t.Errorf("false in zh %q", got)
	}
	if got := jsonDoc(decode(`[true, 2.5, "x", null]`), "en").Line; got != "Yes, 2.5, x, —" {
		t.Errorf("plain list in en %q", got)
	}
	if got := jsonDoc(decode(`[1, [2, 3]]`), "en"); got.List == nil || got.List[1].Line != "2, 3" {
		t.Errorf("mixed list %+v", got)
	}

	long := "[" + strings.Repeat("1,", docMaxItems+4) + "1]"
	if got := jsonDoc(decode(long), "en"); strings.Count(got.Line, ",") != docMaxItems-1 || got.More != "+5 more" {
		t.Errorf("a list of %d: %d shown, more %q", docMaxItems+5, strings.Count(got.Line, ",")+1, got.More)
	}
	deep := strings.Repeat(`{"a":`, docMaxDepth+2) + "1" + strings.Repeat("}", docMaxDepth+2)
	x := jsonDoc(decode(deep), "en")
	for i := 0; i < docMaxDepth; i++ {
		if len(x.Fields) != 1 {
			t.Fatalf("depth %d: %+v", i, x)
		}
		x = x.Fields[0].Value
	}
	if x.Text != `{"a":{"a":1}}` {
		t.Errorf("below the depth bound: %+v, want compact JSON", x)
	}
}
