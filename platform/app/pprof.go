package app

import (
	"net/http"
	"net/http/pprof"
)

// profiler serves Go's profiles (net/http/pprof) for --pprof: on an address of its own, so the app's
// users never reach it, and only when asked for, since a profile shows the program's internals.
func profiler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
