package generator

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen/config"
	"golang.org/x/mod/modfile"

	"github.com/crmgen/crmgen"
	"github.com/crmgen/crmgen/metamodel"
	crmtemplates "github.com/crmgen/crmgen/templates"
)

// codegenMu serializes entc and gqlgen: both resolve paths against the process's working directory,
// which derive changes for the duration of a run.
var codegenMu sync.Mutex

// derive runs entc (with the entgql extension) and gqlgen over the emitted sources in a scratch module and
// returns the files they produced.
func derive(ctx context.Context, m *metamodel.Model, module string, inputs Files, ext *extendSchema, step func(string, time.Duration)) (Files, []*schema.Table, error) {
	scratch, err := os.MkdirTemp("", "crmgen-gen-")
	if err != nil {
		return nil, nil, fmt.Errorf("scratch dir: %w", err)
	}
	defer os.RemoveAll(scratch)
	written := Files{}
	written.add(inputs)
	written.add(ext.files)
	for p, b := range written {
		if p == "go.mod" {
			if b, err = scratchGoMod(b); err != nil {
				return nil, nil, err
			}
		}
		full := filepath.Join(scratch, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return nil, nil, err
		}
	}

	codegenMu.Lock()
	defer codegenMu.Unlock()
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	if err := os.Chdir(scratch); err != nil {
		return nil, nil, err
	}
	defer os.Chdir(wd)

	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	tables, err := runEntc(m, module)
	if err != nil {
		return nil, nil, fmt.Errorf("run entc: %w", err)
	}
	step("entc + entgql (ent client, GraphQL schema)", time.Since(start))

	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	start = time.Now()
	defer gqlgenLoads(".")()
	cfg, err := config.LoadConfig("gqlgen.yml")
	if err != nil {
		return nil, nil, fmt.Errorf("run gqlgen: load config: %w", err)
	}
	// gqlgen logs a line for every resolver it binds; the generator reports its own steps instead.
	logOut := log.Writer()
	log.SetOutput(io.Discard)
	err = api.Generate(cfg)
	log.SetOutput(logOut)
	if err != nil {
		return nil, nil, fmt.Errorf("run gqlgen: %w", err)
	}
	step("gqlgen (GraphQL executor)", time.Since(start))

	out := Files{}
	err = filepath.WalkDir(scratch, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, scratch+string(filepath.Separator)))
		if _, ok := written[rel]; ok {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[rel] = b
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("collect generated files: %w", err)
	}
	if src, ok := out["ent/gql_collection.go"]; ok {
		if out["ent/gql_collection.go"], err = patchCollection(src); err != nil {
			return nil, nil, err
		}
	}
	if src, ok := out["ent/gql_pagination.go"]; ok {
		if out["ent/gql_pagination.go"], err = patchPagination(src); err != nil {
			return nil, nil, err
		}
	}
	if src, ok := out["graph/generated.go"]; ok {
		if len(ext.fields) > 0 {
			if out["graph/extend.go"], err = extendResolvers(ext, src, module); err != nil {
				return nil, nil, err
			}
		}
		if out["graph/generated.go"], err = patchExecutor(src); err != nil {
			return nil, nil, err
		}
	}
	return out, tables, nil
}

// scratchGoMod points the scratch module at the crmgen sources this binary was built from, when they are
// on this machine and the app's go.mod does not already: entc and gqlgen load the platform's packages, and
// a checkout must not need its own version published before it can generate. The app's go.mod, which
// the scratch copy does not return, keeps requiring the module version.
func scratchGoMod(b []byte) ([]byte, error) {
	dir := crmgen.SourceDir()
	if dir == "" {
		return b, nil
	}
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		return nil, fmt.Errorf("read generated go.mod: %w", err)
	}
	if len(f.Replace) > 0 {
		return b, nil
	}
	if err := f.AddReplace(crmgen.ModulePath, "", dir, ""); err != nil {
		return nil, err
	}
	return f.Format()
}

// runEntc generates the ent client with the features the platform relies on: privacy and interceptors
// (the enforcement point), entql (generic filters), global ids (node lookups), and entgql's GraphQL schema
// with where-inputs.
func runEntc(m *metamodel.Model, module string) ([]*schema.Table, error) {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithWhereInputs(true),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaPath("graph/ent.graphqls"),
		entgql.WithSchemaHook(nullableHidden(m)),
	)
	if err != nil {
		return nil, err
	}
	// The tables ent's migration would create: the base of the app's versioned migrations.
	var tables []*schema.Table
	keepTables := func(next gen.Generator) gen.Generator {
		return gen.GenerateFunc(func(g *gen.Graph) error {
			if err := next.Generate(g); err != nil {
				return err
			}
			var err error
			tables, err = g.Tables()
			return err
		})
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Hooks:   []gen.Hook{keepTables},
		Target:  "./ent",
		Package: module + "/ent",
		Header:  "// Code generated by ent (via crmgen). DO NOT EDIT.",
		// Every read decision on the values that reach the database: see templates/ent/enforce.tmpl.
		Templates: []*gen.Template{gen.MustParse(gen.NewTemplate("crmenforce").Parse(crmtemplates.EntEnforce))},
		Features: []gen.Feature{
			gen.FeatureGlobalID,
			gen.FeaturePrivacy,
			gen.FeatureIntercept,
			gen.FeatureEntQL,
			gen.FeatureLock,
			gen.FeatureExecQuery,
		},
	}, entc.Extensions(ex))
	return tables, err
}
