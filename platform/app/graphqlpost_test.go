package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestWriteResponseAsJSONMarshal holds writeResponse to encoding/json, which gqlgen's transport used:
// the same bytes for data with characters json.Marshal escapes, errors and extensions.
func TestWriteResponseAsJSONMarshal(t *testing.T) {
	tr := true
	for name, resp := range map[string]*graphql.Response{
		"plain":     {Data: json.RawMessage(`{"a":[1,2.5,"x"],"b":null}`)},
		"escaped":   {Data: json.RawMessage("{\"s\":\"<script>&amp; a\u2028b\u2029c 王\",\"t\":\"\\\"<\\\\\"}")},
		"null data": {Errors: gqlerror.List{{Message: "不可以", Path: ast.Path{ast.PathName("x")}, Extensions: map[string]any{"code": "FORBIDDEN"}}}},
		"both":      {Data: json.RawMessage(`{"x":null}`), Errors: gqlerror.List{{Message: "a <b>"}}, Extensions: map[string]any{"n": 1}},
		"deferred":  {Data: json.RawMessage(`{}`), Label: "l", HasNext: &tr},
		"nil":       nil,
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		writeResponse(&got, resp)
		if got.String() != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got.String(), want)
		}
	}
}

// TestAppendEscapedAsJSONMarshal holds appendEscaped to encoding/json's HTML escaping on many strings
// made of the characters it escapes, their neighbours in UTF-8 (“ ” … share U+2028's first byte) and
// others, in runs and alone, at the start and at the end.
func TestAppendEscapedAsJSONMarshal(t *testing.T) {
	pieces := []string{"<", ">", "&", "\u2028", "\u2029", "“", "”", "…", "\u202a", "王伟", "a", "\\\"", "&amp;", " "}
	seed := uint32(1)
	for n := 0; n < 3000; n++ {
		var s strings.Builder
		for k := 0; k < n%23; k++ {
			seed = seed*1664525 + 1013904223
			s.WriteString(pieces[seed>>16%uint32(len(pieces))])
		}
		want, err := json.Marshal(map[string]string{"s": s.String()})
		if err != nil {
			t.Fatal(err)
		}
		var plain bytes.Buffer
		enc := json.NewEncoder(&plain)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]string{"s": s.String()}); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		appendEscaped(&got, bytes.TrimSuffix(plain.Bytes(), []byte("\n")))
		if got.String() != string(want) {
			t.Fatalf("%q:\n got %s\nwant %s", s.String(), got.String(), want)
		}
	}
}
