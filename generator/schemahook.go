package generator

import (
	"strings"

	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
)

// nullableHidden is an entgql schema hook. A field or relation that some role of the model hides must be
// able to answer null for that role (the platform's field guard returns null), so its GraphQL type loses
// its non-null marker. Fields no role hides keep their exact types.
func nullableHidden(m *metamodel.Model) func(*gen.Graph, *ast.Schema) error {
	return func(_ *gen.Graph, s *ast.Schema) error {
		// Each list on Query answers on its own: one refused (a filter on a hidden field) is null with its
		// error, and the other fields of the operation still answer.
		if q := s.Types["Query"]; q != nil {
			for _, f := range q.Fields {
				if strings.HasSuffix(f.Type.Name(), "Connection") && f.Type.NonNull {
					f.Type = copyNullable(f.Type)
				}
			}
			// METAMODEL.md: the API's search argument matches an entity's `search` fields.
			for _, e := range m.Entities {
				if f := q.Fields.ForName(e.QueryField()); f != nil && len(searchFields(e)) > 0 {
					f.Arguments = append(f.Arguments, &ast.ArgumentDefinition{Name: "search",
						Description: "Records whose search fields you may see contain this text (case-insensitive).",
						Type:        ast.NamedType("String", nil)})
				}
			}
		}
		for _, e := range m.Entities {
			def := s.Types[e.Name]
			if def == nil {
				continue
			}
			hidden := hiddenGraphQLNames(m, e)
			for _, f := range def.Fields {
				if hidden[f.Name] && f.Type.NonNull {
					f.Type = copyNullable(f.Type)
				}
			}
		}
		return nil
	}
}

// hiddenGraphQLNames lists the GraphQL fields of e that can answer null for some reader: the members
// metamodel.Restrictable names, with the foreign keys of their relations.
func hiddenGraphQLNames(m *metamodel.Model, e *metamodel.Entity) map[string]bool {
	out := map[string]bool{}
	for name := range m.Restrictable(e) {
		if f := e.Field(name); f != nil {
			out[f.GraphQLName()] = true
		}
		if rel := e.Relation(name); rel != nil {
			out[rel.GraphQLName()] = true
			if rel.Kind == metamodel.BelongsTo {
				out[rel.GraphQLFKName()] = true
			}
		}
	}
	return out
}

func copyNullable(t *ast.Type) *ast.Type {
	c := *t
	c.NonNull = false
	return &c
}

// searchFields are the string-like `search` fields of e, which the API's search argument matches.
func searchFields(e *metamodel.Entity) []*metamodel.Field {
	var out []*metamodel.Field
	for _, f := range e.Fields {
		if f.Type.Stringy() && f.Search && !f.Secret && !virtual(f) {
			out = append(out, f)
		}
	}
	return out
}
