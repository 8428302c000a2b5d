package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/crmgen/crmgen"
	"github.com/crmgen/crmgen/metamodel"
)

func newRun() *cobra.Command {
	var out, addr, db string
	var dev, allow bool
	cmd := &cobra.Command{
		Use:   "run <model>",
		Short: "Generate, build and start the application with its demo data",
		Long: `run generates the application (into .build/<app name> unless -o is given), builds it, and
starts it on embedded SQLite — a file in the application's folder — or on the database --db names. An
empty database is migrated and loaded with the model's data. When the server is ready, run prints its URL
and the demo logins; stop it with Ctrl-C. Inside the crmgen repository, --dev builds the app against the
working tree (see crmgen generate --help).`,
		Example: `  crmgen run examples/hospital
  go run ./cmd/crmgen run --dev examples/hospital   # inside the crmgen repository
  crmgen run examples/b2b-sales --addr 127.0.0.1:9090
  crmgen run examples/b2b-sales --db 'postgres://crm:secret@localhost:5432/crm?sslmode=disable'`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			stdout := cmd.OutOrStdout()
			m, err := loadModelTimed(args[0], stdout, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(".build", m.App.Name)
			}
			src, err := devSources(dev)
			if err != nil {
				return err
			}
			if _, err := generateApp(cmd.Context(), m, args[0], out, src, false, allow, stdout, cmd.ErrOrStderr()); err != nil {
				return err
			}
			bin, err := filepath.Abs(filepath.Join(out, m.App.Name))
			if err != nil {
				return err
			}
			if err := buildApp(cmd.Context(), out, bin, src, false, stdout, cmd.ErrOrStderr()); err != nil {
				return err
			}
			if db == "" {
				db = filepath.Join(out, m.App.Name+".db")
			}
			return startApp(cmd.Context(), m, bin, db, addr, stdout, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "application directory (default: .build/<app name>)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address the application listens on")
	cmd.Flags().StringVar(&db, "db", "", "database: SQLite file (default: <app dir>/<app name>.db) or postgres:// URL")
	devFlag(cmd, &dev)
	destructiveFlag(cmd, &allow)
	return cmd
}

// buildApp compiles the generated application in dir into bin. A static build is what crmgen build
// ships: no cgo (the SQLite driver is pure Go), so the binary needs no C library at run time, and
// -trimpath, so it names no directory of the machine that built it. src is the checkout of --dev, if any.
func buildApp(ctx context.Context, dir, bin, src string, static bool, stdout, stderr io.Writer) error {
	start := time.Now()
	args := []string{"build", "-o", bin}
	if static {
		args = append(args, "-trimpath", "-ldflags=-s -w")
	}
	c := exec.CommandContext(ctx, "go", append(args, ".")...)
	c.Dir = dir
	c.Stdout, c.Stderr = stdout, stderr
	if static {
		c.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if err := c.Run(); err != nil {
		return fmt.Errorf("build %s: %w%s", dir, err, devHint(src))
	}
	printStep(stdout, "go build", time.Since(start))
	return nil
}

// devHint explains the likely cause of a failed build of an app that requires crmgen from a module proxy
// when this binary was built from a checkout: its version may not be published, and --dev uses the
// checkout instead.
func devHint(src string) string {
	version, sum := crmgen.ModuleVersion()
	if src != "" || sum != "" || crmgen.SourceDir() == "" {
		return ""
	}
	return fmt.Sprintf(" (the app requires crmgen %s from the module proxy; inside the crmgen repository, --dev builds it against the checkout)", version)
}

// startApp runs the application until ctx ends, prints its URL and demo logins once it is healthy, and
// stops it gracefully.
func startApp(ctx context.Context, m *metamodel.Model, bin, db, addr string, stdout, stderr io.Writer) error {
	c := exec.Command(bin, "--db", db, "--addr", addr)
	c.Stdout, c.Stderr = io.Discard, stderr
	if err := c.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()

	url := "http://" + addr
	ready := false
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && !ready; {
		select {
		case err := <-done:
			return fmt.Errorf("%s exited before it was ready: %v", filepath.Base(bin), err)
		case <-ctx.Done():
			c.Process.Signal(syscall.SIGTERM)
			return <-done
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
	}
	if !ready {
		c.Process.Kill()
		return fmt.Errorf("%s did not become ready at %s", filepath.Base(bin), url)
	}
	fmt.Fprintf(stdout, "\n%s is running at %s\n", m.Localize(m.App.Title, m.App.DefaultLocale, m.App.Name), url)
	fmt.Fprintf(stdout, "  admin     %s/ (sign in with a demo login)\n  GraphQL   %s/graphql\n  GraphiQL  %s/graphiql\n  database  %s\n", url, url, url, db)
	if logins := demoLogins(m); logins != "" {
		fmt.Fprintf(stdout, "Demo logins (username / password):\n%s", logins)
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		c.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			c.Process.Kill()
		}
		return nil
	}
}

// demoLogins lists the users of the model's data with their passwords and roles.
func demoLogins(m *metamodel.Model) string {
	if m.Data == nil {
		return ""
	}
	var b strings.Builder
	for _, u := range m.Data.Users {
		var name, pass string
		var roles []string
		for _, v := range u.Values {
			switch v.Name {
			case "username":
				name, _ = v.Value.(string)
			case "password":
				pass, _ = v.Value.(string)
			case "roles":
				list, _ := v.Value.([]any)
				for _, r := range list {
					roles = append(roles, fmt.Sprint(r))
				}
			}
		}
		fmt.Fprintf(&b, "  %-16s %-16s %s\n", name, pass, strings.Join(roles, ", "))
	}
	return b.String()
}
