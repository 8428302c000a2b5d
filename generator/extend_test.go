package generator_test

import (
	"bytes"
	"encoding/json"
	"go/format"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/generator"
)

// The extend/ starter is the app's from the moment it is written: it is none of the generated files, so
// the manifest does not list it and no later generation can rewrite or remove it; the generated main
// imports its package, and it is gofmt-clean Go of package extend.
func TestExtendStarter(t *testing.T) {
	res := generateSmall(t)
	src := res.Starter["extend/extend.go"]
	if src == nil {
		t.Fatalf("no extend/extend.go starter; starter files: %v", res.Starter.Paths())
	}
	for p := range res.Files {
		if strings.HasPrefix(p, generator.ExtendDir+"/") {
			t.Errorf("%s is a generated file: a regeneration would rewrite it", p)
		}
	}
	var man generator.Manifest
	if err := json.Unmarshal(res.Files[generator.ManifestPath], &man); err != nil {
		t.Fatal(err)
	}
	for p := range man.Files {
		if strings.HasPrefix(p, generator.ExtendDir+"/") {
			t.Errorf("the manifest lists %s: a regeneration that no longer produced it would remove it", p)
		}
	}
	if formatted, err := format.Source(src); err != nil || !bytes.Equal(formatted, src) {
		t.Errorf("the starter is not gofmt-clean (%v):\n%s", err, src)
	}
	if !bytes.Contains(src, []byte("\npackage extend\n")) || !bytes.Contains(src, []byte(`extension.BeforeWrite("`)) {
		t.Errorf("the starter is not package extend with an example hook:\n%s", src)
	}
	if !bytes.Contains(res.Files["main.go"], []byte(`_ "small/extend"`)) {
		t.Errorf("main.go does not import the extend package:\n%s", res.Files["main.go"])
	}
}

// The extend package's GraphQL is checked before anything runs, each problem at its file:line:col: a
// syntax error, a declaration other than fields of Query and Mutation, and a field whose function the
// package does not have (which would otherwise surface as a compile error in generated code).
func TestCheckExtend(t *testing.T) {
	const goSrc = "package extend\n\nimport \"context\"\n\nfunc DueToday(ctx context.Context) (int, error) { return 0, nil }\n"
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"valid", "extend type Query {\n  dueToday: Int!\n}\n", ""},
		{"syntax", "extend type Query {\n  dueToday(first: ): Int!\n}\n",
			"extend/schema.graphql:2:19: GraphQL syntax: Expected Name, found )"},
		{"missing function", "extend type Query {\n  dueToday: Int!\n}\n\nextend type Mutation {\n  closeAll(days: Int!): Int!\n}\n",
			"extend/schema.graphql:6:3: Mutation.closeAll: the extend package has no function CloseAll (it resolves the field, with the signature of gqlgen's MutationResolver.CloseAll)"},
		{"new type", "type Summary {\n  n: Int!\n}\n",
			`extend/schema.graphql:1:6: object "Summary": extend/ may only add fields to Query and Mutation (extend type Query { … }), whose types are scalars and the model's entities and enums`},
		{"other type", "extend type Patient {\n  n: Int!\n}\n",
			"extend/schema.graphql:1:13: extend object Patient: extend/ may only add fields to Query and Mutation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := generator.CheckExtend(generator.Files{
				"extend/extend.go":       []byte(goSrc),
				"extend/schema.graphql":  []byte(tc.schema),
				"extend/notes/x.graphql": []byte("not read: only extend/*.graphql is the package's schema {"),
			})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("CheckExtend:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
