// Package cli implements the crmgen command line. Do runs it in-process, which is how the tests drive it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries an exit code through cobra without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Do runs crmgen with args and returns the exit code: 0 success, 1 failure (including an invalid model),
// 2 usage error.
func Do(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "crmgen:", err)
	if isUsage(err) {
		return 2
	}
	return 1
}

type usageError struct{ error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command")
}

// usageArgs marks argument-count errors as usage errors (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "crmgen",
		Short: "Generate a working CRM application from a YAML model",
		Long: `crmgen is a model-driven CRM generator. A solution architect describes entities, relations,
enums, roles, workflows and reports in YAML; crmgen validates the model and generates an application
(ent + GraphQL + admin screens) that runs on embedded SQLite or on Postgres.`,
		Example: `  crmgen init mycrm                      # a starter model to edit
  crmgen validate mycrm                  # every error, with file:line:col
  crmgen generate mycrm -o ./app         # write the application
  crmgen run examples/hospital           # generate, build, start with demo data
  crmgen build mycrm -o ./mycrm-server   # one static binary to copy to a server`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newValidate(), newGenerate(), newRun(), newBuild(), newInit(), newVersion(), newSchema(), newGraph(), newDiff())
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  source <(crmgen completion bash)             # this shell
  crmgen completion bash > /etc/bash_completion.d/crmgen
  crmgen completion zsh > "${fpath[1]}/_crmgen"`
		}
	}
	return root
}
