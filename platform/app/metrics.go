package app

import (
	"database/sql"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
	"github.com/crmgen/crmgen/platform/gqlwrite"
)

// Metrics are served in two places. On the main port, /metrics is for superusers only: counters of
// traffic and memory tell an outsider about the service and its load. With --metrics-addr they are also
// served on an address of their own without sign-in, for a Prometheus server on a private network;
// nothing else is served there.

// requests counts HTTP requests served (health checks excluded).
var requests atomic.Int64

// metricsHandler serves counters in the Prometheus text exposition format: traffic, statements (every
// statement the app sends, the sign-in lookups included), the connection pool of db, and memory.
func metricsHandler(db *sql.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		pool := db.Stats()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		metric := func(name, kind, help string, v any) {
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, kind, name, v)
		}
		metric("crm_sql_statements_total", "counter", "SQL statements sent to the database.", database.Statements.Load())
		metric("crm_http_requests_total", "counter", "HTTP requests served.", requests.Load())
		metric("crm_db_connections_open", "gauge", "Open database connections (in use and idle).", pool.OpenConnections)
		metric("crm_db_connections_in_use", "gauge", "Database connections in use.", pool.InUse)
		metric("crm_db_connections_idle", "gauge", "Idle database connections.", pool.Idle)
		metric("crm_db_connections_max_open", "gauge", "The pool's limit of open connections.", pool.MaxOpenConnections)
		metric("crm_db_waits_total", "counter", "Times a request waited for a free database connection.", pool.WaitCount)
		metric("crm_db_wait_seconds_total", "counter", "Time requests waited for a free database connection.", pool.WaitDuration.Seconds())
		metric("crm_db_connections_closed_total", "counter", "Connections the pool closed (idle limit, idle time, lifetime): each later need opens a new one.",
			pool.MaxIdleClosed+pool.MaxIdleTimeClosed+pool.MaxLifetimeClosed)
		metric("crm_graphql_direct_lists_total", "counter", "Lists of records written straight from the loaded rows (platform/gqlwrite).", gqlwrite.Written.Load())
		metric("crm_graphql_compiled_lists_total", "counter", "Lists of records answered by one SQL statement that writes their JSON (platform/gqlwrite, Postgres).", gqlwrite.Compiled.Load())
		metric("crm_graphql_gqlgen_lists_total", "counter", "Lists of records left to gqlgen's field-by-field execution.", gqlwrite.Declined.Load())
		metric("go_goroutines", "gauge", "Number of goroutines.", runtime.NumGoroutine())
		metric("go_memstats_heap_alloc_bytes", "gauge", "Heap bytes allocated.", ms.HeapAlloc)
	}
}

// superusersOnly serves h to superusers and answers 403 to everyone else signed in (the session
// middleware has answered 401 to anyone not signed in).
func superusersOnly(m *metamodel.Model, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !superuser(m, auth.FromContext(r.Context())) {
			http.Error(w, "metrics are shown to superusers only (or on the address of --metrics-addr)", http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

// superuser reports whether p holds a superuser role of m. In a model without roles every signed-in
// user may do everything (METAMODEL.md), and so is one.
func superuser(m *metamodel.Model, p *auth.Principal) bool {
	if p == nil {
		return false
	}
	if len(m.Roles) == 0 {
		return true
	}
	for _, name := range p.Roles {
		if r := m.Role(name); r != nil && r.Superuser {
			return true
		}
	}
	return false
}

// metricsOnly serves /metrics and nothing else, for --metrics-addr.
func metricsOnly(db *sql.DB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", metricsHandler(db))
	return mux
}
