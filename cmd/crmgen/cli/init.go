package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/templates"
)

var appName = regexp.MustCompile(`[^a-z0-9-]+`)

func newInit() *cobra.Command {
	return &cobra.Command{
		Use:   "init <dir>",
		Short: "Write a small, valid starter model into a new directory",
		Long: `init creates dir with model.yaml: two entities, an enum, a relation and demo data. The app name
is derived from the directory name. init refuses to overwrite an existing model.yaml. It also writes
crmgen.schema.json, the JSON Schema of the model format that model.yaml's first line points editors to.`,
		Example: `  crmgen init mycrm && crmgen run mycrm`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			path := filepath.Join(dir, "model.yaml")
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("%s already exists; choose another directory", path)
			}
			name := strings.Trim(appName.ReplaceAllString(strings.ToLower(filepath.Base(dir)), "-"), "-")
			if name == "" || name[0] < 'a' || name[0] > 'z' {
				name = "crm"
			}
			var b strings.Builder
			if err := template.Must(template.New("starter").Parse(templates.Starter)).Execute(&b, map[string]string{"Name": name}); err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, metamodel.SchemaFile), metamodel.JSONSchema(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nnext: crmgen validate %s && crmgen run %s\n", path, dir, dir)
			return nil
		},
	}
}
