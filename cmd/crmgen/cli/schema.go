package cli

import (
	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen/metamodel"
)

func newSchema() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of model files, for editor completion and checks",
		Long: `schema prints the JSON Schema (draft 2020-12) of one model file: every section and key the loader
accepts, the kind of value each holds, the allowed words (field types, relation kinds, scopes, charts, …)
and a description of each. Save it next to a model and start each model file with the modeline

  # yaml-language-server: $schema=crmgen.schema.json

so that VS Code (with the YAML extension) and JetBrains IDEs complete and check the file as it is typed.
The schema checks each file alone; crmgen validate checks the whole model.`,
		Example: `  crmgen schema > mycrm/crmgen.schema.json`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(metamodel.JSONSchema())
			return err
		},
	}
}
