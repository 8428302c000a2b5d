// Package app is the shell of every generated application: flags, database, migration, data loading,
// the HTTP server (GraphQL, GraphiQL, health) and graceful shutdown. The generated main hands it the
// embedded model and the typed backend; everything else is shared code, driven by the model.
package app

import (
	"context"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/admin"
	"github.com/crmgen/crmgen/platform/attach"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/graphiql"
	"github.com/crmgen/crmgen/platform/process"
	"github.com/crmgen/crmgen/platform/seed"
	"github.com/crmgen/crmgen/platform/workflow"
)

// Generated is what a generated main provides.
type Generated struct {
	Model []byte                           // the resolved model, as metamodel.Marshal wrote it
	Open  func(drv dialect.Driver) Backend // builds the typed backend over a database driver
	// Migrations are the app's versioned migrations, migrations/<dialect>/ (see PlatformConfig).
	Migrations fs.FS
}

// Backend is the typed half of an application, generated from the model.
type Backend interface {
	Migrate(ctx context.Context) error
	Schema() graphql.ExecutableSchema
	OpenTx(ctx context.Context) (context.Context, driver.Tx, error)
	Close() error
	process.Backend
	seed.Writer
}

// public answers the paths served without a session: health, signing in, the GraphiQL page (it holds no
// data; its requests need a session like any other) and the GraphQL endpoint, whose guard refuses
// everything but the login mutation without one. A multipart GraphQL request (uploadFile's files) is not
// public: its files are read to the end before the guard sees its operation.
func public(r *http.Request) bool {
	switch p := r.URL.Path; {
	case p == "/graphql":
		return !multipart(r)
	case p == "/healthz", p == "/auth/login", p == "/graphiql", strings.HasPrefix(p, "/graphiql/"):
		return true
	}
	return admin.Public(r)
}

// Main runs the application with command-line args and returns the process exit code.
func Main(args []string, g Generated) int {
	return run(args, g, os.Stdout, os.Stderr)
}

type options struct {
	db, addr, logFormat string
	seed, secureCookies bool
	delivery            delivery
	timerInterval       time.Duration
	instance            string
	// What one request may cost, and whom to believe about where it comes from.
	maxGraphQLBody, maxFormBody byteSize
	maxGraphQLFields            int
	metricsAddr                 string
	pprofAddr                   string
	pool                        database.Pool
	direct                      bool
	trustedProxies              string
	files                       string
	filesKeep                   time.Duration
	countLimit                  int
	s3                          s3Options
}

// envFlags are the flags that an environment variable sets when the command line does not.
var envFlags = map[string]string{
	"max-graphql-body":   "CRM_MAX_GRAPHQL_BODY",
	"max-form-body":      "CRM_MAX_FORM_BODY",
	"max-graphql-fields": "CRM_MAX_GRAPHQL_FIELDS",
	"metrics-addr":       "CRM_METRICS_ADDR",
	"trusted-proxy":      "CRM_TRUSTED_PROXIES",
	"files":              "CRM_FILES",
	"files-keep":         "CRM_FILES_KEEP",
	"count-limit":        "CRM_COUNT_LIMIT",
	"s3-endpoint":        "CRM_S3_ENDPOINT",
	"s3-bucket":          "CRM_S3_BUCKET",
	"s3-region":          "CRM_S3_REGION",
}

func run(args []string, g Generated, stdout, stderr io.Writer) int {
	m, err := metamodel.Unmarshal(g.Model)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if len(args) > 0 && args[0] == "migrate" {
		return migrateCommand(args[1:], m, g, stdout, stderr)
	}
	fs := flag.NewFlagSet(m.App.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.db, "db", m.App.Name+".db", "database: a SQLite file path, or a postgres:// URL")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.BoolVar(&o.seed, "seed", true, "load the model's demo data into an empty database")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&o.secureCookies, "secure-cookies", false, "mark cookies Secure on every request (without it, on requests that came over HTTPS)")
	o.maxGraphQLBody, o.maxFormBody = defaultMaxGraphQLBody, defaultMaxFormBody
	fs.Var(&o.maxGraphQLBody, "max-graphql-body", "largest GraphQL request body, such as 1MiB; larger ones get 413 (env CRM_MAX_GRAPHQL_BODY)")
	fs.Var(&o.maxFormBody, "max-form-body", "largest body of any other request (the admin's forms), such as 4MiB (env CRM_MAX_FORM_BODY)")
	fs.IntVar(&o.countLimit, "count-limit", admin.DefaultCountLimit, "how many records the screens count exactly (a list's total, the home page's cards); more are shown as more than that, without reading them all (env CRM_COUNT_LIMIT)")
	fs.IntVar(&o.maxGraphQLFields, "max-graphql-fields", defaultMaxFields, "most fields one GraphQL request may select, aliases and fragment spreads counted (env CRM_MAX_GRAPHQL_FIELDS)")
	fs.IntVar(&o.pool.MaxOpen, "db-max-open", envInt("CRM_DB_MAX_OPEN", 0), "most database connections open at once (default 10 on Postgres, 8 on SQLite; env CRM_DB_MAX_OPEN)")
	fs.IntVar(&o.pool.MaxIdle, "db-max-idle", envInt("CRM_DB_MAX_IDLE", 0), "database connections kept open while idle (default: all of them; env CRM_DB_MAX_IDLE)")
	fs.BoolVar(&o.direct, "graphql-direct", true, "answer lists of records with one SQL statement whose rows are written as their JSON (Postgres), or write them straight from the loaded rows, when every selected field allows (platform/gqlwrite); false leaves them to gqlgen's field-by-field execution")
	fs.StringVar(&o.pprofAddr, "pprof", env("CRM_PPROF", ""), "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; off by default, keep it private (env CRM_PPROF)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "also serve /metrics, without sign-in, on this address (a private network for Prometheus); on the main port only superusers see it (env CRM_METRICS_ADDR)")
	fs.StringVar(&o.trustedProxies, "trusted-proxy", "", "reverse proxies to believe, as IP addresses or CIDR prefixes separated by commas: their X-Forwarded-For names the client (for throttling) and X-Forwarded-Proto: https makes cookies Secure (env CRM_TRUSTED_PROXIES)")
	fs.DurationVar(&o.timerInterval, "timer-interval", envDuration("CRM_TIMER_INTERVAL", 15*time.Second), "how often workflow timers are checked; 0 turns them off (env CRM_TIMER_INTERVAL)")
	fs.StringVar(&o.instance, "instance", env("CRM_INSTANCE", defaultInstance()), "this instance's name, for timers claimed by instances sharing a database (env CRM_INSTANCE)")
	fs.StringVar(&o.files, "files", "", "directory of the uploaded files of file and image fields, kept by their SHA-256 (default: files next to a SQLite database, ./files with Postgres; env CRM_FILES)")
	fs.DurationVar(&o.filesKeep, "files-keep", 24*time.Hour, "how long a stored file that no record refers to (an upload never saved, a file replaced or removed, one of a record deleted for good) is kept before it is removed; 0 keeps every file (env CRM_FILES_KEEP)")
	o.s3.flags(fs)
	o.delivery.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [flags]\n       %s migrate [--db URL] [--dry-run]\n\nServes the %s CRM: GraphQL at /graphql, GraphiQL at /graphiql.\n\nFlags:\n", m.App.Name, m.App.Name, m.App.Name)
		fs.PrintDefaults()
	}
	for name, variable := range envFlags {
		if v, ok := os.LookupEnv(variable); ok {
			if err := fs.Set(name, v); err != nil {
				fmt.Fprintf(stderr, "%s=%q: %v\n", variable, v, err)
				return 2
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.s3.endpoint != "" && o.s3.bucket == "" {
		fmt.Fprintln(stderr, "--s3-endpoint needs --s3-bucket (env CRM_S3_BUCKET)")
		return 2
	}
	if o.maxGraphQLFields <= 0 {
		fmt.Fprintln(stderr, "--max-graphql-fields: want a positive number")
		return 2
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if o.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(withRequestIDs(h))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, m, g, o, log, stdout); err != nil {
		log.Error("stopped", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, m *metamodel.Model, g Generated, o options, log *slog.Logger, stdout io.Writer) error {
	db, err := database.Open(o.db, database.Config{Pool: o.pool, Zone: m.App.Location()})
	if err != nil {
		return err
	}
	defer db.Close()
	proxies, err := auth.ParseTrustedProxies(o.trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	dispatcher, err := o.delivery.dispatcher(db.SQL, db.Dialect)
	if err != nil {
		return err
	}
	start := time.Now()
	files := fileStore(o)
	p, err := NewPlatform(ctx, m, db, g.Open, PlatformConfig{
		Auth:       auth.Config{SecureCookies: o.secureCookies, TrustedProxies: proxies},
		Dispatcher: dispatcher, Channels: o.delivery.channels(), Log: log, Migrations: g.Migrations, Files: files,
	})
	if err != nil {
		return err
	}
	rt, b, sessions, engine := p.Runtime, p.Backend, p.Sessions, p.Engine
	log.Info("database ready", "dialect", db.Dialect, "took", time.Since(start).Round(time.Millisecond))
	if o.seed {
		n, err := p.Seed(ctx)
		if err != nil {
			return fmt.Errorf("load data: %w", err)
		}
		if n > 0 {
			log.Info("loaded demo data", "records", n)
		}
	}

	views := &admin.ViewStore{DB: db.SQL, Dialect: db.Dialect}
	if err := views.Migrate(ctx); err != nil {
		return err
	}
	prefs := &admin.PreferenceStore{DB: db.SQL, Dialect: db.Dialect}
	if err := prefs.Migrate(ctx); err != nil {
		return err
	}
	imports := &admin.JobStore{DB: db.SQL, Dialect: db.Dialect}
	if err := imports.Migrate(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	gql := graphqlHandler(rt, b, db, o.maxGraphQLFields, o.direct)
	mux.Handle("/graphql", gql)
	screens := admin.Config{Model: m, GraphQL: gql, Sessions: sessions, Log: log, MaxGraphQLFields: o.maxGraphQLFields, CountLimit: o.countLimit, Views: views, Preferences: prefs,
		Jobs: imports, Files: files,
		Overdue: func(ctx context.Context) ([]workflow.Timer, error) {
			return workflow.Overdue(ctx, db.SQL, db.Dialect, time.Now())
		}}
	if db.Dialect == dialect.Postgres { // on SQLite a transaction held for a long import would stop every other writer
		screens.HoldTx = HoldTx(b)
	}
	mux.Handle("/", admin.Handler(screens))
	mux.Handle("/auth/login", sessions.LoginHandler())
	mux.Handle("/auth/logout", sessions.LogoutHandler())
	gi := graphiql.Handler("/graphql")
	mux.Handle("/graphiql", gi)
	mux.Handle("/graphiql/", gi)
	mux.Handle("/metrics", superusersOnly(m, metricsHandler(db.SQL)))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.SQL.PingContext(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           withLogging(log, withUploads(uploadBody(m), apiUploadBody(m), limitBodies(int64(o.maxGraphQLBody), int64(o.maxFormBody), sessions.Middleware(mux, public)))),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context {
			return withLogger(p.Context(context.Background()), log)
		},
	}
	var metricsSrv *http.Server
	if o.metricsAddr != "" {
		mln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		metricsSrv = &http.Server{Handler: metricsOnly(db.SQL), ReadHeaderTimeout: 10 * time.Second}
		go metricsSrv.Serve(mln)
		log.Info("serving metrics", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	if o.pprofAddr != "" {
		pln, err := net.Listen("tcp", o.pprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--pprof: %w", err)
		}
		go (&http.Server{Handler: profiler(), ReadHeaderTimeout: 10 * time.Second}).Serve(pln)
		log.Info("serving the profiler", "url", "http://"+pln.Addr().String()+"/debug/pprof/")
	}
	url := "http://" + ln.Addr().String()
	log.Info("listening", "url", url, "graphql", url+"/graphql", "graphiql", url+"/graphiql")
	fmt.Fprintf(stdout, "%s is ready at %s (GraphQL %s/graphql, GraphiQL %s/graphiql)\n", m.App.Name, url, url, url)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	jobs, stopJobs := context.WithCancel(p.Context(context.Background()))
	defer stopJobs()
	if sw, ok := files.(attach.Sweepable); ok && o.filesKeep > 0 && uploadBody(m) > 0 {
		go sweepFiles(jobs, sw, db.SQL, m, o.filesKeep, log)
	}
	if o.timerInterval > 0 {
		go engine.RunTimers(withLogger(jobs, log), o.instance, o.timerInterval)
	} else {
		log.Warn("workflow timers are off (-timer-interval 0)")
	}
	if dispatcher != nil {
		go dispatcher.Run(jobs, o.delivery.interval)
		log.Info("delivering notifications", "channels", o.delivery.channels())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if metricsSrv != nil {
		metricsSrv.Shutdown(shutdown)
	}
	err = srv.Shutdown(shutdown)
	if ierr := imports.Interrupt(shutdown); ierr != nil {
		log.Error("mark the running imports interrupted", "err", ierr)
	}
	return err
}
