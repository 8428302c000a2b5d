package generator

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"path"
	"sort"
	"strconv"
	"strings"

	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	gqlparser "github.com/vektah/gqlparser/v2/parser"

	"github.com/crmgen/crmgen/metamodel"
)

// The app's extend/ package may add fields to the GraphQL API: its *.graphql (or *.graphqls) files hold
// `extend type Query { … }` and `extend type Mutation { … }`, and for each field the package has an
// exported function of the name gqlgen gives the field's resolver (followUpsDueToday →
// FollowUpsDueToday) with that resolver's signature. The files are the team's, like the rest of extend/:
// generation reads them from the app (or, for a new app, from where its extend/ starts) and never writes
// them; it adds them to gqlgen's schema and emits graph/extend.go, whose resolvers call those functions.
//
// The fields run where every generated field runs: behind the same request guards, with the caller's
// principal in ctx (ent's interceptors filter what they read), and a mutation in the operation's one
// transaction (entgql.Transactioner), so an error rolls back everything it wrote. The function finds the
// ent client of the request (the transaction's, in a mutation) with ent.FromContext(ctx).

// extendSchema is the GraphQL that the app's extend/ package adds.
type extendSchema struct {
	// files are the *.graphql files, by path relative to the app (extend/schema.graphql).
	files Files
	// fields are the fields the files add to Query and Mutation, in the order of their files and lines.
	fields []extendField
}

// extendField is a field that extend/*.graphql adds to Query or Mutation.
type extendField struct {
	Type string // Query or Mutation
	Name string // the GraphQL name
	Pos  metamodel.Pos
}

// Func is the name of the extend package's function (and of gqlgen's resolver method) for the field.
func (f extendField) Func() string { return goName(f.Name) }

// isExtendSchema reports whether path (relative to the app) is a GraphQL file of the extend package:
// directly in extend/, named *.graphql or *.graphqls.
func isExtendSchema(p string) bool {
	dir, name := path.Split(p)
	return dir == ExtendDir+"/" && (strings.HasSuffix(name, ".graphql") || strings.HasSuffix(name, ".graphqls"))
}

// loadExtendSchema parses the GraphQL files of ext, the app's extend/ package, and checks what they may
// declare: fields added to Query and Mutation, each with a function of the package. Every problem is an
// error of the returned metamodel.ErrorList, at its file:line:col.
func loadExtendSchema(ext Files) (*extendSchema, error) {
	s := &extendSchema{files: Files{}}
	var errs metamodel.ErrorList
	at := func(file string, line, col int, format string, args ...any) {
		errs = append(errs, &metamodel.Error{Pos: metamodel.Pos{File: file, Line: line, Col: col}, Msg: fmt.Sprintf(format, args...)})
	}
	for _, p := range ext.Paths() {
		if !isExtendSchema(p) {
			continue
		}
		s.files[p] = ext[p]
		doc, err := gqlparser.ParseSchema(&gqlast.Source{Name: p, Input: string(ext[p])})
		if err != nil {
			var gerr *gqlerror.Error
			if errors.As(err, &gerr) && len(gerr.Locations) > 0 {
				at(p, gerr.Locations[0].Line, gerr.Locations[0].Column, "GraphQL syntax: %s", gerr.Message)
			} else {
				at(p, 0, 0, "GraphQL syntax: %v", err)
			}
			continue
		}
		for _, d := range doc.Definitions {
			at(p, d.Position.Line, d.Position.Column, "%s %q: extend/ may only add fields to Query and Mutation (extend type Query { … }), whose types are scalars and the model's entities and enums",
				strings.ToLower(string(d.Kind)), d.Name)
		}
		for _, d := range doc.Schema {
			at(p, d.Position.Line, d.Position.Column, "schema: extend/ may only add fields to Query and Mutation")
		}
		for _, d := range doc.SchemaExtension {
			at(p, d.Position.Line, d.Position.Column, "extend schema: extend/ may only add fields to Query and Mutation")
		}
		for _, d := range doc.Directives {
			at(p, d.Position.Line, d.Position.Column, "directive @%s: extend/ may only add fields to Query and Mutation", d.Name)
		}
		for _, d := range doc.Extensions {
			if d.Kind != gqlast.Object || (d.Name != "Query" && d.Name != "Mutation") {
				at(p, d.Position.Line, d.Position.Column, "extend %s %s: extend/ may only add fields to Query and Mutation", strings.ToLower(string(d.Kind)), d.Name)
				continue
			}
			for _, f := range d.Fields {
				s.fields = append(s.fields, extendField{Type: d.Name, Name: f.Name,
					Pos: metamodel.Pos{File: p, Line: f.Position.Line, Col: f.Position.Column}})
			}
		}
	}
	// Query and Mutation fields share the package's namespace of functions.
	seen := map[string]extendField{}
	for _, f := range s.fields {
		if prev, ok := seen[f.Func()]; ok {
			at(f.Pos.File, f.Pos.Line, f.Pos.Col, "%s.%s: its function %s is already that of %s.%s (%s:%d)",
				f.Type, f.Name, f.Func(), prev.Type, prev.Name, prev.Pos.File, prev.Pos.Line)
			continue
		}
		seen[f.Func()] = f
	}
	if errs == nil {
		errs = s.checkFuncs(ext)
	}
	if errs != nil {
		return nil, errs
	}
	return s, nil
}

// checkFuncs reports each field whose function the extend package's Go files do not declare, at the
// field. Files that do not parse are left to the compiler, which says more about them.
func (s *extendSchema) checkFuncs(ext Files) metamodel.ErrorList {
	if len(s.fields) == 0 {
		return nil
	}
	declared := map[string]bool{}
	fset := token.NewFileSet()
	for _, p := range ext.Paths() {
		dir, name := path.Split(p)
		if dir != ExtendDir+"/" || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, ext[p], parser.SkipObjectResolution)
		if err != nil {
			return nil
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					declared[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if v, ok := spec.(*ast.ValueSpec); ok {
						for _, n := range v.Names {
							declared[n.Name] = true
						}
					}
				}
			}
		}
	}
	var errs metamodel.ErrorList
	for _, f := range s.fields {
		if !declared[f.Func()] {
			errs = append(errs, &metamodel.Error{Pos: f.Pos, Msg: fmt.Sprintf(
				"%s.%s: the extend package has no function %s (it resolves the field, with the signature of gqlgen's %sResolver.%s)",
				f.Type, f.Name, f.Func(), f.Type, f.Func())})
		}
	}
	return errs
}

// CheckExtend checks the GraphQL files of an extend package (ext: paths relative to the app, such as
// extend/schema.graphql, with their contents) and returns a metamodel.ErrorList of their problems, each
// at its file:line:col, or nil. It needs no model: `crmgen validate` checks a model's extend/ with it.
func CheckExtend(ext Files) error {
	_, err := loadExtendSchema(ext)
	return err
}

// extendResolvers emits graph/extend.go: for each field of s, a method of gqlgen's resolver with the
// signature gqlgen declared in the executor (generated, graph/generated.go), which calls the extend
// package's function with the request's ent client in ctx.
func extendResolvers(s *extendSchema, generated []byte, module string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "graph/generated.go", generated, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("read gqlgen's resolver interfaces: %w", err)
	}
	methods := map[string]map[string]*ast.Field{} // QueryResolver → method name → method
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, spec := range g.Specs {
			ts := spec.(*ast.TypeSpec)
			it, ok := ts.Type.(*ast.InterfaceType)
			if !ok || (ts.Name.Name != "QueryResolver" && ts.Name.Name != "MutationResolver") {
				continue
			}
			methods[ts.Name.Name] = map[string]*ast.Field{}
			for _, m := range it.Methods.List {
				if len(m.Names) == 1 {
					methods[ts.Name.Name][m.Names[0].Name] = m
				}
			}
		}
	}
	imports := map[string]string{} // package name in generated.go → import path
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		name := path.Base(p)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imports[name] = p
	}

	used := map[string]bool{"ent": true}
	var body bytes.Buffer
	print := func(n ast.Node) string {
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok {
					used[id.Name] = true
				}
			}
			return true
		})
		var b bytes.Buffer
		_ = printer.Fprint(&b, fset, n)
		return b.String()
	}
	for _, fd := range s.fields {
		m := methods[fd.Type+"Resolver"][fd.Func()]
		if m == nil {
			return nil, fmt.Errorf("%s:%d:%d: gqlgen declared no resolver %sResolver.%s", fd.Pos.File, fd.Pos.Line, fd.Pos.Col, fd.Type, fd.Func())
		}
		ft := m.Type.(*ast.FuncType)
		var params, args []string
		for i, p := range ft.Params.List {
			typ := print(p.Type)
			names := p.Names
			if len(names) == 0 {
				names = []*ast.Ident{ast.NewIdent("_")}
			}
			for _, n := range names {
				name := n.Name
				if i == 0 {
					name = "ctx" // context.Context, always first
				} else if _, clash := imports[name]; clash || name == "r" || name == "_" || name == "extend" {
					name = fmt.Sprintf("arg%d", len(args))
				}
				params = append(params, name+" "+typ)
				if i > 0 {
					args = append(args, name)
				}
			}
		}
		var results []string
		for _, r := range ft.Results.List {
			results = append(results, print(r.Type))
		}
		recv := metamodel.LowerFirst(fd.Type) + "Resolver"
		fmt.Fprintf(&body, "\n// %s resolves %s.%s (%s:%d) with the extend package's %s.\n", fd.Func(), fd.Type, fd.Name, fd.Pos.File, fd.Pos.Line, fd.Func())
		fmt.Fprintf(&body, "func (r *%s) %s(%s) (%s) {\n", recv, fd.Func(), strings.Join(params, ", "), strings.Join(results, ", "))
		fmt.Fprintf(&body, "\treturn extend.%s(%s)\n}\n", fd.Func(), strings.Join(append([]string{"ent.NewContext(ctx, r.ent(ctx))"}, args...), ", "))
	}

	var src bytes.Buffer
	src.WriteString("// " + generatedHeader + "\n\n")
	src.WriteString("package graph\n\nimport (\n")
	var names []string
	for n := range used {
		if imports[n] != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if path.Base(imports[n]) == n {
			fmt.Fprintf(&src, "\t%q\n", imports[n])
		} else {
			fmt.Fprintf(&src, "\t%s %q\n", n, imports[n])
		}
	}
	fmt.Fprintf(&src, "\t%q\n)\n", module+"/"+ExtendDir)
	src.Write(body.Bytes())
	return gofmt("graph/extend.go", src.Bytes())
}
