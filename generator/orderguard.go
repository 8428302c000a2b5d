package generator

import (
	"github.com/dave/jennifer/jen"

	"github.com/crmgen/crmgen/metamodel"
)

// orderGuardFiles emits ent/crm_order.go: for every entity with members some reader may be refused,
// its GraphQL order field (entgql's <Entity>OrderField) unmarshals with the request's context and asks
// platform/enforce whether the reader may sort by it. gqlgen calls it for every orderBy value it
// decodes, written inline or in a variable, as one object or a list, at any depth of the query; a
// refused sort fails the field that asked for it. Entities no rule restricts get no method, so their
// order fields cost nothing extra.
func orderGuardFiles(m *metamodel.Model) (Files, error) {
	f := jen.NewFile("ent")
	f.HeaderComment(generatedHeader)
	n := 0
	for _, e := range m.Entities {
		if !orderable(e) || len(m.Restrictable(e)) == 0 {
			continue
		}
		n++
		typ := e.Name + "OrderField"
		f.Commentf("UnmarshalGQLContext decodes a sort key of %s and checks that the reader may sort by it.", e.Name)
		f.Func().Params(jen.Id("f").Op("*").Id(typ)).Id("UnmarshalGQLContext").
			Params(jen.Id("ctx").Qual(pkgContext, "Context"), jen.Id("v").Any()).Error().Block(
			jen.If(jen.Err().Op(":=").Id("f").Dot("UnmarshalGQL").Call(jen.Id("v")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			jen.Return(jen.Qual(pkgEnforce, "SortContext").Call(jen.Id("ctx"), jen.Lit(e.Name), jen.Id("f").Dot("column"))),
		)
		f.Commentf("MarshalGQLContext writes a sort key of %s (gqlgen needs both context methods to use them).", e.Name)
		f.Func().Params(jen.Id("f").Id(typ)).Id("MarshalGQLContext").
			Params(jen.Id("_").Qual(pkgContext, "Context"), jen.Id("w").Qual("io", "Writer")).Error().Block(
			jen.Id("f").Dot("MarshalGQL").Call(jen.Id("w")),
			jen.Return(jen.Nil()),
		)
	}
	if n == 0 {
		return Files{}, nil
	}
	src, err := render(f)
	if err != nil {
		return nil, err
	}
	return Files{"ent/crm_order.go": src}, nil
}
