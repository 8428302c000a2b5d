package generator

import (
	"strings"
	"testing"
)

// The resolvers of extend fields take gqlgen's exact signatures from the executor, and call the extend
// package's functions with the request's client in ctx; an argument named like a package it uses is
// renamed, so it cannot shadow the package.
func TestExtendResolvers(t *testing.T) {
	ext, err := loadExtendSchema(Files{
		"extend/extend.go":      []byte("package extend\n\nfunc DueToday() {}\nfunc Postpone() {}\n"),
		"extend/schema.graphql": []byte("extend type Query {\n  dueToday(first: Int): [Patient!]!\n}\nextend type Mutation {\n  postpone(ent: [ID!]!, days: Int!): Int!\n}\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	const generated = `package graph

import (
	"context"
	"app/ent"
	gqltime "time"
)

type QueryResolver interface {
	Node(ctx context.Context, id int) (ent.Noder, error)
	DueToday(ctx context.Context, first *int) ([]*ent.Patient, error)
}
type MutationResolver interface {
	Postpone(ctx context.Context, ent []int, days int) (int, error)
	Other(ctx context.Context, at gqltime.Time) (int, error)
}
`
	src, err := extendResolvers(ext, []byte(generated), "app")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"func (r *queryResolver) DueToday(ctx context.Context, first *int) ([]*ent.Patient, error) {\n\treturn extend.DueToday(ent.NewContext(ctx, r.ent(ctx)), first)\n}",
		"func (r *mutationResolver) Postpone(ctx context.Context, arg0 []int, days int) (int, error) {\n\treturn extend.Postpone(ent.NewContext(ctx, r.ent(ctx)), arg0, days)\n}",
		"import (\n\t\"app/ent\"\n\t\"app/extend\"\n\t\"context\"\n)",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("graph/extend.go lacks\n%s\n\n%s", want, src)
		}
	}
}
