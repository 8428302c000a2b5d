// Command scaleproxy is the round-robin HTTP proxy of the scale-out benchmark (bench/scale.sh): it sends
// each request to the next of its backends, as a load balancer in front of several instances of one app
// would, keeping connections to them open.
//
//	scaleproxy -addr 127.0.0.1:8080 -to http://127.0.0.1:9001,http://127.0.0.1:9002
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	to := flag.String("to", "", "comma-separated base URLs of the backends")
	flag.Parse()
	var backends []*url.URL
	for _, s := range strings.Split(*to, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" {
			fmt.Fprintf(os.Stderr, "scaleproxy: -to: %q is not a URL\n", s)
			os.Exit(2)
		}
		backends = append(backends, u)
	}
	if len(backends) == 0 || *to == "" {
		fmt.Fprintln(os.Stderr, "scaleproxy: -to names no backend")
		os.Exit(2)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			b := backends[(next.Add(1)-1)%uint64(len(backends))]
			r.SetURL(b)
			r.SetXForwarded()
		},
		Transport: transport,
	}
	log.Printf("scaleproxy: %s → %s", *addr, *to)
	srv := &http.Server{Addr: *addr, Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
