package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen/generator"
	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/app"
	"github.com/crmgen/crmgen/platform/database"
)

func newDiff() *cobra.Command {
	var out, dsn string
	cmd := &cobra.Command{
		Use:   "diff <model>",
		Short: "Say what a model change does to an app's data, before generating it",
		Long: `diff compares the model with the one the app in the output directory was generated from (its
backend/model.json) and prints, with positions in the model, every entity, field and relation added,
renamed (renamedFrom), dropped, or changed in type, length, required or enum values. Changes that lose or
reject data that exists are marked destructive: crmgen generate and crmgen run refuse them unless given
--allow-destructive.

When the app has versioned migrations (migrations/), diff then generates the app in memory, writing
nothing, and prints the SQL of the migration crmgen generate would add, for SQLite and for Postgres.
With --db it first lists the app's migrations that database has not had yet, with their SQL: what the
app's next start would run there, before the new one.`,
		Example: `  crmgen diff examples/hospital -o .build/hospital
  crmgen diff examples/hospital -o .build/hospital --db 'postgres://crm:secret@db:5432/crm'`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModel(args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if out == "" {
				out = m.App.Name
			}
			prev, err := previousModel(out)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if prev == nil {
				fmt.Fprintf(w, "no app has been generated in %s yet: every entity is new\n", out)
				return nil
			}
			changes := metamodel.Compare(prev, m)
			destructive := 0
			for _, c := range changes {
				printChange(w, modelBase(args[0]), c)
				if c.Destructive {
					destructive++
				}
			}
			fmt.Fprintf(w, "%d change(s) from the model %s was generated from, %d destructive\n", len(changes), out, destructive)
			if dsn != "" {
				if err := printPending(cmd.Context(), w, out, dsn); err != nil {
					return err
				}
			}
			if len(changes) == 0 {
				return nil
			}
			return printMigrationSQL(cmd.Context(), w, m, out)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "the generated app's directory (default: ./<app name>)")
	cmd.Flags().StringVar(&dsn, "db", "", "also list the app's migrations this database (a SQLite file or postgres:// URL) has not had, with their SQL")
	return cmd
}

// printPending prints the migrations of the app in dir that the database at dsn has not had, with their
// SQL. It only reads the database.
func printPending(ctx context.Context, w io.Writer, dir, dsn string) error {
	db, err := database.Open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := app.AppliedMigrations(ctx, db.SQL, db.Dialect)
	if err != nil {
		return fmt.Errorf("read the migrations the database has had: %w", err)
	}
	had := map[string]bool{}
	for _, f := range applied {
		had[f] = true
	}
	sub := filepath.Join(dir, filepath.FromSlash(generator.MigrationDir(db.Dialect)))
	entries, err := os.ReadDir(sub)
	if err != nil {
		return fmt.Errorf("the app in %s has no migrations for this database", dir)
	}
	fmt.Fprintf(w, "\nthe database has had %d of the app's migrations", len(applied))
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") || had[e.Name()] {
			continue
		}
		b, err := os.ReadFile(filepath.Join(sub, e.Name()))
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintln(w, "; the app's next start there runs:")
		}
		n++
		fmt.Fprintf(w, "\n%s:\n%s", filepath.Join(sub, e.Name()), b)
	}
	if n == 0 {
		fmt.Fprintln(w, ", every one it has")
	}
	return nil
}

// printMigrationSQL prints the statements of the migrations that generating m over the app in dir would
// add, per dialect. An app generated before migrations gets its first with its next generation: the
// whole schema, which diff does not print.
func printMigrationSQL(ctx context.Context, w io.Writer, m *metamodel.Model, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(generator.MigrationsDir))); err != nil {
		fmt.Fprintf(w, "the app in %s has no migrations yet: its next generation writes the first, which creates the whole schema\n", dir)
		return nil
	}
	// The app's extend/*.graphql are inputs of its generation: without them nothing would be reused.
	ext, err := readExtend(dir)
	if err != nil {
		return err
	}
	res, err := generator.Generate(ctx, m, generator.Options{
		Previous:     readManifest(dir),
		ReadPrevious: func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))) },
		Extend:       ext,
	})
	if err != nil {
		return err
	}
	for _, mig := range res.Migrations {
		name := map[string]string{"sqlite3": "SQLite", "postgres": "Postgres"}[mig.Dialect]
		if mig.File == "" {
			fmt.Fprintf(w, "\n%s: no change to the schema\n", name)
			continue
		}
		fmt.Fprintf(w, "\n%s (%s):\n", name, mig.File)
		for _, s := range mig.Statements {
			fmt.Fprintf(w, "  %s;\n", s)
		}
	}
	return nil
}

// previousModel reads the model an app directory was generated from, or nil when there is none.
func previousModel(dir string) (*metamodel.Model, error) {
	b, err := os.ReadFile(filepath.Join(dir, "backend", "model.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := metamodel.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("the model %s was generated from: %w", dir, err)
	}
	return m, nil
}

func printChange(w io.Writer, base string, c metamodel.Change) {
	if c.Pos.Line > 0 {
		p := c.Pos
		p.File = filepath.Join(base, p.File)
		fmt.Fprintf(w, "%s: ", p)
	}
	fmt.Fprintln(w, c)
}

// refuseDestructive refuses to regenerate the app in dir when the model changes its data destructively
// (metamodel.Compare), unless allowed: it prints each destructive change at its position.
func refuseDestructive(m *metamodel.Model, modelPath, dir string, allow bool, stderr io.Writer) error {
	prev, err := previousModel(dir)
	if err != nil || prev == nil || allow {
		return err
	}
	var bad []metamodel.Change
	for _, c := range metamodel.Compare(prev, m) {
		if c.Destructive {
			bad = append(bad, c)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	for _, c := range bad {
		printChange(stderr, modelBase(modelPath), c)
	}
	fmt.Fprintf(stderr, "%d destructive change(s) to the data of the app in %s: nothing written. Keep data with renamedFrom, or run again with --allow-destructive.\n", len(bad), dir)
	return exitError{1}
}

// destructiveFlag adds --allow-destructive to a command that regenerates an app.
func destructiveFlag(cmd *cobra.Command, allow *bool) {
	cmd.Flags().BoolVar(allow, "allow-destructive", false, "regenerate even when the model drops or narrows what the app's data holds (see crmgen diff)")
}
