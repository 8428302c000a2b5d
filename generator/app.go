package generator

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"entgo.io/ent/entc/gen"
	"github.com/dave/jennifer/jen"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/crmgen/crmgen"
	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/templates"
)

const (
	pkgApp     = "github.com/crmgen/crmgen/platform/app"
	pkgProcess = "github.com/crmgen/crmgen/platform/process"
)

// ent's own naming functions, so generated calls match the methods entc generates.
var (
	entPascal   = gen.Funcs["pascal"].(func(string) string)
	entSingular = gen.Funcs["singular"].(func(string) string)
)

type goModRequire struct {
	Path, Version string
	Indirect      bool
}

type goModData struct {
	// Crmgen is the version of crmgen the app requires; Replace, when set, is the checkout that stands in
	// for it (--dev).
	Module, Go, Crmgen, Replace string
	Require                     []goModRequire
}

// appFiles emits the application shell: go.mod and go.sum (crmgen's own requirements, so the app builds
// with exactly the versions crmgen was tested with), main.go, the embedded model and the typed backend.
// The go.mod requires crmgen at the version of the running binary and names no path of this machine, so
// the app can be moved, committed and built elsewhere; only --dev (Options.CrmgenDir) ties it to a checkout.
func appFiles(m *metamodel.Model, opts Options) (Files, error) {
	mod := opts.module(m)
	files := Files{}

	gm, err := modfile.Parse("go.mod", crmgen.GoMod, nil)
	if err != nil {
		return nil, fmt.Errorf("read crmgen's go.mod: %w", err)
	}
	data := goModData{Module: mod, Go: gm.Go.Version}
	for _, r := range gm.Require {
		data.Require = append(data.Require, goModRequire{Path: r.Mod.Path, Version: r.Mod.Version, Indirect: true})
	}
	data.Crmgen, _ = crmgen.ModuleVersion()
	if opts.CrmgenDir != "" {
		abs, err := filepath.Abs(opts.CrmgenDir)
		if err != nil {
			return nil, err
		}
		data.Replace = filepath.ToSlash(abs)
	}
	if files["go.mod"], err = templates.Render("go.mod", data); err != nil {
		return nil, err
	}
	if files["go.sum"], err = goSum(data.Replace == ""); err != nil {
		return nil, err
	}

	mainSrc, err := templates.Render("main.go", map[string]any{"Module": mod, "Name": m.App.Name})
	if err != nil {
		return nil, err
	}
	if files["main.go"], err = gofmt("main.go", mainSrc); err != nil {
		return nil, err
	}

	js, err := metamodel.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	files["backend/model.json"] = append(js, '\n')

	src, err := render(backend(m, mod))
	if err != nil {
		return nil, fmt.Errorf("emit backend: %w", err)
	}
	files["backend/backend.go"] = src
	return files, nil
}

// goSum is crmgen's go.sum, plus, for an app that requires crmgen from a proxy, the sums of crmgen itself:
// the hash of its go.mod, which this binary embeds, and that of its module zip when the binary knows it
// (installed with go install …@version). With both, go build needs no -mod=mod and no checksum database.
func goSum(required bool) ([]byte, error) {
	if !required {
		return crmgen.GoSum, nil
	}
	version, zipSum := crmgen.ModuleVersion()
	modSum, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(crmgen.GoMod)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash crmgen's go.mod: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(crmgen.GoSum), "\n"), "\n")
	lines = append(lines, fmt.Sprintf("%s %s/go.mod %s", crmgen.ModulePath, version, modSum))
	if zipSum != "" {
		lines = append(lines, fmt.Sprintf("%s %s %s", crmgen.ModulePath, version, zipSum))
	}
	sort.Strings(lines)
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

// backend emits backend.go: the typed half of app.Backend — migration, the GraphQL schema, transactions,
// and the generic record writer the platform uses to load data (it converts the platform's plain values
// into ent's typed setters, which only generated code can name).
func backend(m *metamodel.Model, mod string) *jen.File {
	entPkg := mod + "/ent"
	f := jen.NewFile("backend")
	f.HeaderComment(generatedHeader)
	f.PackageComment("Package backend is the typed half of the application that the platform drives: the embedded model, and\n" +
		"the ent client and GraphQL schema generated from it. The app's main serves it; tests of the platform\n" +
		"open it directly (internal/fixture).")
	f.Anon("embed")
	ctx := jen.Id("ctx").Qual(pkgContext, "Context")

	f.Comment("Model is the resolved model, as metamodel.Marshal wrote it.")
	f.Comment("")
	f.Comment("//go:embed model.json")
	f.Var().Id("Model").Index().Byte()

	f.Comment("Open builds the application's backend over a database driver.")
	f.Func().Id("Open").Params(jen.Id("drv").Qual(pkgDialect, "Driver")).Qual(pkgApp, "Backend").Block(
		jen.Return(jen.Op("&").Id("backend").Values(jen.Dict{
			jen.Id("client"): jen.Qual(entPkg, "NewClient").Call(jen.Qual(entPkg, "Driver").Call(jen.Id("drv"))),
		})),
	)
	f.Comment("backend implements app.Backend over the generated ent client.")
	f.Type().Id("backend").Struct(jen.Id("client").Op("*").Qual(entPkg, "Client"))

	recv := jen.Id("b").Op("*").Id("backend")
	f.Comment("Migrate creates or updates the database schema.")
	f.Func().Params(recv.Clone()).Id("Migrate").Params(ctx.Clone()).Error().Block(
		jen.Return(jen.Id("b").Dot("client").Dot("Schema").Dot("Create").Call(jen.Id("ctx"))),
	)
	f.Comment("Schema returns the executable GraphQL schema.")
	f.Func().Params(recv.Clone()).Id("Schema").Params().Qual(pkgGraphQL, "ExecutableSchema").Block(
		jen.Return(jen.Qual(mod+"/graph", "NewSchema").Call(jen.Id("b").Dot("client"))),
	)
	f.Comment("OpenTx starts a transaction and returns a context carrying its client.")
	f.Func().Params(recv.Clone()).Id("OpenTx").Params(ctx.Clone()).Params(jen.Qual(pkgContext, "Context"), jen.Qual("database/sql/driver", "Tx"), jen.Error()).Block(
		jen.Return(jen.Id("b").Dot("client").Dot("OpenTx").Call(jen.Id("ctx"))),
	)
	f.Comment("Close closes the database.")
	f.Func().Params(recv.Clone()).Id("Close").Params().Error().Block(
		jen.Return(jen.Id("b").Dot("client").Dot("Close").Call()),
	)
	f.Comment("client returns the client of the context's transaction, if any, else the root client.")
	f.Func().Params(recv.Clone()).Id("ent").Params(ctx.Clone()).Op("*").Qual(entPkg, "Client").Block(
		jen.If(jen.Id("c").Op(":=").Qual(entPkg, "FromContext").Call(jen.Id("ctx")), jen.Id("c").Op("!=").Nil()).Block(jen.Return(jen.Id("c"))),
		jen.Return(jen.Id("b").Dot("client")),
	)

	// Count.
	var countCases []jen.Code
	for _, e := range m.Entities {
		countCases = append(countCases, jen.Case(jen.Lit(e.Name)).Block(
			jen.Return(jen.Id("b").Dot("ent").Call(jen.Id("ctx")).Dot(e.Name).Dot("Query").Call().Dot("Count").Call(jen.Id("ctx"))),
		))
	}
	countCases = append(countCases, jen.Default().Block(
		jen.Return(jen.Lit(0), jen.Qual("fmt", "Errorf").Call(jen.Lit("unknown entity %q"), jen.Id("entity"))),
	))
	f.Comment("Count returns the number of records of entity the context may see.")
	f.Func().Params(recv.Clone()).Id("Count").Params(ctx.Clone(), jen.Id("entity").String()).Params(jen.Int(), jen.Error()).Block(
		jen.Switch(jen.Id("entity")).Block(countCases...),
	)

	f.Comment("Mutate executes a generic mutation with the client of ctx (the platform rewrites soft deletes).")
	f.Func().Params(recv.Clone()).Id("Mutate").Params(ctx.Clone(), jen.Id("m").Qual(pkgEnt, "Mutation")).Params(jen.Qual(pkgEnt, "Value"), jen.Error()).Block(
		jen.Return(jen.Id("b").Dot("ent").Call(jen.Id("ctx")).Dot("Mutate").Call(jen.Id("ctx"), jen.Id("m"))),
	)

	f.Comment("WhereP adds storage-level predicates to a query of any entity.")
	f.Func().Params(recv.Clone()).Id("WhereP").Params(jen.Id("q").Qual(pkgEnt, "Query"), jen.Id("ps").Op("...").Func().Params(jen.Op("*").Qual("entgo.io/ent/dialect/sql", "Selector"))).Error().Block(
		jen.List(jen.Id("qq"), jen.Err()).Op(":=").Qual(entPkg+"/intercept", "NewQuery").Call(jen.Id("q")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Id("qq").Dot("WhereP").Call(jen.Id("ps").Op("...")),
		jen.Return(jen.Nil()),
	)

	// Exists.
	var existsCases []jen.Code
	for _, e := range m.Entities {
		existsCases = append(existsCases, jen.Case(jen.Lit(e.Name)).Block(
			jen.Id("q").Op(":=").Id("b").Dot("ent").Call(jen.Id("ctx")).Dot(e.Name).Dot("Query").Call().
				Dot("Where").Call(jen.Qual(entPkg+"/"+e.Package(), "ID").Call(jen.Id("id"))),
			jen.For(jen.List(jen.Id("_"), jen.Id("p")).Op(":=").Range().Id("ps")).Block(
				jen.Id("q").Op("=").Id("q").Dot("Where").Call(jen.Qual(entPkg+"/predicate", e.Name).Call(jen.Id("p"))),
			),
			jen.Return(jen.Id("q").Dot("Exist").Call(jen.Id("ctx"))),
		))
	}
	existsCases = append(existsCases, jen.Default().Block(
		jen.Return(jen.False(), jen.Qual("fmt", "Errorf").Call(jen.Lit("unknown entity %q"), jen.Id("entity"))),
	))
	f.Comment("Exists reports whether a record exists, is visible in ctx (the query interceptors apply) and matches ps.")
	f.Func().Params(recv.Clone()).Id("Exists").Params(ctx.Clone(), jen.Id("entity").String(), jen.Id("id").Int(), jen.Id("ps").Op("...").Func().Params(jen.Op("*").Qual("entgo.io/ent/dialect/sql", "Selector"))).Params(jen.Bool(), jen.Error()).Block(
		jen.Switch(jen.Id("entity")).Block(existsCases...),
	)

	// Get.
	var getCases []jen.Code
	for _, e := range m.Entities {
		getCases = append(getCases, jen.Case(jen.Lit(e.Name)).Block(
			jen.List(jen.Id("row"), jen.Err()).Op(":=").Id("b").Dot("ent").Call(jen.Id("ctx")).Dot(e.Name).Dot("Get").Call(jen.Id("ctx"), jen.Id("id")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("row"), jen.Nil()),
		))
	}
	getCases = append(getCases, jen.Default().Block(
		jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("unknown entity %q"), jen.Id("entity"))),
	))
	f.Comment("Get returns one record (an *ent.<Entity>) as ctx may see it.")
	f.Func().Params(recv.Clone()).Id("Get").Params(ctx.Clone(), jen.Id("entity").String(), jen.Id("id").Int()).Params(jen.Any(), jen.Error()).Block(
		jen.Switch(jen.Id("entity")).Block(getCases...),
	)
	f.Comment("Conn runs SQL in the transaction of ctx, if any: the platform's own tables change with the records.")
	f.Func().Params(recv.Clone()).Id("Conn").Params(ctx.Clone()).Qual(pkgProcess, "Conn").Block(
		jen.Return(jen.Id("b").Dot("ent").Call(jen.Id("ctx"))),
	)

	// Update.
	var updateCases []jen.Code
	for _, e := range m.Entities {
		updateCases = append(updateCases, jen.Case(jen.Lit(e.Name)).Block(
			jen.Id("c").Op(":=").Id("b").Dot("ent").Call(jen.Id("ctx")).Dot(e.Name).Dot("UpdateOneID").Call(jen.Id("id")),
			jen.If(jen.Err().Op(":=").Id("fill").Call(jen.Id("c").Dot("Mutation").Call(), jen.Id("values"), jen.Id("set"+e.Name)), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Err()),
			),
			jen.Return(jen.Id("c").Dot("Exec").Call(jen.Id("ctx"))),
		))
	}
	updateCases = append(updateCases, jen.Default().Block(
		jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("unknown entity %q"), jen.Id("entity"))),
	))
	f.Comment("Update sets values on one record through the ent client; values are keyed as in Create.")
	f.Func().Params(recv.Clone()).Id("Update").Params(ctx.Clone(), jen.Id("entity").String(), jen.Id("id").Int(), jen.Id("values").Map(jen.String()).Any()).Error().Block(
		jen.Switch(jen.Id("entity")).Block(updateCases...),
	)

	// Create.
	var createCases []jen.Code
	for _, e := range m.Entities {
		createCases = append(createCases, jen.Case(jen.Lit(e.Name)).Block(
			jen.Id("c").Op(":=").Id("b").Dot("ent").Call(jen.Id("ctx")).Dot(e.Name).Dot("Create").Call(),
			jen.If(jen.Err().Op(":=").Id("fill").Call(jen.Id("c").Dot("Mutation").Call(), jen.Id("values"), jen.Id("set"+e.Name)), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Lit(0), jen.Err()),
			),
			jen.List(jen.Id("row"), jen.Err()).Op(":=").Id("c").Dot("Save").Call(jen.Id("ctx")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(0), jen.Err())),
			jen.Return(jen.Id("row").Dot("ID"), jen.Nil()),
		))
	}
	createCases = append(createCases, jen.Default().Block(
		jen.Return(jen.Lit(0), jen.Qual("fmt", "Errorf").Call(jen.Lit("unknown entity %q"), jen.Id("entity"))),
	))
	f.Comment("Create inserts a record through the ent client (so every hook and policy applies) and returns its id.")
	f.Comment("values are keyed by model field name, belongsTo relations by their foreign-key name (\"customerID\")")
	f.Comment("with an int, manyToMany relations by relation name with []int.")
	f.Func().Params(recv.Clone()).Id("Create").Params(ctx.Clone(), jen.Id("entity").String(), jen.Id("values").Map(jen.String()).Any()).Params(jen.Int(), jen.Error()).Block(
		jen.Switch(jen.Id("entity")).Block(createCases...),
	)

	f.Comment("fill assigns every value of a map to a mutation with the entity's typed setter.")
	f.Func().Id("fill").Types(jen.Id("M").Any()).Params(jen.Id("m").Id("M"), jen.Id("values").Map(jen.String()).Any(),
		jen.Id("set").Func().Params(jen.Id("M"), jen.String(), jen.Any()).Error()).Error().Block(
		jen.For(jen.List(jen.Id("name"), jen.Id("v")).Op(":=").Range().Id("values")).Block(
			jen.If(jen.Err().Op(":=").Id("set").Call(jen.Id("m"), jen.Id("name"), jen.Id("v")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Err()),
			),
		),
		jen.Return(jen.Nil()),
	)
	for _, e := range m.Entities {
		emitSetter(f, e, entPkg)
	}
	return f
}

// emitSetter emits set<Entity>(m, name, v): the typed assignment of one plain value to a mutation.
func emitSetter(f *jen.File, e *metamodel.Entity, entPkg string) {
	entSub := entPkg + "/" + e.Package()
	var cases []jen.Code
	for _, fd := range e.Fields {
		if virtual(fd) {
			continue
		}
		n := fd.EntName()
		if fd.Type == metamodel.TypeEnum {
			typ := entPascal(n)
			cases = append(cases, jen.Case(jen.Lit(fd.Name)).Block(
				jen.List(jen.Id("s"), jen.Id("ok")).Op(":=").Id("v").Assert(jen.String()),
				jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(e.Name+"."+fd.Name+": want an enum key, got %T"), jen.Id("v")))),
				jen.Return(jen.Id("m").Dot("SetField").Call(jen.Lit(n), jen.Qual(entSub, typ).Call(jen.Id("s")))),
			))
			continue
		}
		cases = append(cases, jen.Case(jen.Lit(fd.Name)).Block(
			jen.Return(jen.Id("m").Dot("SetField").Call(jen.Lit(n), jen.Id("v"))),
		))
	}
	for _, r := range e.Relations {
		switch {
		case r.Kind == metamodel.BelongsTo:
			cases = append(cases, jen.Case(jen.Lit(r.FKField())).Block(
				jen.Return(jen.Id("m").Dot("SetField").Call(jen.Lit(r.FKColumn()), jen.Id("v"))),
			))
		case r.Kind == metamodel.ManyToMany:
			cases = append(cases, jen.Case(jen.Lit(r.Name)).Block(
				jen.List(jen.Id("ids"), jen.Id("ok")).Op(":=").Id("v").Assert(jen.Index().Int()),
				jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(e.Name+"."+r.Name+": want a list of ids, got %T"), jen.Id("v")))),
				jen.Id("m").Dot("Add"+entPascal(entSingular(r.EntName()))+"IDs").Call(jen.Id("ids").Op("...")),
				jen.Return(jen.Nil()),
			))
		}
	}
	cases = append(cases, jen.Default().Block(
		jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(e.Name+": unknown field %q"), jen.Id("name"))),
	))
	// A nil value clears an optional field or relation; a required one keeps ent's own error.
	var clears []jen.Code
	for _, fd := range e.Fields {
		if !virtual(fd) && !fd.Required {
			clears = append(clears, jen.Case(jen.Lit(fd.Name)).Block(jen.Return(jen.Id("m").Dot("ClearField").Call(jen.Lit(fd.EntName())))))
		}
	}
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo && !r.Required {
			clears = append(clears, jen.Case(jen.Lit(r.FKField())).Block(jen.Return(jen.Id("m").Dot("ClearField").Call(jen.Lit(r.FKColumn())))))
		}
	}
	var body []jen.Code
	if len(clears) > 0 {
		body = append(body, jen.If(jen.Id("v").Op("==").Nil()).Block(jen.Switch(jen.Id("name")).Block(clears...)))
	}
	body = append(body, jen.Switch(jen.Id("name")).Block(cases...))
	f.Commentf("set%s assigns one plain value to a %s mutation (nil clears an optional one).", e.Name, e.Name)
	f.Func().Id("set"+e.Name).Params(jen.Id("m").Op("*").Qual(entPkg, e.Name+"Mutation"), jen.Id("name").String(), jen.Id("v").Any()).Error().Block(body...)
}
