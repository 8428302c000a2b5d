package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The GraphQL of an extend/ package is checked by validate (the model's extend/) and generate (the app's
// extend/ once it has one, which is what the app builds with), each problem at its file:line:col under
// the directory it was read from, with exit 1 and nothing written.
func TestExtendSchemaErrors(t *testing.T) {
	model := t.TempDir()
	writeFiles(t, model, map[string]string{
		"model.yaml":            validModel,
		"extend/extend.go":      "package extend\n",
		"extend/schema.graphql": "extend type Query {\n  dueToday(first: ): Int!\n}\n",
	})
	r := run(t, 1, "validate", model)
	if want := filepath.Join(model, "extend", "schema.graphql") + ":2:19: GraphQL syntax: Expected Name, found )\n"; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("validate: stderr %q, want it to start with %q", r.stderr, want)
	}
	r = run(t, 1, "generate", model, "-o", filepath.Join(t.TempDir(), "new"))
	if want := filepath.Join(model, "extend", "schema.graphql") + ":2:19: GraphQL syntax:"; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("generate of a new app: stderr %q, want it to start with %q", r.stderr, want)
	}

	// The app's own extend/ declares a field its Go code lacks; the model's extend/ is not the app's.
	app := t.TempDir()
	writeFiles(t, app, map[string]string{
		"extend/extend.go":    "package extend\n",
		"extend/more.graphql": "# the team's\nextend type Mutation {\n  closeAll: Int!\n}\n",
	})
	r = run(t, 1, "generate", model, "-o", app)
	if want := filepath.Join(app, "extend", "more.graphql") + ":3:3: Mutation.closeAll: the extend package has no function CloseAll"; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("generate of an app with extend/: stderr %q, want it to start with %q", r.stderr, want)
	}
	if _, err := os.Stat(filepath.Join(app, "main.go")); !os.IsNotExist(err) {
		t.Errorf("generate wrote the app despite the error (main.go: %v)", err)
	}
}
