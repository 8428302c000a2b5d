// Command crmgen turns a CRM model (YAML) into a running application. See README.md.
package main

import (
	"os"

	"github.com/crmgen/crmgen/cmd/crmgen/cli"
)

func main() { os.Exit(cli.Do(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
