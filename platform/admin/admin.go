// Package admin serves the server-rendered admin screens of a generated application. It reads and
// writes records only through the application's own GraphQL endpoint, executed in process with the
// signed-in user's context, so every screen shows exactly what the API would show that user.
package admin

import (
	"log/slog"
	"net/http"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// Config is what the admin screens need from the application shell.
type Config struct {
	Model    *metamodel.Model
	GraphQL  http.Handler  // the /graphql endpoint, guarded as for API clients
	Sessions *auth.Service // sign-in and sign-out
	Log      *slog.Logger
}

// Handler returns the admin screens, mounted at "/".
func Handler(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/graphiql", http.StatusSeeOther)
	})
}

// Public reports whether r is for an admin path served without a session (the sign-in page and the
// static assets).
func Public(r *http.Request) bool { return false }
