package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// Sign-in, sessions, tokens and redirects of a generated app under attack (issue 10): where a redirect
// may lead, how password guesses are slowed, what ends a session or token, and what the app believes of
// a reverse proxy.

// webClient is a browser-like client of the admin screens: it keeps cookies and does not follow
// redirects, so tests see where each answer points.
type webClient struct {
	s *apptest.Server
	c *http.Client
}

// webAnswer is one answer of the app.
type webAnswer struct {
	status   int
	location string
	body     string
	header   http.Header
	cookies  []*http.Cookie
}

func newWebClient(s *apptest.Server) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// browserClient returns a webClient signed in to the admin screens as username.
func browserClient(t *testing.T, s *apptest.Server, username, password string) *webClient {
	t.Helper()
	c := newWebClient(s)
	if r := c.postForm(t, "/login", map[string]string{"username": username, "password": password, "next": "/"}); r.status != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d\n%.500s", username, r.status, r.body)
	}
	return c
}

func (c *webClient) do(t *testing.T, req *http.Request) webAnswer {
	t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webAnswer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b), header: resp.Header, cookies: resp.Cookies()}
}

// get requests a path, which may carry a raw query.
func (c *webClient) get(t *testing.T, path string, header ...string) webAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(t, req)
}

// postForm posts a form as a page of the app would; header holds extra name, value pairs.
func (c *webClient) postForm(t *testing.T, path string, fields map[string]string, header ...string) webAnswer {
	t.Helper()
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	req, _ := http.NewRequest(http.MethodPost, c.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.s.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(t, req)
}

// redirectAttacks are next= values that a browser would follow to another site, or that are no path of
// the app at all, as they arrive in a query string (already percent-encoded where a browser would send
// them so).
var redirectAttacks = []string{
	"/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "%09//evil.example", "%20//evil.example",
	"//evil.example", "///evil.example", "%5C%5Cevil.example", "/%5Cevil.example", "%5C/evil.example",
	"/%2F/evil.example", "/%252F/evil.example", "https://evil.example", "HTTPS://evil.example/",
	"https:evil.example", "javascript:alert(1)", "evil.example", "/%00/evil.example", "%2F%2Fevil.example",
	"/%7F/evil.example",
}

func TestSecurityRedirectsStayOnSite(t *testing.T) {
	s := adminApp(t, "hospital").Start(t, apptest.SQLitePath(t), noTimers)
	anon := newWebClient(s)
	for _, next := range redirectAttacks {
		if r := anon.get(t, "/lang?l=en&next="+next); r.status != http.StatusSeeOther || r.location != "/" {
			t.Errorf("/lang?next=%s: %d to %q, want 303 to /", next, r.status, r.location)
		}
	}
	if r := anon.get(t, "/lang?l=en&next=/e/Patient%3Fq%3D1"); r.location != "/e/Patient?q=1" {
		t.Errorf("/lang?next=/e/Patient?q=1: to %q, want back to the list", r.location)
	}
	// Signing in: the sign-in form carries next, as the sign-in page put it there.
	for _, next := range []string{"/%09/evil.example", "/%5Cevil.example", "//evil.example"} {
		raw, _ := url.QueryUnescape(next)
		c := newWebClient(s)
		r := c.postForm(t, "/login", map[string]string{"username": "liuyang", "password": "doctor123", "next": raw})
		if r.status != http.StatusSeeOther || r.location != "/" {
			t.Errorf("sign-in with next=%q: %d to %q, want 303 to /", raw, r.status, r.location)
		}
		// Signed in, the sign-in page sends the user on at once.
		if r := c.get(t, "/login?next="+next); r.status != http.StatusSeeOther || r.location != "/" {
			t.Errorf("/login?next=%s when signed in: %d to %q, want 303 to /", next, r.status, r.location)
		}
	}
	c := browserClient(t, s, "admin", "admin123")
	if r := c.get(t, "/login?next=/e/Patient"); r.location != "/e/Patient" {
		t.Errorf("/login?next=/e/Patient when signed in: to %q", r.location)
	}
	// Forms that return to a page they were sent from.
	if r := c.postForm(t, "/inbox/read", map[string]string{"all": "1", "next": "/\t/evil.example"}); r.location != "/" {
		t.Errorf("inbox form with next=/<tab>/evil.example: %d to %q, want /", r.status, r.location)
	}
	if r := c.postForm(t, "/e/Tag/delete", map[string]string{"next": "/e/Tag\\..\\\\evil.example"}); r.location != "/e/Tag" {
		t.Errorf("bulk delete with a crafted next: %d to %q, want /e/Tag", r.status, r.location)
	}
	if r := c.postForm(t, "/e/Tag/delete", map[string]string{"next": "/e/Tag?sort=name"}); r.location != "/e/Tag?sort=name" {
		t.Errorf("bulk delete with next=/e/Tag?sort=name: %d to %q", r.status, r.location)
	}
	// htmx requests are sent on with HX-Redirect, checked alike.
	r := c.postForm(t, "/inbox/read", map[string]string{"all": "1", "next": "//evil.example"}, "HX-Request", "true")
	if r.status != http.StatusNoContent || r.header.Get("HX-Redirect") != "/" {
		t.Errorf("htmx inbox form with next=//evil.example: %d, HX-Redirect %q; want 204 to /", r.status, r.header.Get("HX-Redirect"))
	}
}

// mutationCode runs a GraphQL operation that must fail and returns its first error's code.
func mutationCode(t *testing.T, s *apptest.Server, q string, vars map[string]any) (string, string) {
	t.Helper()
	e := mustFail(t, s, q, vars)
	code, _ := e.Extensions["code"].(string)
	return code, e.Message
}

func TestSecurityPasswordGuessesThrottled(t *testing.T) {
	s := adminApp(t, "hospital").Start(t, apptest.SQLitePath(t), noTimers)
	liu := s.As(t, "liuyang", "doctor123")
	// Twenty wrong guesses and the right one in one request: refused as a whole, nothing changed.
	var b strings.Builder
	b.WriteString("mutation {")
	for i := range 20 {
		fmt.Fprintf(&b, ` g%d: changePassword(oldPassword: "guess%d", newPassword: "taken-over-1")`, i, i)
	}
	b.WriteString(` right: changePassword(oldPassword: "doctor123", newPassword: "taken-over-1") }`)
	if code, msg := mutationCode(t, liu, b.String(), nil); code != "TOO_MANY_CREDENTIAL_OPERATIONS" || !strings.Contains(msg, "one") {
		t.Errorf("21 changePassword in one request: %s %q, want TOO_MANY_CREDENTIAL_OPERATIONS", code, msg)
	}
	// Any two sign-in or password operations, however spelt: aliases, fragments, mixed kinds.
	anon := *s
	anon.Token = ""
	for _, q := range []string{
		`mutation { a: login(username: "admin", password: "x1") { token } b: login(username: "admin", password: "admin123") { token } }`,
		`mutation { ...F } fragment F on Mutation { a: login(username: "admin", password: "x") { token } ... on Mutation { b: login(username: "admin", password: "admin123") { token } } }`,
	} {
		if code, msg := mutationCode(t, &anon, q, nil); code != "TOO_MANY_CREDENTIAL_OPERATIONS" {
			t.Errorf("two sign-ins in one request: %s %q", code, msg)
		}
	}
	if code, msg := mutationCode(t, liu, `mutation { changePassword(oldPassword: "doctor123", newPassword: "taken-over-1") createAPIToken(name: "x") { token } }`, nil); code != "TOO_MANY_CREDENTIAL_OPERATIONS" {
		t.Errorf("changePassword and createAPIToken in one request: %s %q", code, msg)
	}
	// Nor with changes to records, which run in another transaction: one could not undo the other.
	if code, msg := mutationCode(t, liu, `mutation { changePassword(oldPassword: "doctor123", newPassword: "taken-over-1") createTag(input: {name: "x"}) { id } }`, nil); code != "TOO_MANY_CREDENTIAL_OPERATIONS" {
		t.Errorf("changePassword and createTag in one request: %s %q", code, msg)
	}
	liu = s.As(t, "liuyang", "doctor123") // the password is unchanged

	// One by one, wrong current passwords are throttled like sign-ins: after five, the right one waits.
	for i := range 5 {
		if code, msg := mutationCode(t, liu, `mutation($o: String!) { changePassword(oldPassword: $o, newPassword: "taken-over-1") }`,
			map[string]any{"o": fmt.Sprint("guess", i)}); code != "UNAUTHENTICATED" {
			t.Fatalf("wrong guess %d: %s %q", i+1, code, msg)
		}
	}
	code, msg := mutationCode(t, liu, `mutation { changePassword(oldPassword: "doctor123", newPassword: "taken-over-1") }`, nil)
	if code != "THROTTLED" {
		t.Errorf("the right password after five wrong ones: %s %q, want THROTTLED", code, msg)
	}
	// They count as failed sign-ins of the same user from the same address, too.
	if code, _ := mutationCode(t, &anon, `mutation { login(username: "liuyang", password: "doctor123") { token } }`, nil); code != "THROTTLED" {
		t.Errorf("sign-in after five wrong current passwords: %s, want THROTTLED", code)
	}
}

// tokenWorks reports whether token authenticates a request.
func tokenWorks(t *testing.T, s *apptest.Server, token string) bool {
	t.Helper()
	c := *s
	c.Token = token
	r := c.GraphQL(t, `{ me { id } }`, nil)
	return len(r.Errors) == 0
}

func TestSecurityCredentialsEnd(t *testing.T) {
	s := adminApp(t, "hospital").Start(t, apptest.SQLitePath(t), noTimers)
	admin := s.As(t, "admin", "admin123")
	newToken := func(c *apptest.Server, name string) string {
		t.Helper()
		return str(t, query(t, c, `mutation($n: String!) { createAPIToken(name: $n) { token } }`, map[string]any{"n": name}), "createAPIToken.token")
	}

	// A password change ends the user's other sessions and every API token; the session that made the
	// change goes on.
	here := s.As(t, "liuyang", "doctor123")
	elsewhere := s.As(t, "liuyang", "doctor123")
	token := newToken(here, "ci")
	query(t, here, `mutation { changePassword(oldPassword: "doctor123", newPassword: "changed-456") }`, nil)
	if !tokenWorks(t, s, here.Token) {
		t.Errorf("the session that changed the password ended")
	}
	if tokenWorks(t, s, elsewhere.Token) {
		t.Errorf("another session of the user survived the password change")
	}
	if tokenWorks(t, s, token) {
		t.Errorf("an API token survived the password change")
	}

	// An administrator's reset ends all of them.
	token = newToken(here, "ci 2")
	liuID := str(t, query(t, here, `{ me { id } }`, nil), "me.id")
	query(t, admin, `mutation($id: ID!) { setUserPassword(id: $id, password: "reset-7890") }`, map[string]any{"id": liuID})
	if tokenWorks(t, s, here.Token) || tokenWorks(t, s, token) {
		t.Errorf("after an administrator's reset: session works %t, API token works %t; want neither",
			tokenWorks(t, s, here.Token), tokenWorks(t, s, token))
	}
	if !tokenWorks(t, s, admin.Token) {
		t.Errorf("the administrator's own session ended with the reset of another user")
	}

	// Signing out ends what the request came with: a session, or an API token.
	here = s.As(t, "liuyang", "reset-7890")
	token = newToken(here, "ci 3")
	tokenClient := *s
	tokenClient.Token = token
	if d := query(t, &tokenClient, `mutation { logout }`, nil); at(t, d, "logout") != true {
		t.Errorf("logout with an API token: %s", jsonString(d))
	}
	if tokenWorks(t, s, token) {
		t.Errorf("an API token survived signing out with it")
	}
	query(t, here, `mutation { logout }`, nil)
	if tokenWorks(t, s, here.Token) {
		t.Errorf("a session survived signing out")
	}

	// A token cannot make tokens, nor change or set passwords: that needs an interactive session.
	here = s.As(t, "liuyang", "reset-7890")
	tokenClient.Token = newToken(here, "ci 4")
	for _, q := range []string{
		`mutation { createAPIToken(name: "more") { token } }`,
		`mutation { changePassword(oldPassword: "reset-7890", newPassword: "by-token-1") }`,
	} {
		if code, msg := mutationCode(t, &tokenClient, q, nil); code != "FORBIDDEN" || !strings.Contains(msg, "API token") {
			t.Errorf("%s with an API token: %s %q, want FORBIDDEN saying an API token cannot", q, code, msg)
		}
	}
	adminToken := *s
	adminToken.Token = newToken(admin, "admin ci")
	if code, msg := mutationCode(t, &adminToken, `mutation($id: ID!) { setUserPassword(id: $id, password: "by-token-1") }`, map[string]any{"id": liuID}); code != "FORBIDDEN" {
		t.Errorf("setUserPassword with an API token: %s %q, want FORBIDDEN", code, msg)
	}
	if d := query(t, here, `{ apiTokens { name revokedAt } }`, nil); len(list(t, d, "apiTokens")) != 4 {
		t.Errorf("liuyang's tokens: %s, want the four made in sessions", jsonString(d))
	}
	s.As(t, "liuyang", "reset-7890") // no password was changed by a token
}

// login signs in through /auth/login with extra headers (name, value pairs) and returns the answer.
func authLogin(t *testing.T, s *apptest.Server, username, password string, header ...string) webAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return newWebClient(s).do(t, req)
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSecurityLockoutPerUserAndAddress(t *testing.T) {
	a := adminApp(t, "hospital")
	// Behind a trusted proxy (here: every loopback client), X-Forwarded-For names the client.
	s := a.Start(t, apptest.SQLitePath(t), noTimers, "--trusted-proxy=127.0.0.0/8,::1")
	from := func(ip string) []string { return []string{"X-Forwarded-For", "203.0.113.50, " + ip} }
	for range 5 {
		if r := authLogin(t, s, "liuyang", "wrong", from("198.51.100.7")...); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s", r.status, r.body)
		}
	}
	if r := authLogin(t, s, "liuyang", "doctor123", from("198.51.100.7")...); r.status != http.StatusTooManyRequests {
		t.Errorf("the attacker's address, right password: %d, want 429", r.status)
	}
	// The real user, elsewhere, is not locked out; nor is anyone else at the attacker's address.
	if r := authLogin(t, s, "liuyang", "doctor123", from("198.51.100.8")...); r.status != http.StatusOK {
		t.Errorf("the user from another address: %d %s, want 200", r.status, r.body)
	}
	if r := authLogin(t, s, "chenjing", "doctor123", from("198.51.100.7")...); r.status != http.StatusOK {
		t.Errorf("another user from the attacker's address: %d %s, want 200", r.status, r.body)
	}
	// Spraying one address over many usernames meets the address's own, higher limit.
	var last int
	for i := range 100 {
		last = authLogin(t, s, fmt.Sprint("nobody", i), "x", from("198.51.100.9")...).status
	}
	if r := authLogin(t, s, "chenjing", "doctor123", from("198.51.100.9")...); r.status != http.StatusTooManyRequests || last != http.StatusUnauthorized {
		t.Errorf("after 100 failures over 100 usernames from one address: last failure %d, then a right password %d; want 401, then 429", last, r.status)
	}

	// Without --trusted-proxy the header is the client's own word, and ignored.
	plain := a.Start(t, apptest.SQLitePath(t), noTimers)
	for range 5 {
		authLogin(t, plain, "liuyang", "wrong", "X-Forwarded-For", "198.51.100.7")
	}
	if r := authLogin(t, plain, "liuyang", "doctor123", "X-Forwarded-For", "198.51.100.8"); r.status != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For without a trusted proxy: %d, want 429 (the same address)", r.status)
	}
}

func TestSecuritySecureCookies(t *testing.T) {
	a := adminApp(t, "hospital")
	proxied := a.Start(t, apptest.SQLitePath(t), noTimers, "--trusted-proxy=127.0.0.1/32")
	plain := a.Start(t, apptest.SQLitePath(t), noTimers)
	for _, c := range []struct {
		name   string
		s      *apptest.Server
		header []string
		secure bool
	}{
		{"trusted proxy, https", proxied, []string{"X-Forwarded-Proto", "https"}, true},
		{"trusted proxy, http", proxied, []string{"X-Forwarded-Proto", "http"}, false},
		{"trusted proxy, no header", proxied, nil, false},
		{"no trusted proxy, forged https", plain, []string{"X-Forwarded-Proto", "https"}, false},
	} {
		r := authLogin(t, c.s, "liuyang", "doctor123", c.header...)
		if k := cookieNamed(r.cookies, "crm_session"); k == nil || k.Secure != c.secure {
			t.Errorf("%s: /auth/login's session cookie %+v, want Secure=%t", c.name, k, c.secure)
		}
		w := newWebClient(c.s)
		r = w.postForm(t, "/login", map[string]string{"username": "liuyang", "password": "doctor123", "next": "/"}, c.header...)
		if k := cookieNamed(r.cookies, "crm_session"); k == nil || k.Secure != c.secure {
			t.Errorf("%s: the sign-in page's session cookie %+v, want Secure=%t", c.name, k, c.secure)
		}
		r = w.get(t, "/lang?l=en&next=/", c.header...)
		if k := cookieNamed(r.cookies, "lang"); k == nil || k.Secure != c.secure {
			t.Errorf("%s: the language cookie %+v, want Secure=%t", c.name, k, c.secure)
		}
		r = w.postForm(t, "/logout", nil, c.header...)
		if k := cookieNamed(r.cookies, "crm_session"); k == nil || k.Secure != c.secure {
			t.Errorf("%s: the sign-out's cookie %+v, want Secure=%t", c.name, k, c.secure)
		}
	}
}
