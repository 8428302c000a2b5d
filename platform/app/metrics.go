package app

import (
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
)

// Metrics are served in two places. On the main port, /metrics is for superusers only: counters of
// traffic and memory tell an outsider about the service and its load. With --metrics-addr they are also
// served on an address of their own without sign-in, for a Prometheus server on a private network;
// nothing else is served there.

// requests counts HTTP requests served (health checks excluded).
var requests atomic.Int64

// metricsHandler serves counters in the Prometheus text exposition format.
func metricsHandler(w http.ResponseWriter, _ *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintf(w, "# HELP crm_sql_statements_total SQL statements sent to the database.\n# TYPE crm_sql_statements_total counter\ncrm_sql_statements_total %d\n", database.Statements.Load())
	fmt.Fprintf(w, "# HELP crm_http_requests_total HTTP requests served.\n# TYPE crm_http_requests_total counter\ncrm_http_requests_total %d\n", requests.Load())
	fmt.Fprintf(w, "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "# HELP go_memstats_heap_alloc_bytes Heap bytes allocated.\n# TYPE go_memstats_heap_alloc_bytes gauge\ngo_memstats_heap_alloc_bytes %d\n", ms.HeapAlloc)
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
func metricsOnly() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", metricsHandler)
	return mux
}
