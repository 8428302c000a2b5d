package generator

import (
	"github.com/dave/jennifer/jen"

	"github.com/crmgen/crmgen/metamodel"
)

// The list resolvers first offer a list to platform/gqlwrite, which answers it with one SQL statement
// that writes its JSON where it can (Postgres, fields it renders); this file emits that call and the
// method behind it.

// compiledName is the method of the query resolver that answers e's list with one SQL statement.
func compiledName(e *metamodel.Entity) string { return e.QueryField() + "Compiled" }

// compiledCall is the first statement of e's list resolver: the list compiled to one SQL statement,
// when platform/gqlwrite can compile it (its answer, or its error, is the list's).
func compiledCall(e *metamodel.Entity, searchable bool) jen.Code {
	args := []jen.Code{jen.Id("ctx"), jen.Id("after"), jen.Id("first"), jen.Id("before"), jen.Id("last")}
	if orderable(e) {
		args = append(args, jen.Id("orderBy"))
	}
	args = append(args, jen.Id("where"))
	if searchable {
		args = append(args, jen.Id("search"))
	}
	return jen.If(jen.List(jen.Id("conn"), jen.Err()).Op(":=").Id("r").Dot(compiledName(e)).Call(args...),
		jen.Id("conn").Op("!=").Nil().Op("||").Err().Op("!=").Nil()).Block(jen.Return(jen.Id("conn"), jen.Err()))
}

// compiledResolver emits compiledName(e): e's list, for the same arguments, answered by one SQL
// statement that writes its JSON (gqlwrite.List) with the list's search and where predicates; nil when
// gqlwrite leaves the list to Paginate (not Postgres, cursors, a field it does not render).
func compiledResolver(f *jen.File, e *metamodel.Entity, entPkg string, params []jen.Code, searchable bool) {
	n := e.Name
	selector := jen.Func().Params(jen.Op("*").Qual("entgo.io/ent/dialect/sql", "Selector"))
	body := []jen.Code{
		jen.If(jen.Op("!").Qual(pkgGQLWrite, "Compiles").Call(jen.Id("ctx"))).Block(jen.Return(jen.Nil(), jen.Nil())),
		jen.Var().Id("preds").Index().Add(selector),
	}
	if searchable {
		body = append(body, jen.If(jen.Id("search").Op("!=").Nil()).Block(
			jen.If(jen.Id("p").Op(":=").Id("search"+n).Call(jen.Id("ctx"), jen.Op("*").Id("search")), jen.Id("p").Op("!=").Nil()).Block(
				jen.Id("preds").Op("=").Append(jen.Id("preds"), jen.Id("p")))))
	}
	body = append(body,
		jen.If(jen.Id("where").Op("!=").Nil()).Block(
			jen.List(jen.Id("p"), jen.Err()).Op(":=").Id("where").Dot("P").Call(),
			jen.Switch().Block(
				jen.Case(jen.Qual("errors", "Is").Call(jen.Err(), jen.Qual(entPkg, "ErrEmpty"+n+"WhereInput"))),
				jen.Case(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				jen.Default().Block(jen.Id("preds").Op("=").Append(jen.Id("preds"), jen.Id("p"))),
			)),
		jen.Id("page").Op(":=").Qual(pkgGQLWrite, "Page").Values(jen.Dict{
			jen.Id("First"):   jen.Id("first"),
			jen.Id("Cursors"): jen.Id("after").Op("!=").Nil().Op("||").Id("before").Op("!=").Nil().Op("||").Id("last").Op("!=").Nil(),
		}),
	)
	if orderable(e) {
		body = append(body, jen.For(jen.List(jen.Id("_"), jen.Id("o")).Op(":=").Range().Id("orderBy")).Block(
			jen.Id("page").Dot("Order").Op("=").Append(jen.Id("page").Dot("Order"), jen.Qual(pkgGQLWrite, "Order").Values(jen.Dict{
				jen.Id("Field"): jen.Id("o").Dot("Field").Dot("String").Call(),
				jen.Id("Desc"):  jen.Id("o").Dot("Direction").Op("==").Qual(pkgEntGQL, "OrderDirectionDesc"),
			}))))
	}
	body = append(body,
		jen.Id("conn").Op(":=").Op("&").Qual(entPkg, n+"Connection").Values(),
		jen.If(jen.List(jen.Id("ok"), jen.Err()).Op(":=").Qual(pkgGQLWrite, "List").Call(jen.Id("ctx"), jen.Id("conn"), jen.Lit(n),
			jen.Id("page"), jen.Id("preds").Op("...")), jen.Op("!").Id("ok").Op("||").Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("conn"), jen.Nil()),
	)
	f.Commentf("%s answers %s with one SQL statement that writes its JSON, where platform/gqlwrite can (gqlwrite.List),", compiledName(e), e.QueryField())
	f.Comment("and returns nil when it leaves the list to Paginate.")
	f.Func().Params(jen.Id("r").Op("*").Id("queryResolver")).Id(compiledName(e)).Params(params...).
		Params(jen.Op("*").Qual(entPkg, n+"Connection"), jen.Error()).Block(body...)
}
