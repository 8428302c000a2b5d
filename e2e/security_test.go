package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// Sign-in, sessions, API tokens, throttling and cross-site protection of a generated app, and the
// audit trail, ownership and restore of its records.

func TestSignInSessionsAndTokens(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, admin *apptest.Server) {
		anon := *admin
		anon.Token = ""
		// Without a session nothing but signing in answers.
		if e := mustFail(t, &anon, `{ accounts { totalCount } }`, nil); e.Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("anonymous query: %+v", e)
		}
		if code := get(t, &anon, "/metrics"); code != http.StatusUnauthorized {
			t.Errorf("anonymous /metrics: %d, want 401", code)
		}
		if code := get(t, &anon, "/healthz"); code != http.StatusOK {
			t.Errorf("anonymous /healthz: %d, want 200", code)
		}
		if e := mustFail(t, &anon, `mutation { login(username: "admin", password: "wrong") { token } }`, nil); e.Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("wrong password: %+v", e)
		}
		if e := mustFail(t, &anon, `mutation { login(username: "nobody", password: "wrong") { token } }`, nil); e.Message != "invalid username or password" {
			t.Errorf("unknown user: %+v (must read like a wrong password)", e)
		}
		bob := admin.As(t, "bob", "bob12345")
		if d := query(t, bob, `{ me { username displayName } }`, nil); str(t, d, "me.username") != "bob" {
			t.Errorf("me = %s", jsonString(d))
		}
		// A personal API token works as a Bearer token until it is revoked.
		d := query(t, bob, `mutation { createAPIToken(name: "ci") { token apiToken { id name } } }`, nil)
		tokenClient := *bob
		tokenClient.Token = str(t, d, "createAPIToken.token")
		if !strings.HasPrefix(tokenClient.Token, "crmt_") {
			t.Errorf("API token %q", tokenClient.Token)
		}
		if n := count(t, &tokenClient, "accounts", ""); n != 3 {
			t.Errorf("accounts through the API token: %d", n)
		}
		if d := query(t, bob, `{ apiTokens { id name revokedAt } }`, nil); len(list(t, d, "apiTokens")) != 1 || str(t, d, "apiTokens.0.name") != "ci" {
			t.Errorf("apiTokens = %s", jsonString(d))
		}
		// Another user cannot revoke it.
		if e := mustFail(t, admin, `mutation($id: ID!) { revokeAPIToken(id: $id) }`, map[string]any{"id": str(t, d, "createAPIToken.apiToken.id")}); e.Message == "" {
			t.Errorf("admin revoked bob's token")
		}
		query(t, bob, `mutation($id: ID!) { revokeAPIToken(id: $id) }`, map[string]any{"id": str(t, d, "createAPIToken.apiToken.id")})
		if e := mustFail(t, &tokenClient, `{ accounts { totalCount } }`, nil); e.Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("revoked token: %+v, want UNAUTHENTICATED", e)
		}
		if code := get(t, &tokenClient, "/metrics"); code != http.StatusUnauthorized {
			t.Errorf("revoked token on /metrics: %d, want 401", code)
		}
		// Passwords: the current one is needed to change it; too short is refused; an admin may set one.
		if e := mustFail(t, bob, `mutation { changePassword(oldPassword: "wrong", newPassword: "newpass123") }`, nil); e.Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("change with a wrong old password: %+v", e)
		}
		if e := mustFail(t, bob, `mutation { changePassword(oldPassword: "bob12345", newPassword: "short") }`, nil); e.Extensions["code"] != "VALIDATION" {
			t.Errorf("change to a short password: %+v", e)
		}
		bobID := str(t, query(t, bob, `{ me { id } }`, nil), "me.id")
		query(t, admin, `mutation($id: ID!) { setUserPassword(id: $id, password: "reset-4567") }`, map[string]any{"id": bobID})
		if e := mustFail(t, bob, `{ me { id } }`, nil); e.Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("session after an admin reset the password: %+v, want UNAUTHENTICATED", e)
		}
		bob = admin.As(t, "bob", "reset-4567")
		query(t, bob, `mutation { changePassword(oldPassword: "reset-4567", newPassword: "bob12345") }`, nil)
		bob = admin.As(t, "bob", "bob12345")
		// Signing out ends the session.
		query(t, bob, `mutation { logout }`, nil)
		if e := mustFail(t, bob, `{ me { id } }`, nil); e.Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("signed-out session: %+v, want UNAUTHENTICATED", e)
		}
	})
}

func TestSignInThrottlingAndCrossSite(t *testing.T) {
	a := kitchen(t)
	s := a.Start(t, apptest.SQLitePath(t))
	for i := 0; i < 5; i++ {
		mustFail(t, s, `mutation { login(username: "bob", password: "nope") { token } }`, nil)
	}
	e := mustFail(t, s, `mutation { login(username: "bob", password: "bob12345") { token } }`, nil)
	if e.Extensions["code"] != "THROTTLED" || e.Extensions["retryAfterSeconds"] == nil {
		t.Errorf("sixth attempt, right password: %+v, want THROTTLED with retryAfterSeconds", e)
	}
	// The lockout is of bob at this address only: another user from here signs in (five failures are far
	// below the address's own limit; see TestSecurityLockoutPerUserAndAddress).
	query(t, s, `mutation { login(username: "admin", password: "admin123") { token } }`, nil)
}

func TestCrossSiteWritesRefused(t *testing.T) {
	s := kitchen(t).Start(t, apptest.SQLitePath(t))
	// A browser session (cookie from /auth/login) may not be used by another site's page to write.
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": "admin123"})
	resp, err := http.Post(s.URL+"/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "crm_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax", cookie)
	}
	mutation := `{"query":"mutation { createTag(input: {name: \"csrf\"}) { id } }"}`
	for _, c := range []struct {
		origin, site string
		want         int
	}{
		{"https://evil.example", "cross-site", http.StatusForbidden},
		{s.URL, "same-origin", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(mutation))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Sec-Fetch-Site", c.site)
		req.AddCookie(cookie)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != c.want {
			t.Errorf("cookie POST from %s (%s): %d, want %d", c.origin, c.site, r.StatusCode, c.want)
		}
	}
	admin := s.As(t, "admin", "admin123")
	if n := count(t, admin, "tags", `{name: "csrf"}`); n != 1 {
		t.Errorf("tags named csrf: %d, want exactly the same-origin one", n)
	}
}

func TestAuditTrailOwnershipAndRestore(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, admin *apptest.Server) {
		bob := admin.As(t, "bob", "bob12345")
		vip := tagID(t, admin, "vip")
		// The creator owns what they create.
		d := query(t, bob, `mutation($t: [ID!]) { createAccount(input: {name: "Audited", employees: 5, tagIDs: $t}) { id owner { username } } }`, map[string]any{"t": []string{vip}})
		id := str(t, d, "createAccount.id")
		if str(t, d, "createAccount.owner.username") != "bob" {
			t.Errorf("owner of a new account = %s, want bob", jsonString(d))
		}
		query(t, bob, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "Audited 2", employees: 5, notes: "n"}) { id } }`, map[string]any{"id": id})
		// Ownership is handed over by someone allowed to update the record.
		adminID := str(t, query(t, admin, `{ me { id } }`, nil), "me.id")
		d = query(t, bob, `mutation($id: ID!, $o: ID!) { updateAccount(id: $id, input: {ownerID: $o}) { owner { username } } }`, map[string]any{"id": id, "o": adminID})
		if str(t, d, "updateAccount.owner.username") != "admin" {
			t.Errorf("handover: %s", jsonString(d))
		}
		query(t, admin, `mutation($id: ID!) { deleteAccount(id: $id) }`, map[string]any{"id": id})
		d = query(t, admin, `mutation($id: ID!) { restoreAccount(id: $id) { name deletedAt } }`, map[string]any{"id": id})
		if str(t, d, "restoreAccount.name") != "Audited 2" || at(t, d, "restoreAccount.deletedAt") != nil {
			t.Errorf("restore: %s", jsonString(d))
		}
		h := query(t, admin, `query($id: ID!) { node(id: $id) { ... on Account { history { op username userID changes { field old new } } } } }`, map[string]any{"id": id})
		entries := list(t, h, "node.history")
		var ops []string
		for _, e := range entries {
			ops = append(ops, fmt.Sprint(at(t, e, "op"), ":", at(t, e, "username")))
		}
		if want := "[create:bob update:bob update:bob delete:admin restore:admin]"; fmt.Sprint(ops) != want {
			t.Fatalf("history ops = %v, want %s", ops, want)
		}
		changes := func(i int) map[string]string {
			out := map[string]string{}
			for _, c := range list(t, entries[i], "changes") {
				out[at(t, c, "field").(string)] = jsonString(at(t, c, "old")) + "→" + jsonString(at(t, c, "new"))
			}
			return out
		}
		if c := changes(0); c["name"] != `null→"Audited"` || c["employees"] != "null→5" || !strings.Contains(c["tags"], "added") {
			t.Errorf("create changes: %v", c)
		}
		// Only what changed: employees was sent again with the same value.
		if c := changes(1); len(c) != 2 || c["name"] != `"Audited"→"Audited 2"` || c["notes"] != `null→"n"` {
			t.Errorf("update changes: %v", c)
		}
		if c := changes(2); !strings.Contains(c["owner"], "→") {
			t.Errorf("handover changes: %v", c)
		}
		// A failed update leaves no history entry.
		mustFail(t, admin, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "X"}) { id } }`, map[string]any{"id": id})
		h = query(t, admin, `query($id: ID!) { node(id: $id) { ... on Account { history { op } } } }`, map[string]any{"id": id})
		if n := len(list(t, h, "node.history")); n != 5 {
			t.Errorf("history after a refused update has %d entries, want 5", n)
		}
	})
}

func get(t *testing.T, s *apptest.Server, path string) int {
	t.Helper()
	code, _ := fetchPage(t, s, path, "")
	return code
}
