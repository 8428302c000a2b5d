// Package graphiql serves GraphiQL, the in-browser GraphQL IDE, from assets
// embedded in the binary, so a generated app offers it offline, with no CDN.
//
// The assets are the UMD builds of graphiql 3, React 18 and ReactDOM 18, vendored
// from npm under assets/ (see assets/VERSIONS.md). The handler serves the page at
// its mount path and the assets below it, at <mount>/assets/<name>:
//
//	h := graphiql.Handler("/query")
//	mux.Handle("/graphiql", h)  // the page
//	mux.Handle("/graphiql/", h) // the page at /graphiql/, and /graphiql/assets/…
//
// It works the same behind [http.StripPrefix]:
//
//	mux.Handle("/graphiql/", http.StripPrefix("/graphiql", h))
//
// The page refers to the assets by relative URLs, which it computes from the
// last segment of the request's path, so it needs no configured prefix: from
// /graphiql it loads graphiql/assets/…, from /graphiql/ it loads assets/….
// Both resolve to /graphiql/assets/…, which must reach the handler. Any other
// path below the mount that is not an asset also gets the page.
//
// The page's queries send the session cookie (credentials: 'same-origin') and
// the headers that the user types in GraphiQL's headers editor, such as
// Authorization; GraphiQL does not save those headers in localStorage.
//
// Asset URLs carry a hash of their content, so they are served with a year of
// immutable caching; the page itself is revalidated on every load (no-cache).
// Assets are gzipped for clients that accept it.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed assets/*.js assets/*.css assets/LICENSE.*
var vendored embed.FS

//go:embed page/index.html page/init.js
var pageFiles embed.FS

var pageTemplate = template.Must(template.ParseFS(pageFiles, "page/index.html"))

// pageData is what page/index.html renders: the endpoint and the relative URL
// of each asset.
type pageData struct {
	Endpoint                             string
	CSS, React, ReactDOM, GraphiQL, Init string
}

// asset is one embedded file, served at <mount>/assets/<name>.
type asset struct {
	name        string
	contentType string
	body        []byte
	etag        string // quoted strong validator, from the content hash

	gzipOnce sync.Once
	gzipped  []byte // nil when compression does not pay
}

// assets holds every servable file by name; it is built once, at init.
var assets = loadAssets()

// initScript is the served name of page/init.js.
const initScript = "graphiql-init.js"

func loadAssets() map[string]*asset {
	m := map[string]*asset{}
	add := func(name string, body []byte) {
		sum := sha256.Sum256(body)
		m[name] = &asset{
			name:        name,
			contentType: contentType(name),
			body:        body,
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
	}
	entries, err := fs.ReadDir(vendored, "assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := fs.ReadFile(vendored, "assets/"+e.Name())
		if err != nil {
			panic(err)
		}
		add(e.Name(), body)
	}
	body, err := fs.ReadFile(pageFiles, "page/init.js")
	if err != nil {
		panic(err)
	}
	add(initScript, body)
	return m
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

// Handler returns a handler that serves GraphiQL querying endpoint, the URL of
// the GraphQL API: usually an absolute path such as "/query"; a relative URL
// resolves against the page's URL. See the package documentation for how to
// mount it. Handler panics if endpoint is empty.
func Handler(endpoint string) http.Handler {
	if endpoint == "" {
		panic("graphiql: empty endpoint")
	}
	return &handler{endpoint: endpoint, csp: contentSecurityPolicy(endpoint)}
}

type handler struct {
	endpoint string
	csp      string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // http.StripPrefix("/graphiql/", …) leaves "assets/…"
	}
	if i := strings.LastIndex(p, "/assets/"); i >= 0 {
		a, ok := assets[p[i+len("/assets/"):]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
		return
	}
	h.servePage(w, r)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	base := assetBase(r)
	ref := func(name string) string { return base + name + "?v=" + strings.Trim(assets[name].etag, `"`) }
	data := pageData{
		Endpoint: h.endpoint,
		CSS:      ref("graphiql.min.css"),
		React:    ref("react.production.min.js"),
		ReactDOM: ref("react-dom.production.min.js"),
		GraphiQL: ref("graphiql.min.js"),
		Init:     ref(initScript),
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, "render graphiql page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	w.Write(buf.Bytes())
}

// assetBase returns the URL of the assets directory relative to the page, from
// the path that the client asked for. r.RequestURI keeps that path when
// http.StripPrefix has shortened r.URL.Path.
func assetBase(r *http.Request) string {
	p := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
		p = u.Path
	}
	if p == "" || strings.HasSuffix(p, "/") {
		return "assets/"
	}
	return url.PathEscape(p[strings.LastIndex(p, "/")+1:]) + "/assets/"
}

// contentSecurityPolicy allows the page only its own scripts and styles (and
// GraphiQL's inline styles and data: fonts), and queries only to its own
// origin, or to the endpoint's when that is another.
func contentSecurityPolicy(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'self'",
	}, "; ")
}

// serve writes the asset, gzipped when the client accepts it, with caching
// headers; conditional and range requests go through http.ServeContent.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Add("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if acceptsGzip(r) {
		if gz := a.gzip(); gz != nil {
			body = gz
			etag = strings.TrimSuffix(a.etag, `"`) + `-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(body))
}

// gzip returns the compressed body, computed on first use.
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		if len(a.body) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.body)
		zw.Close()
		if buf.Len() < len(a.body) {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
			if !ok {
				return true
			}
			f, err := strconv.ParseFloat(q, 64)
			return err == nil && f > 0
		}
	}
	return false
}
