package app

import (
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"

	"github.com/crmgen/crmgen/platform/database"
)

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
