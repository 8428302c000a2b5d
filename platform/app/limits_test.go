package app

import (
	"strconv"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// countFields counts what validation will walk: every field and alias, each fragment as often as it is
// spread, every operation and fragment definition, in time linear in the document.
func TestCountFields(t *testing.T) {
	doubling := "query { ...F0 } fragment F40 on Query { a }"
	for i := 39; i >= 0; i-- {
		doubling += " fragment F" + strconv.Itoa(i) + " on Query { ...F" + strconv.Itoa(i+1) + " ...F" + strconv.Itoa(i+1) + " }"
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"{ a }", 1},
		{"{ a b c }", 3},
		{"{ x: a y: a z: a }", 3},
		{"{ a { b { c } } }", 3},
		{"{ ... on Query { a b } }", 2},
		{"query { ...F ...F } fragment F on Query { a b }", 6}, // 2×2 spread, plus the definition's 2
		{"query A { a } query B { b c }", 3},
		{"query { ...A } fragment A on Query { ...B } fragment B on Query { ...A x }", 3}, // the spread closing the cycle counts nothing
		{"query { ...Missing }", 0},
		{doubling, saturated},
	} {
		doc, err := parser.ParseQuery(&ast.Source{Input: c.query})
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if got := countFields(doc); got != c.want {
			t.Errorf("countFields(%.60s) = %d, want %d", c.query, got, c.want)
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "1MiB": 1 << 20, "512KiB": 512 << 10, "2 GiB": 2 << 30, "100B": 100} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1MB", "1.5MiB", "lots", "2000GiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, b)
		}
	}
	for b, want := range map[byteSize]string{1 << 20: "1 MiB", 64 << 10: "64 KiB", 4 << 20: "4 MiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := b.String(); got != want {
			t.Errorf("byteSize(%d).String() = %q, want %q", int64(b), got, want)
		}
	}
}
