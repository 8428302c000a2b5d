// Package templates holds the text/template sources of the generated files that are not Go ASTs
// (go.mod, gqlgen.yml, main.go), embedded so the crmgen binary is self-contained. Each file under app/
// is one template named by its base name; the comment at its top names the data it expects.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

//go:embed app/*.tmpl
var appFS embed.FS

// EntEnforce holds the templates crmgen adds to ent's code generation (ent/enforce.tmpl): the context of
// every query in its SQL selector, guarded field predicates and reader-scoped relation filters, all
// decided by platform/enforce when the query is built.
//
//go:embed ent/enforce.tmpl
var EntEnforce string

// Starter is the model `crmgen init` writes: starter/model.yaml, a template over {"Name": app name}.
//
//go:embed starter/model.yaml
var Starter string

var app = template.Must(template.New("").ParseFS(appFS, "app/*.tmpl"))

// Render executes the template name (e.g. "go.mod" for app/go.mod.tmpl) with data.
func Render(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := app.ExecuteTemplate(&buf, name+".tmpl", data); err != nil {
		return nil, fmt.Errorf("render template %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
