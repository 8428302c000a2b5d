package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen/metamodel/diagram"
)

func newGraph() *cobra.Command {
	var out, locale string
	cmd := &cobra.Command{
		Use:   "graph <model>",
		Short: "Draw the model as Mermaid diagrams: entities and relations, and each workflow",
		Long: `graph validates a model and writes Markdown with Mermaid diagrams: an entity-relationship diagram
(entities, fields with their types, relations with their cardinality: belongsTo, one-to-one, trees,
manyToMany) and a state diagram per workflow (states, final states, transitions with the roles that may
run them, timers). GitHub, GitLab and most Markdown viewers render the diagrams; the admin screens of a
generated app show the same ones to superusers. Labels are in --locale (default: app.defaultLocale).`,
		Example: `  crmgen graph examples/hospital
  crmgen graph examples/b2b-sales -o diagrams.md --locale en`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModel(args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if locale == "" {
				locale = m.App.DefaultLocale
			}
			md := diagram.Markdown(diagram.All(m, locale))
			if out == "" {
				_, err := fmt.Fprint(cmd.OutOrStdout(), md)
				return err
			}
			return os.WriteFile(out, []byte(md), 0o644)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the Markdown to this file instead of standard output")
	cmd.Flags().StringVar(&locale, "locale", "", "the locale of labels (default: the model's defaultLocale)")
	return cmd
}
