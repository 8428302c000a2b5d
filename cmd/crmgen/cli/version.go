package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen"
	"github.com/crmgen/crmgen/generator"
)

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print crmgen's version and the versions of the stack it generates for",
		Example: "  crmgen version",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "crmgen %s (output format %s, %s)\n", moduleVersion(), generator.Version, runtime.Version())
			if fromCheckout() {
				fmt.Fprintf(w, "  built from a checkout: apps generated without --dev require crmgen %s from a module proxy\n", moduleVersion())
			}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					switch d.Path {
					case "entgo.io/ent", "entgo.io/contrib", "github.com/99designs/gqlgen", "github.com/vektah/gqlparser/v2":
						fmt.Fprintf(w, "  %s %s\n", d.Path, d.Version)
					}
				}
			}
			return nil
		},
	}
}

// moduleVersion is the crmgen version generated apps require (crmgen.ModuleVersion).
func moduleVersion() string {
	v, _ := crmgen.ModuleVersion()
	return v
}

// fromCheckout reports whether this binary was built from a checkout rather than installed as a module.
func fromCheckout() bool {
	bi, ok := debug.ReadBuildInfo()
	return !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)"
}
