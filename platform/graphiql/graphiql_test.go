package graphiql_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/platform/graphiql"
)

// refPattern finds the URLs that the page loads.
var refPattern = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

// mounts are the ways the package documentation says to mount the handler.
func mounts() map[string]http.Handler {
	h := graphiql.Handler("/query")
	direct := http.NewServeMux()
	direct.Handle("/graphiql", h)
	direct.Handle("/graphiql/", h)
	stripped := http.NewServeMux()
	stripped.Handle("/graphiql", http.StripPrefix("/graphiql", h))
	stripped.Handle("/graphiql/", http.StripPrefix("/graphiql", h))
	strippedSlash := http.NewServeMux()
	strippedSlash.Handle("/graphiql/", http.StripPrefix("/graphiql/", h))
	return map[string]http.Handler{"direct": direct, "StripPrefix": stripped, "StripPrefix slash": strippedSlash}
}

func get(t *testing.T, rawURL string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirects, no transparent gzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestPageLoadsOnlyLocalAssets(t *testing.T) {
	for name, mux := range mounts() {
		srv := httptest.NewServer(mux)
		defer srv.Close()
		pages := []string{"/graphiql/"}
		if name != "StripPrefix slash" {
			pages = append(pages, "/graphiql")
		}
		for _, page := range pages {
			t.Run(name+" "+page, func(t *testing.T) {
				resp, body := get(t, srv.URL+page)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %s", page, resp.Status)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
					t.Errorf("page Cache-Control = %q, want no-cache", cc)
				}
				if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
					t.Errorf("Content-Security-Policy = %q, want script-src 'self'", csp)
				}
				for _, scheme := range []string{"http://", "https://"} {
					if bytes.Contains(body, []byte(scheme)) {
						t.Errorf("page contains %q; it must load nothing from another host:\n%s", scheme, body)
					}
				}
				if !bytes.Contains(body, []byte(`data-endpoint="/query"`)) {
					t.Errorf("page does not carry the endpoint:\n%s", body)
				}

				base, _ := url.Parse(srv.URL + page)
				var scripts, styles int
				for _, m := range refPattern.FindAllSubmatch(body, -1) {
					ref := string(m[1])
					if strings.HasPrefix(ref, "data:") {
						continue
					}
					u, err := base.Parse(ref)
					if err != nil {
						t.Fatalf("asset URL %q: %v", ref, err)
					}
					if !strings.HasPrefix(u.Path, "/graphiql/assets/") {
						t.Errorf("asset %q resolves to %s, outside /graphiql/assets/", ref, u.Path)
					}
					if u.Query().Get("v") == "" {
						t.Errorf("asset URL %q has no content version (?v=)", ref)
					}
					resp, body := get(t, u.String())
					if resp.StatusCode != http.StatusOK {
						t.Errorf("GET %s: %s", u, resp.Status)
						continue
					}
					switch ct := resp.Header.Get("Content-Type"); ct {
					case "text/javascript; charset=utf-8":
						scripts++
					case "text/css; charset=utf-8":
						styles++
					default:
						t.Errorf("GET %s: Content-Type %q, want JavaScript or CSS", u, ct)
					}
					if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
						t.Errorf("GET %s: Cache-Control %q, want a year, immutable", u, cc)
					}
					if resp.Header.Get("ETag") == "" {
						t.Errorf("GET %s: no ETag", u)
					}
					if len(body) == 0 {
						t.Errorf("GET %s: empty body", u)
					}
				}
				if scripts != 4 || styles != 1 {
					t.Errorf("page loads %d scripts and %d stylesheets, want 4 and 1", scripts, styles)
				}
			})
		}
	}
}

func TestAssetEncodingAndValidation(t *testing.T) {
	srv := httptest.NewServer(mounts()["direct"])
	defer srv.Close()
	asset := srv.URL + "/graphiql/assets/graphiql.min.js"
	want, err := os.ReadFile("assets/graphiql.min.js")
	if err != nil {
		t.Fatal(err)
	}

	resp, plain := get(t, asset)
	if !bytes.Equal(plain, want) {
		t.Errorf("plain body differs from assets/graphiql.min.js (%d bytes, want %d)", len(plain), len(want))
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding = %q without Accept-Encoding", ce)
	}

	resp, gz := get(t, asset, "Accept-Encoding", "br, gzip")
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", ce)
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q, want Accept-Encoding", resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, want) {
		t.Errorf("gzipped body does not decompress to the asset (err %v)", err)
	}
	if len(gz) >= len(want)/2 {
		t.Errorf("gzipped size %d, want well under %d", len(gz), len(want))
	}

	if resp, _ := get(t, asset, "Accept-Encoding", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip sent although the client refused it (q=0)")
	}

	etag := resp.Header.Get("ETag")
	if resp, body := get(t, asset, "Accept-Encoding", "gzip", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match %s: %s with %d bytes, want 304 Not Modified", etag, resp.Status, len(body))
	}

	if resp, body := get(t, srv.URL+"/graphiql/assets/LICENSE.graphiql"); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("MIT License")) {
		t.Errorf("GET LICENSE.graphiql: %s", resp.Status)
	}
}

func TestErrors(t *testing.T) {
	h := graphiql.Handler("/query")
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/graphiql/assets/nope.js", http.StatusNotFound},
		{http.MethodGet, "/graphiql/assets/../graphiql.go", http.StatusNotFound},
		{http.MethodPost, "/graphiql", http.StatusMethodNotAllowed},
		{http.MethodHead, "/graphiql/assets/react.production.min.js", http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

func TestEndpointIsEscaped(t *testing.T) {
	h := graphiql.Handler(`/q"><script>alert(1)</script>`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphiql", nil))
	if body := rec.Body.String(); strings.Contains(body, "<script>alert") {
		t.Errorf("endpoint not escaped:\n%s", body)
	}
}

func TestCrossOriginEndpointIsAllowedByCSP(t *testing.T) {
	h := graphiql.Handler("https://api.example.test/query")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphiql", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://api.example.test") {
		t.Errorf("Content-Security-Policy = %q, want the endpoint's origin in connect-src", csp)
	}
}
