package generator

import (
	"github.com/dave/jennifer/jen"

	"github.com/crmgen/crmgen/metamodel"
)

// fastFieldFiles emits ent/crm_fields.go: for every entity, accessors by GraphQL field name to what a
// loaded record holds — its plain values (CrmValue) and the related records ent loaded with it
// (CrmEdge). platform/gqlwrite writes a list's JSON from them directly, under the same field rules as
// gqlgen's field-by-field execution, which costs most of a list query's CPU; a field they do not answer
// (a resolver: computed values, history, transitions) sends the list back to gqlgen.
func fastFieldFiles(m *metamodel.Model) (Files, error) {
	f := jen.NewFile("ent")
	f.HeaderComment(generatedHeader)
	for _, e := range m.Entities {
		x := jen.Id("x").Op("*").Id(e.Name)
		var values []jen.Code
		values = append(values, jen.Case(jen.Lit("id")).Block(jen.Return(jen.Id("x").Dot("ID"), jen.True())))
		for _, fd := range e.Fields {
			if fd.Secret || virtual(fd) || fd.Type.Attachment() { // an attachment is resolved (its URL)
				continue
			}
			values = append(values, jen.Case(jen.Lit(fd.GraphQLName())).Block(
				jen.Return(jen.Id("x").Dot(entPascal(fd.EntName())), jen.True())))
		}
		var edges []jen.Code
		for _, r := range e.Relations {
			name := entPascal(r.EntName())
			switch r.Kind {
			case metamodel.BelongsTo:
				values = append(values, jen.Case(jen.Lit(r.GraphQLFKName())).Block(
					jen.Return(jen.Id("x").Dot(entPascal(r.FKColumn())), jen.True())))
				fallthrough
			case metamodel.HasOne:
				edges = append(edges, jen.Case(jen.Lit(r.GraphQLName())).Block(
					jen.List(jen.Id("v"), jen.Err()).Op(":=").Id("x").Dot("Edges").Dot(name+"OrErr").Call(),
					jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Op("!").Id("IsNotLoaded").Call(jen.Err()))),
					jen.Return(jen.Id("v"), jen.True()),
				))
			default: // a connection, loaded per alias
				edges = append(edges, jen.Case(jen.Lit(r.GraphQLName())).Block(
					jen.List(jen.Id("v"), jen.Err()).Op(":=").Id("x").Dot("Named"+name).Call(jen.Id("alias")),
					jen.Return(jen.Id("v"), jen.Err().Op("==").Nil()),
				))
			}
		}
		f.Commentf("CrmValue returns the value of %s's GraphQL field (a stored field, a foreign key or the id), and", e.Name)
		f.Comment("false for any other field.")
		f.Func().Params(x.Clone()).Id("CrmValue").Params(jen.Id("field").String()).Params(jen.Any(), jen.Bool()).Block(
			jen.Switch(jen.Id("field")).Block(values...),
			jen.Return(jen.Nil(), jen.False()),
		)
		f.Commentf("CrmEdge returns the related record(s) of %s's GraphQL field loaded with the record (a to-one", e.Name)
		f.Comment("relation, or the rows of a connection under its alias), and false when they were not loaded.")
		body := []jen.Code{jen.Return(jen.Nil(), jen.False())}
		if len(edges) > 0 {
			body = append([]jen.Code{jen.Switch(jen.Id("field")).Block(edges...)}, body...)
		}
		aliasParam := jen.Id("alias").String()
		if !hasConnection(e) {
			aliasParam = jen.Id("_").String()
		}
		f.Func().Params(x.Clone()).Id("CrmEdge").Params(jen.Id("field").String(), aliasParam).Params(jen.Any(), jen.Bool()).Block(body...)
	}
	src, err := render(f)
	if err != nil {
		return nil, err
	}
	return Files{"ent/crm_fields.go": src}, nil
}

// hasConnection reports whether e has a to-many relation (a connection in GraphQL).
func hasConnection(e *metamodel.Entity) bool {
	for _, r := range e.Relations {
		if r.Kind == metamodel.HasMany || r.Kind == metamodel.ManyToMany {
			return true
		}
	}
	return false
}
