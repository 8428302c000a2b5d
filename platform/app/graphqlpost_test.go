package app

import (
	"bytes"
	"encoding/json"
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
