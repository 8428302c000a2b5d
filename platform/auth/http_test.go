package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/platform/auth"
)

// app is what the lead will wire: the auth middleware in front of a mux with public and private routes.
func (e *env) app() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/auth/login", e.svc.LoginHandler())
	mux.Handle("/auth/logout", e.svc.LogoutHandler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if p := auth.FromContext(r.Context()); p != nil {
			who = p.Username
		}
		fmt.Fprintf(w, "%s %s from %s", r.Method, who, auth.ClientFromContext(r.Context()).IP)
	})
	public := func(r *http.Request) bool {
		return r.URL.Path == "/healthz" || r.URL.Path == "/auth/login" || r.URL.Path == "/graphql"
	}
	return e.svc.Middleware(mux, public)
}

type request struct {
	method, path, body string
	header             map[string]string
	cookie             string // session token sent as the cookie
}

func (e *env) do(h http.Handler, rq request) *httptest.ResponseRecorder {
	r := httptest.NewRequest(rq.method, "http://crm.example.com"+rq.path, strings.NewReader(rq.body))
	r.RemoteAddr = "192.0.2.7:5555"
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	if rq.cookie != "" {
		r.AddCookie(&http.Cookie{Name: "crm_session", Value: rq.cookie})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		h := e.app()
		session, _ := e.login("alice", "192.0.2.1")
		api, _, err := e.svc.CreateAPIToken(ctx, e.users["bob"], "cli")
		if err != nil {
			t.Fatal(err)
		}
		crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
		for _, c := range []struct {
			name   string
			rq     request
			status int
			body   string
		}{
			{"no credentials", request{method: "GET", path: "/deals"}, 401, `{"error":"sign in required"}`},
			{"no credentials, POST", request{method: "POST", path: "/deals"}, 401, `{"error":"sign in required"}`},
			{"public path", request{method: "GET", path: "/healthz"}, 200, "ok"},
			{"public POST without credentials", request{method: "POST", path: "/graphql"}, 200, "POST anonymous from 192.0.2.7"},
			{"bearer session token", request{method: "GET", path: "/deals",
				header: map[string]string{"Authorization": "Bearer " + session}}, 200, "GET alice from 192.0.2.7"},
			{"bearer scheme in lower case", request{method: "GET", path: "/deals",
				header: map[string]string{"Authorization": "bearer " + session}}, 200, "GET alice from 192.0.2.7"},
			{"bearer API token", request{method: "GET", path: "/deals",
				header: map[string]string{"Authorization": "Bearer " + api}}, 200, "GET bob from 192.0.2.7"},
			{"cookie", request{method: "GET", path: "/deals", cookie: session}, 200, "GET alice from 192.0.2.7"},
			{"public path with cookie", request{method: "GET", path: "/graphql", cookie: session}, 200, "GET alice from 192.0.2.7"},
			{"invalid bearer token", request{method: "GET", path: "/deals",
				header: map[string]string{"Authorization": "Bearer crms_nope"}}, 401, `{"error":"sign in required"}`},
			{"invalid cookie", request{method: "GET", path: "/deals", cookie: "crms_" + strings.Repeat("x", 43)}, 401, `{"error":"sign in required"}`},
			{"API token in the cookie", request{method: "GET", path: "/deals", cookie: api}, 401, `{"error":"sign in required"}`},
			{"basic auth is no credential", request{method: "GET", path: "/deals",
				header: map[string]string{"Authorization": "Basic YWxpY2U6YWxpY2UtcHc="}}, 401, `{"error":"sign in required"}`},
			{"bearer wins over cookie", request{method: "GET", path: "/deals", cookie: session,
				header: map[string]string{"Authorization": "Bearer " + api}}, 200, "GET bob from 192.0.2.7"},

			// Cross-site request forgery: browsers send cookies along, never an Authorization header.
			{"cross-site cookie POST", request{method: "POST", path: "/deals", cookie: session, header: crossSite},
				403, `{"error":"cross-origin request refused"}`},
			{"cross-site cookie DELETE", request{method: "DELETE", path: "/deals/1", cookie: session, header: crossSite},
				403, `{"error":"cross-origin request refused"}`},
			{"cross-site cookie POST, old browser (Origin only)", request{method: "POST", path: "/deals", cookie: session,
				header: map[string]string{"Origin": "https://evil.example"}}, 403, `{"error":"cross-origin request refused"}`},
			{"cross-site cookie POST to a public path", request{method: "POST", path: "/graphql", cookie: session, header: crossSite},
				403, `{"error":"cross-origin request refused"}`},
			{"cross-site sign-in (login CSRF)", request{method: "POST", path: "/auth/login", header: crossSite,
				body: "username=alice&password=alice-pw"}, 403, `{"error":"cross-origin request refused"}`},
			{"cross-site cookie GET is safe", request{method: "GET", path: "/deals", cookie: session, header: crossSite},
				200, "GET alice from 192.0.2.7"},
			{"same-origin cookie POST", request{method: "POST", path: "/deals", cookie: session,
				header: map[string]string{"Origin": "http://crm.example.com", "Sec-Fetch-Site": "same-origin"}},
				200, "POST alice from 192.0.2.7"},
			{"same-origin cookie POST, old browser", request{method: "POST", path: "/deals", cookie: session,
				header: map[string]string{"Origin": "http://crm.example.com"}}, 200, "POST alice from 192.0.2.7"},
			{"cookie POST from a non-browser client", request{method: "POST", path: "/deals", cookie: session},
				200, "POST alice from 192.0.2.7"},
			{"bearer POST from a foreign origin", request{method: "POST", path: "/deals", header: map[string]string{
				"Authorization": "Bearer " + api, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
				200, "POST bob from 192.0.2.7"},
		} {
			w := e.do(h, c.rq)
			if got := strings.TrimSpace(w.Body.String()); w.Code != c.status || got != c.body {
				t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, got, c.status, c.body)
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s: 401 without WWW-Authenticate: Bearer", c.name)
			}
			if w.Code >= 400 && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("%s: error with Content-Type %q, want JSON", c.name, w.Header().Get("Content-Type"))
			}
		}

		// An invalid session cookie is cleared.
		w := e.do(h, request{method: "GET", path: "/healthz", cookie: "crms_" + strings.Repeat("x", 43)})
		if c := responseCookie(w.Result(), "crm_session"); c == nil || c.MaxAge >= 0 {
			t.Errorf("invalid cookie not cleared: %+v", c)
		}
	})
}

func TestTrustedOrigins(t *testing.T) {
	eachDB(t, func(c *auth.Config) { c.TrustedOrigins = []string{"https://portal.example"} }, func(t *testing.T, e *env) {
		session, _ := e.login("alice", "192.0.2.1")
		h := e.app()
		w := e.do(h, request{method: "POST", path: "/deals", cookie: session,
			header: map[string]string{"Origin": "https://portal.example", "Sec-Fetch-Site": "cross-site"}})
		if w.Code != 200 {
			t.Errorf("POST from a trusted origin: %d %s", w.Code, w.Body)
		}
	})
}

func TestLoginAndLogoutHandlers(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		h := e.app()
		jsonCT := map[string]string{"Content-Type": "application/json"}
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

		w := e.do(h, request{method: "POST", path: "/auth/login", header: jsonCT, body: `{"username":"alice","password":"alice-pw"}`})
		if w.Code != 200 {
			t.Fatalf("login: %d %s", w.Code, w.Body)
		}
		var out struct {
			Token string         `json:"token"`
			User  auth.Principal `json:"user"`
		}
		decode(t, w.Body.Bytes(), &out)
		if out.User.Username != "alice" || out.User.ID != e.users["alice"] || len(out.User.Teams) != 4 {
			t.Errorf("login answered user %+v", out.User)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("login response may be cached: Cache-Control %q", w.Header().Get("Cache-Control"))
		}
		c := responseCookie(w.Result(), "crm_session")
		if c == nil || c.Value != out.Token || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
			c.MaxAge != 12*3600 || c.Secure {
			t.Fatalf("session cookie %+v: want the token, HttpOnly, SameSite=Lax, Path=/, Max-Age=43200, not Secure", c)
		}
		if p, err := e.svc.Authenticate(ctx, out.Token); err != nil || p.Username != "alice" {
			t.Errorf("the token from the login handler: %+v, %v", p, err)
		}

		// Signing in again from the same browser replaces its session.
		w = e.do(h, request{method: "POST", path: "/auth/login", header: form, body: "username=alice&password=alice-pw", cookie: out.Token})
		if w.Code != 200 {
			t.Fatalf("form login: %d %s", w.Code, w.Body)
		}
		if _, err := e.svc.Authenticate(ctx, out.Token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("the previous session survived a new sign-in: %v", err)
		}
		token := responseCookie(w.Result(), "crm_session").Value

		for _, c := range []struct {
			name   string
			rq     request
			status int
			body   string
		}{
			{"wrong password", request{method: "POST", path: "/auth/login", header: jsonCT,
				body: `{"username":"alice","password":"nope"}`}, 401, `{"error":"invalid username or password"}`},
			{"unknown user", request{method: "POST", path: "/auth/login", header: form,
				body: "username=ghost&password=nope"}, 401, `{"error":"invalid username or password"}`},
			{"disabled user", request{method: "POST", path: "/auth/login", header: form,
				body: "username=carol&password=carol-pw"}, 403, `{"error":"account is disabled"}`},
			{"malformed JSON", request{method: "POST", path: "/auth/login", header: jsonCT, body: `{"username":`},
				400, `{"error":"want a username and a password, as JSON or a form"}`},
			{"no password", request{method: "POST", path: "/auth/login", header: form, body: "username=alice"},
				400, `{"error":"want a username and a password, as JSON or a form"}`},
			{"GET", request{method: "GET", path: "/auth/login"}, 405, `{"error":"use POST"}`},
		} {
			w := e.do(h, c.rq)
			if got := strings.TrimSpace(w.Body.String()); w.Code != c.status || got != c.body {
				t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, got, c.status, c.body)
			}
		}

		// Throttled: 429 with Retry-After in seconds.
		for range 5 {
			e.do(h, request{method: "POST", path: "/auth/login", header: form, body: "username=bob&password=nope"})
		}
		e.clock.Advance(90 * time.Second)
		w = e.do(h, request{method: "POST", path: "/auth/login", header: form, body: "username=bob&password=bob-pw"})
		if w.Code != 429 || w.Header().Get("Retry-After") != "810" {
			t.Errorf("throttled login: %d %s Retry-After %q, want 429 with Retry-After 810", w.Code, w.Body, w.Header().Get("Retry-After"))
		}

		// Logout ends the session and clears the cookie.
		w = e.do(h, request{method: "POST", path: "/auth/logout", cookie: token,
			header: map[string]string{"Origin": "http://crm.example.com", "Sec-Fetch-Site": "same-origin"}})
		if w.Code != 204 {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		if c := responseCookie(w.Result(), "crm_session"); c == nil || c.MaxAge >= 0 {
			t.Errorf("logout did not clear the cookie: %+v", c)
		}
		if w := e.do(h, request{method: "GET", path: "/deals", cookie: token}); w.Code != 401 {
			t.Errorf("after logout: %d %s, want 401", w.Code, w.Body)
		}
	})
}

func TestSecureCookies(t *testing.T) {
	eachDB(t, func(c *auth.Config) {
		c.SecureCookies = true
		c.CookieName = "__Host-crm"
		c.AbsoluteTimeout = time.Hour
	},
		func(t *testing.T, e *env) {
			w := httptest.NewRecorder()
			e.svc.SetSessionCookie(w, httptest.NewRequest("POST", "http://crm.example.com/auth/login", nil), "crms_x")
			c := responseCookie(w.Result(), "__Host-crm")
			if c == nil || !c.Secure || c.MaxAge != 3600 || !c.HttpOnly {
				t.Errorf("cookie %+v: want Secure, HttpOnly, Max-Age=3600", c)
			}
		})
}

// A browser's whole round trip against a real server: sign in with a form, use the cookie, sign out.
func TestBrowserRoundTrip(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		srv := httptest.NewServer(e.app())
		defer srv.Close()
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		get := func() int {
			resp, err := client.Get(srv.URL + "/deals")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get(); code != 401 {
			t.Fatalf("before sign-in: %d, want 401", code)
		}
		resp, err := client.PostForm(srv.URL+"/auth/login", url.Values{"username": {"nora"}, "password": {"nora-pw"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		if code := get(); code != 200 {
			t.Fatalf("signed in: %d, want 200", code)
		}
		resp, err = client.Post(srv.URL+"/auth/logout", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("sign-out: %d", resp.StatusCode)
		}
		if code := get(); code != 401 {
			t.Fatalf("after sign-out: %d, want 401", code)
		}
	})
}

func responseCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// TestMiddlewareClientGone: a request whose client has gone (its context cancelled, as a proxy cancels
// the request of a closed connection) is dropped without an answer, not answered 503 "authentication
// unavailable" and logged as a server error, and it reaches nothing behind the middleware.
func TestMiddlewareClientGone(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		token, _, err := e.svc.CreateAPIToken(context.Background(), e.users["bob"], "cli") // never used: not cached
		if err != nil {
			t.Fatal(err)
		}
		reached := false
		h := e.svc.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }), nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/deals", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusServiceUnavailable || rec.Body.Len() > 0 && strings.Contains(rec.Body.String(), "unavailable") || reached {
			t.Errorf("a cancelled request: %d %q, reached the handler: %v", rec.Code, rec.Body.String(), reached)
		}
	})
}
