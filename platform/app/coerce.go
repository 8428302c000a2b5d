package app

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// coercingCache is the cache of parsed and validated queries. Before a document is shared it makes
// GraphQL's input coercion of a single value to a one-element list explicit for literal arguments that
// expect a list: orderBy: {field: NAME} becomes orderBy: [{field: NAME}]. gqlgen coerces the arguments
// it decodes itself, and variables are coerced when the request's values are validated, but entgql's
// field collection reads nested connections' literal arguments from the document and would ignore a
// single object, ordering nested lists differently from what was asked. This changes how lists are
// ordered, never what a reader may see.
type coercingCache struct {
	graphql.Cache[*ast.QueryDocument]
}

// Add coerces doc, then shares it. The executor adds a document once it is validated (so its fields know
// their definitions) and before it runs it, so every request sees it coerced.
func (c coercingCache) Add(ctx context.Context, key string, doc *ast.QueryDocument) {
	for _, op := range doc.Operations {
		coerceLists(op.SelectionSet, 0)
	}
	for _, f := range doc.Fragments {
		coerceLists(f.SelectionSet, 0)
	}
	c.Cache.Add(ctx, key, doc)
}

// coerceLists wraps, in the fields of set and below, a literal object given for an argument of list type
// in a one-element list.
func coerceLists(set ast.SelectionSet, level int) {
	if level > 64 {
		return
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			for _, arg := range s.Arguments {
				if s.Definition == nil || arg.Value == nil || arg.Value.Kind != ast.ObjectValue {
					continue
				}
				if def := s.Definition.Arguments.ForName(arg.Name); def != nil && def.Type != nil && def.Type.Elem != nil {
					arg.Value = &ast.Value{Kind: ast.ListValue, Position: arg.Value.Position, Definition: arg.Value.Definition,
						ExpectedType: def.Type, Children: ast.ChildValueList{{Value: arg.Value, Position: arg.Value.Position}}}
				}
			}
			coerceLists(s.SelectionSet, level+1)
		case *ast.InlineFragment:
			coerceLists(s.SelectionSet, level+1)
		}
	}
}
