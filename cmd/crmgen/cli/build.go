package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newBuild() *cobra.Command {
	var bin, dir string
	var dev, allow bool
	cmd := &cobra.Command{
		Use:   "build <model>",
		Short: "Build the application as one static binary that runs anywhere",
		Long: `build generates the application (into a temporary directory, removed afterwards, unless --dir
names one) and compiles it into one static binary: no cgo, so no C library is needed where it runs, and
the model, screens, styles and scripts embedded. Copy the binary to a server and start it; all it writes
is its database (--db, default <app name>.db in the working directory).`,
		Example: `  crmgen build examples/hospital -o /srv/hospital/hospital
  crmgen build mycrm --dir ./mycrm-app   # keep the generated sources`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			stdout := cmd.OutOrStdout()
			m, err := loadModelTimed(args[0], stdout, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			src, err := devSources(dev)
			if err != nil {
				return err
			}
			if bin == "" {
				bin = m.App.Name
			}
			if bin, err = filepath.Abs(bin); err != nil {
				return err
			}
			if dir == "" {
				if dir, err = os.MkdirTemp("", "crmgen-build-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
			}
			if _, err := generateApp(cmd.Context(), m, args[0], dir, src, false, allow, stdout, cmd.ErrOrStderr()); err != nil {
				return err
			}
			if err := buildApp(cmd.Context(), dir, bin, src, true, stdout, cmd.ErrOrStderr()); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s\nnext: %s --db %s.db\n", bin, bin, m.App.Name)
			return nil
		},
	}
	cmd.Flags().StringVarP(&bin, "out", "o", "", "the binary to write (default: ./<app name>)")
	cmd.Flags().StringVar(&dir, "dir", "", "generate the application's sources here and keep them (default: a temporary directory)")
	devFlag(cmd, &dev)
	destructiveFlag(cmd, &allow)
	return cmd
}
