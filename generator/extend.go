package generator

import (
	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/templates"
)

// ExtendDir is the app's user-owned package of custom code (hooks registered with platform/extension),
// relative to the app's root. The generated main imports it; generation writes it only when the app has
// none (Result.Starter), and never lists it in the manifest, so regenerating leaves it alone.
const ExtendDir = "extend"

// starterFiles is the extend package of an app that has none: one file whose comments show how to
// register a hook, on the model's first entity.
func starterFiles(m *metamodel.Model) (Files, error) {
	entity := "Customer"
	if len(m.Entities) > 0 {
		entity = m.Entities[0].Name
		for _, e := range m.Entities {
			if !e.Builtin {
				entity = e.Name
				break
			}
		}
	}
	src, err := templates.Render("extend.go", map[string]any{"Name": m.App.Name, "Entity": entity})
	if err != nil {
		return nil, err
	}
	b, err := gofmt(ExtendDir+"/extend.go", src)
	if err != nil {
		return nil, err
	}
	return Files{ExtendDir + "/extend.go": b}, nil
}
