package auth_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/platform/auth"
)

// http200 is a handler that hands its request to f and answers 200.
func http200(f func(r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f(r) })
}

func mustProxies(t *testing.T, list string) []netip.Prefix {
	t.Helper()
	p, err := auth.ParseTrustedProxies(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Behind trusted proxies the client is the last address of X-Forwarded-For that is not a trusted proxy,
// and X-Forwarded-Proto tells HTTPS; from anyone else both headers are ignored, whatever they say.
func TestClientOf(t *testing.T) {
	svc := auth.New(nil, auth.SQLite, auth.Config{TrustedProxies: mustProxies(t, "10.0.0.0/8, 192.0.2.10 ::1")})
	plain := auth.New(nil, auth.SQLite, auth.Config{})
	for _, c := range []struct {
		name   string
		svc    *auth.Service
		remote string
		xff    []string
		proto  string
		tls    bool
		ip     string
		secure bool
	}{
		{"direct", svc, "203.0.113.5:4000", nil, "", false, "203.0.113.5", false},
		{"direct over TLS", svc, "203.0.113.5:4000", nil, "", true, "203.0.113.5", true},
		{"direct, forged headers", svc, "203.0.113.5:4000", []string{"198.51.100.1"}, "https", false, "203.0.113.5", false},
		{"no proxies configured, forged headers", plain, "10.0.0.1:4000", []string{"198.51.100.1"}, "https", false, "10.0.0.1", false},
		{"one proxy", svc, "10.1.2.3:4000", []string{"198.51.100.1"}, "https", false, "198.51.100.1", true},
		{"one proxy, http", svc, "10.1.2.3:4000", []string{"198.51.100.1"}, "http", false, "198.51.100.1", false},
		{"one proxy, HTTPS in capitals", svc, "10.1.2.3:4000", []string{"198.51.100.1"}, "HTTPS", false, "198.51.100.1", true},
		{"the outermost proxy's scheme counts", svc, "10.1.2.3:4000", []string{"198.51.100.1"}, "https, http", false, "198.51.100.1", true},
		{"client's own entries are not believed", svc, "10.1.2.3:4000", []string{"1.2.3.4, 5.6.7.8, 198.51.100.1"}, "", false, "198.51.100.1", false},
		{"chain of proxies", svc, "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1, 192.0.2.10, 10.9.9.9"}, "", false, "198.51.100.1", false},
		{"several header lines", svc, "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1", "10.9.9.9"}, "", false, "198.51.100.1", false},
		{"entries with ports", svc, "10.1.2.3:4000", []string{"[2001:db8::7]:443, 10.0.0.9:80"}, "", false, "2001:db8::7", false},
		{"all trusted: the leftmost", svc, "10.1.2.3:4000", []string{"10.0.0.5, 10.0.0.6"}, "", false, "10.0.0.5", false},
		{"garbage stops at the proxy that passed it", svc, "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip"}, "", false, "10.1.2.3", false},
		{"no header: the proxy", svc, "10.1.2.3:4000", nil, "", false, "10.1.2.3", false},
		{"IPv6 proxy", svc, "[::1]:4000", []string{"198.51.100.2"}, "https", false, "198.51.100.2", true},
		{"IPv4-mapped proxy", svc, "[::ffff:10.0.0.1]:4000", []string{"198.51.100.3"}, "", false, "198.51.100.3", false},
	} {
		r := httptest.NewRequest("GET", "http://crm.example.com/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		got := c.svc.ClientOf(r)
		if got.IP != c.ip || got.Secure != c.secure {
			t.Errorf("%s: ClientOf = %+v, want IP %s, Secure %t", c.name, got, c.ip, c.secure)
		}
		if c.svc.SecureRequest(r) != c.secure {
			t.Errorf("%s: SecureRequest = %t", c.name, !c.secure)
		}
	}
	forced := auth.New(nil, auth.SQLite, auth.Config{SecureCookies: true})
	if !forced.SecureRequest(httptest.NewRequest("GET", "http://crm.example.com/", nil)) {
		t.Errorf("SecureCookies: a plain request is not taken as secure")
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := auth.ParseTrustedProxies("10.0.0.0/8,192.0.2.10  2001:db8::/32, ::1,10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32", "::1/128", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("ParseTrustedProxies = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("proxy %d = %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := auth.ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty list: %v, %v", got, err)
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "10.0.0", "fe80::1%eth0"} {
		if _, err := auth.ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseTrustedProxies(%q): %v, want an error naming it", bad, err)
		}
	}
}

// The session cookie is Secure when its request came over HTTPS, to a real TLS server or through a
// trusted proxy, for sign-in and sign-out alike.
func TestSessionCookieSecureOverHTTPS(t *testing.T) {
	eachDB(t, func(c *auth.Config) { c.TrustedProxies = mustProxies(t, "127.0.0.1") }, func(t *testing.T, e *env) {
		srv := httptest.NewTLSServer(e.app())
		defer srv.Close()
		resp, err := srv.Client().Post(srv.URL+"/auth/login", "application/x-www-form-urlencoded", strings.NewReader("username=nora&password=nora-pw"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if c := responseCookie(resp, "crm_session"); c == nil || !c.Secure {
			t.Errorf("sign-in over TLS: cookie %+v, want Secure", c)
		}
		h := e.app()
		for _, c := range []struct {
			remote, proto string
			secure        bool
		}{{"127.0.0.1:5000", "https", true}, {"127.0.0.1:5000", "", false}, {"192.0.2.7:5000", "https", false}} {
			session, _ := e.login("nora", "192.0.2.1")
			for _, path := range []string{"/auth/login", "/auth/logout"} {
				r := httptest.NewRequest("POST", "http://crm.example.com"+path, strings.NewReader("username=nora&password=nora-pw"))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.AddCookie(&http.Cookie{Name: "crm_session", Value: session})
				r.RemoteAddr = c.remote
				if c.proto != "" {
					r.Header.Set("X-Forwarded-Proto", c.proto)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if k := responseCookie(w.Result(), "crm_session"); k == nil || k.Secure != c.secure {
					t.Errorf("%s from %s with X-Forwarded-Proto %q: cookie %+v, want Secure=%t", path, c.remote, c.proto, k, c.secure)
				}
			}
		}
	})
}
