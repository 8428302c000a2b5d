package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// query runs a GraphQL operation that must succeed and returns its data as generic JSON.
func query(t *testing.T, s *apptest.Server, q string, vars map[string]any) map[string]any {
	t.Helper()
	r := s.GraphQL(t, q, vars)
	var out map[string]any
	r.Decode(t, &out)
	return out
}

// mustFail runs a GraphQL operation that must fail and returns its first error.
func mustFail(t *testing.T, s *apptest.Server, q string, vars map[string]any) apptest.Error {
	t.Helper()
	r := s.GraphQL(t, q, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("expected an error, got data %s", r.Data)
	}
	return r.Errors[0]
}

// at walks a path like "accounts.edges.0.node.name" through generic JSON.
func at(t *testing.T, v any, path string) any {
	t.Helper()
	cur := v
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(c) {
				t.Fatalf("path %s: bad index %s in %v", path, p, c)
			}
			cur = c[i]
		default:
			t.Fatalf("path %s: cannot descend into %T at %s (value %v)", path, cur, p, cur)
		}
	}
	return cur
}

func str(t *testing.T, v any, path string) string {
	t.Helper()
	s, ok := at(t, v, path).(string)
	if !ok {
		t.Fatalf("%s: want a string, got %v", path, at(t, v, path))
	}
	return s
}

func num(t *testing.T, v any, path string) float64 {
	t.Helper()
	n, ok := at(t, v, path).(float64)
	if !ok {
		t.Fatalf("%s: want a number, got %v", path, at(t, v, path))
	}
	return n
}

func list(t *testing.T, v any, path string) []any {
	t.Helper()
	l, ok := at(t, v, path).([]any)
	if !ok {
		t.Fatalf("%s: want a list, got %v", path, at(t, v, path))
	}
	return l
}

// names collects edges.*.node.<field> of a connection.
func names(t *testing.T, conn any, field string) []string {
	t.Helper()
	var out []string
	for _, e := range list(t, conn, "edges") {
		out = append(out, fmt.Sprint(at(t, e, "node."+field)))
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// count returns totalCount of a connection query field with an optional where filter.
func count(t *testing.T, s *apptest.Server, field, where string) int {
	t.Helper()
	if where != "" {
		where = "(where: " + where + ")"
	}
	d := query(t, s, "{ "+field+where+" { totalCount } }", nil)
	return int(num(t, d, field+".totalCount"))
}
