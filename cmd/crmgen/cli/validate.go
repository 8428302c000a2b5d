package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen/generator"
	"github.com/crmgen/crmgen/metamodel"
)

func newValidate() *cobra.Command {
	return &cobra.Command{
		Use:   "validate <model>",
		Short: "Check a model and print every error and warning with its position",
		Long: `validate loads every *.yaml file of a model directory (or one file), checks names, types,
references, permissions, workflows and expressions, and the GraphQL files of the model's extend/
package (fields they add to the API, each with its function), and prints each problem as
file:line:col: message. It exits 1 if there is any error (warnings alone do not fail).`,
		Example: `  crmgen validate examples/hospital
  crmgen validate model.yaml`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModel(args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := checkExtend(args[0], cmd.ErrOrStderr()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid model %q: %d entities, %d enums, %d roles, %d workflows\n",
				args[0], m.App.Name, len(m.Entities), len(m.Enums), len(m.Roles), len(m.Workflows))
			return nil
		},
	}
}

// checkExtend checks the GraphQL files of the model's extend/ package (see generator.CheckExtend),
// printing their problems to w; exitError{1} if there are any.
func checkExtend(path string, w io.Writer) error {
	ext, err := readExtend(path) // a model of one file has no extend/
	if err != nil {
		return err
	}
	err = generator.CheckExtend(ext)
	var list metamodel.ErrorList
	if errors.As(err, &list) {
		printDiagnostics(w, path, list)
		fmt.Fprintf(w, "%d error(s) in %s\n", countErrors(list), filepath.Join(path, generator.ExtendDir))
		return exitError{1}
	}
	return err
}

// loadModel loads and builds the model at path, printing its warnings and errors (with paths as the user
// gave them) to w. An invalid model returns exitError{1} after printing.
func loadModel(path string, w io.Writer) (*metamodel.Model, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	m, err := metamodel.Load(path)
	if m != nil {
		// Build validates what Load decoded even after Load's errors and reports both, so one run
		// shows every problem.
		m, err = metamodel.Build(m)
	}
	base := modelBase(path)
	if m != nil {
		printDiagnostics(w, base, m.Warnings)
	}
	if err != nil {
		var list metamodel.ErrorList
		if errors.As(err, &list) {
			printDiagnostics(w, base, list)
			fmt.Fprintf(w, "%d error(s) in %s\n", countErrors(list), path)
			return nil, exitError{1}
		}
		return nil, err
	}
	return m, nil
}

// modelBase is the directory that positions in a model's errors are relative to.
func modelBase(path string) string {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return filepath.Dir(path)
	}
	return path
}

func countErrors(list metamodel.ErrorList) int {
	n := 0
	for _, e := range list {
		if !e.Warning {
			n++
		}
	}
	return n
}

// printDiagnostics prints errors as file:line:col: message with the file joined to base, so editors and
// terminals can jump to it.
func printDiagnostics(w io.Writer, base string, list metamodel.ErrorList) {
	for _, e := range list {
		d := *e
		if d.Pos.File != "" {
			d.Pos.File = filepath.Join(base, d.Pos.File)
		}
		fmt.Fprintln(w, d.Error())
	}
}
