package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen"
	"github.com/crmgen/crmgen/generator"
	"github.com/crmgen/crmgen/metamodel"
)

func newGenerate() *cobra.Command {
	var out string
	var check, dev, allow bool
	cmd := &cobra.Command{
		Use:   "generate <model>",
		Short: "Write the application for a model (ent schemas, GraphQL API, main)",
		Long: `generate validates the model and writes the application into the output directory: ent
schemas and client, the GraphQL schema and resolvers, main.go and the embedded model. Only files whose
content changed are rewritten, and files an earlier generation wrote that the model no longer produces are
removed; a second run on an unchanged model rewrites nothing. Each step is printed with its duration.

The app's go.mod requires crmgen at this binary's version, so the directory can be moved, committed and
built on any machine that reaches a Go module proxy. With --dev it instead replaces crmgen with the checkout
this binary was built from: the app then builds against those sources, and only on this machine.`,
		Example: `  crmgen generate examples/b2b-sales -o ./b2b-sales
  crmgen generate mymodel --check        # exit 1 if the generated app is out of date
  go run ./cmd/crmgen generate --dev examples/hospital   # inside the crmgen repository`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModelTimed(args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if out == "" {
				out = m.App.Name
			}
			src, err := devSources(dev)
			if err != nil {
				return err
			}
			_, err = generateApp(cmd.Context(), m, args[0], out, src, check, allow, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output directory (default: ./<app name>)")
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 1 if the output directory is not up to date")
	devFlag(cmd, &dev)
	destructiveFlag(cmd, &allow)
	return cmd
}

// devFlag adds --dev to a command that generates an app.
func devFlag(cmd *cobra.Command, dev *bool) {
	cmd.Flags().BoolVar(dev, "dev", false, "build the app against the crmgen checkout this binary was built from (a go.mod replace with its absolute path), not a released crmgen module")
}

// devSources returns the crmgen checkout that --dev ties an app to, or "" without --dev.
func devSources(dev bool) (string, error) {
	if !dev {
		return "", nil
	}
	dir := crmgen.SourceDir()
	if dir == "" {
		return "", usageError{errors.New("--dev needs the crmgen sources this binary was built from, and they are not on this machine")}
	}
	return dir, nil
}

func loadModelTimed(path string, stdout, stderr io.Writer) (*metamodel.Model, error) {
	start := time.Now()
	m, err := loadModel(path, stderr)
	if err != nil {
		return nil, err
	}
	printStep(stdout, "load and validate model", time.Since(start))
	return m, nil
}

func printStep(w io.Writer, name string, d time.Duration) {
	fmt.Fprintf(w, "  %-52s %8s\n", name, d.Round(time.Millisecond))
}

// generateApp generates m into dir and writes what changed. It returns whether anything was written.
// src is the checkout the app builds against (--dev), or "" for the released module.
func generateApp(ctx context.Context, m *metamodel.Model, modelPath, dir, src string, check, allowDestructive bool, stdout, stderr io.Writer) (bool, error) {
	if err := refuseDestructive(m, modelPath, dir, allowDestructive || check, stderr); err != nil {
		return false, err
	}
	if err := generator.Supported(m); err != nil {
		var list metamodel.ErrorList
		if errors.As(err, &list) {
			printDiagnostics(stderr, modelBase(modelPath), list)
			return false, exitError{1}
		}
		return false, err
	}
	prev := readManifest(dir)
	ext, extBase, err := currentExtend(modelPath, dir)
	if err != nil {
		return false, err
	}
	res, err := generator.Generate(ctx, m, generator.Options{
		Extend:       ext,
		Previous:     prev,
		ReadPrevious: func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))) },
		Step:         func(name string, d time.Duration) { printStep(stdout, name, d) },
		CrmgenDir:    src,
	})
	if err != nil {
		var list metamodel.ErrorList
		if errors.As(err, &list) {
			printDiagnostics(stderr, extBase, list)
			fmt.Fprintf(stderr, "%d error(s) in %s\n", countErrors(list), filepath.Join(extBase, generator.ExtendDir))
			return false, exitError{1}
		}
		return false, err
	}
	for _, mig := range res.Migrations {
		if mig.File != "" && !check {
			fmt.Fprintf(stdout, "  new migration %s (%d statement(s)): review it before it runs on a database with data\n", mig.File, len(mig.Statements))
		}
	}
	start := time.Now()
	starter, err := extendSource(modelPath, res.Starter)
	if err != nil {
		return false, err
	}
	plan := planWrite(dir, res.Files, prev)
	plan.start(starter)
	if check {
		if plan.changes() > 0 {
			fmt.Fprintf(stdout, "%s is out of date: %d file(s) would be written, %d removed\n", dir, len(plan.write), len(plan.remove))
			return false, exitError{1}
		}
		fmt.Fprintf(stdout, "%s is up to date\n", dir)
		return false, nil
	}
	if err := plan.apply(); err != nil {
		return false, err
	}
	printStep(stdout, fmt.Sprintf("write %d file(s), %d unchanged, %d removed", len(plan.write), plan.unchanged, len(plan.remove)), time.Since(start))
	return plan.changes() > 0, nil
}

func readManifest(dir string) *generator.Manifest {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(generator.ManifestPath)))
	if err != nil {
		return nil
	}
	man, err := generator.ReadManifest(b)
	if err != nil {
		return nil
	}
	return man
}
