// Package admin serves the server-rendered admin screens of a generated application. It reads and
// writes records only through the application's own GraphQL endpoint, executed in process with the
// signed-in user's context, so every screen shows exactly what the API would show that user.
//
// Pages are html/template (templates/admin, embedded), with htmx for partial updates (the list's
// search, filters, sorting and paging; the relation picker's type-ahead) and one small script for the
// picker and kanban drags. Forms are same-origin POSTs answered with redirects; the session middleware's
// cross-origin check guards them, as it guards the API.
package admin

import (
	"context"
	"database/sql/driver"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/workflow"
)

// Config is what the admin screens need from the application shell.
type Config struct {
	Model    *metamodel.Model
	GraphQL  http.Handler  // the /graphql endpoint, guarded as for API clients
	Sessions *auth.Service // sign-in and sign-out
	// Overdue lists the workflow timers that have passed (workflow.Overdue on the app's database), for the
	// home page's overdue queues; nil shows none. The screens ask the API which records a user may see.
	Overdue func(context.Context) ([]workflow.Timer, error)
	Log     *slog.Logger
	// MaxGraphQLFields is the API's bound on the fields of one request (0: the default), which bounds the
	// rows of one create operation: an all-or-nothing import, a batch of a background one.
	MaxGraphQLFields int
	// CountLimit is how many records a list or the home page counts exactly (0: DefaultCountLimit); a
	// larger count is shown as more than it, so that a screen over a million rows does not read them all.
	CountLimit int
	// Views keeps the users' saved list views; nil offers none.
	Views *ViewStore
	// Preferences keeps the users' own settings (their time zone); nil offers no profile page, and every
	// user sees times in the app's zone.
	Preferences *PreferenceStore
	// Jobs keeps the background imports; nil imports a file of more than importBatch rows only all or
	// nothing, within one operation.
	Jobs *JobStore
	// HoldTx opens a transaction that the API operations run with the context it returns join, each in
	// a savepoint (platform/app.HoldTx): an all-or-nothing import of more rows than one operation takes
	// runs as a background job in one. Nil (the app on SQLite, where a long transaction would stop every
	// other user's writes for its length) bounds all or nothing by one operation.
	HoldTx func(context.Context) (context.Context, driver.Tx, error)
	// Files keeps the contents of file and image fields; nil refuses uploads.
	Files attach.Store
}

// server holds the screens' state: the configuration, the parsed templates and the cached schema.
type server struct {
	cfg   Config
	pages *pageSet
	// zone is the app's time zone (app.timezone, else UTC), whatever zone the server runs in: every date
	// the screens show or read is one of it, and every time too for a user who chose no zone of their own
	// (see zones).
	zone *time.Location
	schemaState
}

// Handler returns the admin screens, mounted at "/".
func Handler(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &server{cfg: cfg, pages: loadPages(), zone: cfg.Model.App.Location()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static/{file}", serveStatic)
	mux.HandleFunc("GET /favicon.ico", serveFavicon)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /lang", s.setLanguage)

	signedIn := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.requireUser(h)) }
	signedIn("GET /{$}", s.home)
	signedIn("GET /inbox", s.inbox)
	signedIn("GET /search", s.globalSearch)
	signedIn("GET /profile", s.profile)
	signedIn("POST /profile", s.saveProfile)
	signedIn("GET /diagrams", s.diagrams)
	signedIn("GET /reports/{name}", s.reportPage)
	signedIn("GET /reports/{name}/export.csv", s.reportExport)
	signedIn("POST /inbox/read", s.markRead)
	signedIn("GET /e/{entity}", s.list)
	signedIn("GET /e/{entity}/export.csv", s.export)
	signedIn("POST /e/{entity}/delete", s.bulkDelete)
	signedIn("POST /e/{entity}/bulk/transition", s.bulkTransition)
	signedIn("POST /e/{entity}/bulk/edit", s.bulkEdit)
	signedIn("GET /e/{entity}/options", s.options)
	signedIn("POST /e/{entity}/views", s.saveView)
	signedIn("POST /e/{entity}/views/{view}/delete", s.deleteView)
	signedIn("GET /e/{entity}/import", s.importPage)
	signedIn("POST /e/{entity}/import", s.importFile)
	signedIn("POST /e/{entity}/import/report", s.importReport)
	signedIn("GET /e/{entity}/import/jobs/{job}", s.importJobPage)
	signedIn("POST /e/{entity}/import/jobs/{job}/cancel", s.cancelImportJob)
	signedIn("GET /e/{entity}/import/jobs/{job}/report.csv", s.importJobReport)
	signedIn("GET /e/{entity}/new", s.newForm)
	signedIn("POST /e/{entity}/new", s.create)
	signedIn("GET /e/{entity}/kanban", s.kanban)
	signedIn("GET /e/{entity}/calendar", s.calendar)
	signedIn("GET /e/{entity}/tree", s.tree)
	signedIn("GET /e/{entity}/deleted", s.trash)
	signedIn("POST /e/{entity}/{id}/restore", s.restore)
	signedIn("GET /e/{entity}/{id}", s.detail)
	signedIn("GET /e/{entity}/{id}/edit", s.editForm)
	signedIn("POST /e/{entity}/{id}/edit", s.update)
	signedIn("POST /e/{entity}/{id}/delete", s.deleteOne)
	signedIn("POST /e/{entity}/{id}/transition", s.transition)
	signedIn("POST /e/{entity}/{id}/move", s.move)
	signedIn("GET /files/{entity}/{id}/{field}", s.download)
	signedIn("GET /files/{entity}/{id}/{field}/{sha}", s.download)
	return securityHeaders(mux)
}

// Public reports whether r is for an admin path the session middleware should let through without a
// session: every screen of the admin. The screens themselves send a visitor without a session to the
// sign-in page (rather than the API's 401 JSON), and read data only through GraphQL, which needs one.
// Paths the admin does not serve (/metrics, anything unknown) stay private.
func Public(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/", p == "/login", p == "/logout", p == "/lang", p == "/favicon.ico", p == "/inbox", p == "/inbox/read",
		p == "/diagrams", p == "/search", p == "/profile":
		return true
	case strings.HasPrefix(p, "/static/"), strings.HasPrefix(p, "/e/"), strings.HasPrefix(p, "/reports/"), strings.HasPrefix(p, "/files/"):
		return true
	}
	return false
}

// requireUser sends a request without a signed-in user to the sign-in page, and back here afterwards. A
// signed-in user's request carries their time zone (see zones).
func (s *server) requireUser(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p == nil {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = "/"
			}
			target := "/login?next=" + urlQueryEscape(next)
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", target)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(s.withUserZone(r.Context(), p.ID)))
	})
}

// securityHeaders sets the headers every admin response carries: a content security policy that allows
// only the binary's own scripts and styles (so an injected script could not run even if escaping
// failed), no framing, no MIME sniffing, no referrer leaks.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}
