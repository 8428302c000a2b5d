package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmgen/crmgen/platform/auth"
)

func TestSessionIdleExpiryAndSlidingRefresh(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		token, _ := e.login("alice", "192.0.2.1")
		// Used every 1h59m, the session outlives its 2h idle timeout many times over.
		for i := range 4 {
			e.clock.Advance(2*time.Hour - time.Minute)
			if _, err := e.svc.Authenticate(ctx, token); err != nil {
				t.Fatalf("use %d after 1h59m idle: %v", i+1, err)
			}
		}
		e.clock.Advance(2 * time.Hour)
		if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("after 2h idle: %v, want ErrInvalidToken", err)
		}
		if n := e.queryInt(`SELECT COUNT(*) FROM crm_sessions`); n != 0 {
			t.Errorf("%d sessions left after the only one expired, want 0", n)
		}
	})
}

func TestSessionLastSeenWrittenAtMostOnceAMinute(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		token, _ := e.login("alice", "192.0.2.1")
		start := e.clock.Now().UnixMilli()
		lastSeen := func() int64 { return e.queryInt(`SELECT last_seen_at FROM crm_sessions`) }
		for range 5 {
			e.clock.Advance(10 * time.Second)
			if _, err := e.svc.Authenticate(ctx, token); err != nil {
				t.Fatal(err)
			}
		}
		if got := lastSeen(); got != start {
			t.Errorf("last_seen_at moved within the first minute: %d, want %d", got, start)
		}
		e.clock.Advance(10 * time.Second) // a minute after sign-in
		if _, err := e.svc.Authenticate(ctx, token); err != nil {
			t.Fatal(err)
		}
		if got, want := lastSeen(), e.clock.Now().UnixMilli(); got != want {
			t.Errorf("last_seen_at after a minute = %d, want %d", got, want)
		}
	})
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		token, _ := e.login("bob", "192.0.2.1")
		for i := range 11 {
			e.clock.Advance(time.Hour)
			if _, err := e.svc.Authenticate(ctx, token); err != nil {
				t.Fatalf("after %dh of steady use: %v", i+1, err)
			}
		}
		e.clock.Advance(time.Hour - time.Millisecond)
		if _, err := e.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("just before 12h: %v", err)
		}
		e.clock.Advance(time.Millisecond)
		if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("at 12h, however active: %v, want ErrInvalidToken", err)
		}
	})
}

func TestLogoutEndsTheSession(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		token, _ := e.login("alice", "192.0.2.1")
		other, _ := e.login("alice", "192.0.2.2")
		if err := e.svc.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("after logout: %v, want ErrInvalidToken", err)
		}
		if _, err := e.svc.Authenticate(ctx, other); err != nil {
			t.Errorf("the user's other session ended too: %v", err)
		}
		for _, tok := range []string{token, "", "garbage", "crms_short"} {
			if err := e.svc.Logout(ctx, tok); err != nil {
				t.Errorf("Logout(%q): %v, want nil", tok, err)
			}
		}
		if err := e.svc.EndSessions(ctx, e.users["alice"]); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, other); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("after EndSessions: %v, want ErrInvalidToken", err)
		}
	})
}

func TestDisabledOrDeletedUserLosesAccess(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		session, _ := e.login("bob", "192.0.2.1")
		api, _, err := e.svc.CreateAPIToken(ctx, e.users["bob"], "cli")
		if err != nil {
			t.Fatal(err)
		}
		e.exec(`UPDATE users SET active = false WHERE username = ?`, "bob")
		for _, tok := range []string{session, api} {
			if _, err := e.svc.Authenticate(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("token of a disabled user: %v, want ErrInvalidToken", err)
			}
		}
		session2, _ := e.login("nora", "192.0.2.1")
		e.exec(`DELETE FROM users WHERE username = ?`, "nora")
		if _, err := e.svc.Authenticate(ctx, session2); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("session of a deleted user: %v, want ErrInvalidToken", err)
		}
	})
}

func TestTokensAreStoredHashed(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		session, _ := e.login("alice", "192.0.2.1")
		api, _, err := e.svc.CreateAPIToken(ctx, e.users["alice"], "ci")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(api, "crmt_") || len(api) != len("crmt_")+43 {
			t.Errorf("API token %q: want crmt_ and 43 base64url characters", api)
		}
		if _, err := e.svc.Authenticate(ctx, api); err != nil { // writes last_used_at
			t.Fatal(err)
		}
		stored := strings.Join(append(e.rows("crm_sessions"), e.rows("crm_api_tokens")...), "\n")
		for _, tok := range []string{session, api} {
			secret := tok[len("crms_"):]
			if strings.Contains(stored, secret[:16]) || strings.Contains(stored, tok) {
				t.Errorf("the database holds token %s in plain text:\n%s", tok, stored)
			}
			sum := sha256.Sum256([]byte(tok))
			if !strings.Contains(stored, "token_hash="+hex.EncodeToString(sum[:])) {
				t.Errorf("no row holds the SHA-256 of token %s:\n%s", tok, stored)
			}
		}
	})
}

func TestAPITokens(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice, bob := e.users["alice"], e.users["bob"]
		created := e.clock.Now()
		token, id, err := e.svc.CreateAPIToken(ctx, alice, "  reporting script ")
		if err != nil {
			t.Fatal(err)
		}
		other, otherID, err := e.svc.CreateAPIToken(ctx, alice, "ci")
		if err != nil {
			t.Fatal(err)
		}
		bobs, _, err := e.svc.CreateAPIToken(ctx, bob, "phone")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		p, err := e.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != alice || p.Username != "alice" {
			t.Errorf("API token authenticates %+v, want alice", p)
		}
		if p, err := e.svc.Authenticate(ctx, bobs); err != nil || p.Username != "bob" {
			t.Errorf("bob's token: %+v, %v", p, err)
		}

		// Bob cannot revoke Alice's token, nor tell it from one that does not exist.
		if err := e.svc.RevokeAPIToken(ctx, bob, id); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("bob revokes alice's token: %v, want ErrNotFound", err)
		}
		if err := e.svc.RevokeAPIToken(ctx, bob, id+1000); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("revoke an unknown token: %v, want ErrNotFound", err)
		}
		if _, err := e.svc.Authenticate(ctx, token); err != nil {
			t.Errorf("alice's token after bob's attempt to revoke it: %v", err)
		}

		e.clock.Advance(time.Minute)
		if err := e.svc.RevokeAPIToken(ctx, alice, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("revoked token: %v, want ErrInvalidToken", err)
		}
		if err := e.svc.RevokeAPIToken(ctx, alice, id); err != nil {
			t.Errorf("revoke again: %v, want nil", err)
		}
		if _, err := e.svc.Authenticate(ctx, other); err != nil {
			t.Errorf("alice's other token: %v", err)
		}

		list, err := e.svc.ListAPITokens(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != id || list[1].ID != otherID {
			t.Fatalf("alice's tokens: %+v, want ids %d and %d", list, id, otherID)
		}
		first := list[0]
		if first.Name != "reporting script" || !first.Created.Equal(created) ||
			!first.LastUsed.Equal(created.Add(time.Hour)) || !first.Revoked.Equal(created.Add(time.Hour+time.Minute)) {
			t.Errorf("revoked token: %+v", first)
		}
		second := list[1]
		if second.Name != "ci" || !second.Revoked.IsZero() || !second.LastUsed.Equal(created.Add(time.Hour+time.Minute)) {
			t.Errorf("live token: %+v", second)
		}
		js, _ := json.Marshal(list)
		for _, tok := range []string{token, other} {
			if strings.Contains(string(js), tok[5:20]) {
				t.Errorf("the list holds a token: %s", js)
			}
		}
		if strings.Contains(string(js), "hash") {
			t.Errorf("the list holds hashes: %s", js)
		}
		if bobsList, _ := e.svc.ListAPITokens(ctx, bob); len(bobsList) != 1 || bobsList[0].Name != "phone" {
			t.Errorf("bob's tokens: %+v", bobsList)
		}

		for _, name := range []string{"", "   ", strings.Repeat("x", 101), "a\x00b"} {
			if _, _, err := e.svc.CreateAPIToken(ctx, alice, name); !errors.Is(err, auth.ErrTokenName) {
				t.Errorf("CreateAPIToken named %q: %v, want ErrTokenName", name, err)
			}
		}
		if _, _, err := e.svc.CreateAPIToken(ctx, e.users["carol"], "x"); !errors.Is(err, auth.ErrInactive) {
			t.Errorf("token for an inactive user: %v, want ErrInactive", err)
		}
		if _, _, err := e.svc.CreateAPIToken(ctx, 99999, "x"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("token for an unknown user: %v, want ErrNotFound", err)
		}
		for _, tok := range []string{"", "crmt_", "crmt_" + strings.Repeat("A", 43), token + "x", "Bearer " + other} {
			if _, err := e.svc.Authenticate(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Authenticate(%q): %v, want ErrInvalidToken", tok, err)
			}
		}
	})
}

func TestPrincipalTeamsIncludeSubteams(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		team := e.teams
		for _, c := range []struct {
			user string
			want *auth.Principal
		}{
			{"alice", &auth.Principal{Username: "alice", DisplayName: "Alice Smith", Roles: []string{"salesManager"},
				Team: team["national"], Teams: sorted(team["national"], team["north"], team["north-east"], team["south"])}},
			{"nora", &auth.Principal{Username: "nora", DisplayName: "Nora", Roles: []string{},
				Team: team["north"], Teams: sorted(team["north"], team["north-east"])}},
			{"bob", &auth.Principal{Username: "bob", DisplayName: "Bob", Roles: []string{"salesperson", "finance"},
				Team: team["north-east"], Teams: []int{team["north-east"]}}},
			{"dave", &auth.Principal{Username: "dave", Roles: []string{}}},
		} {
			c.want.ID = e.users[c.user]
			p, err := e.svc.Principal(ctx, e.users[c.user])
			if err != nil {
				t.Fatalf("%s: %v", c.user, err)
			}
			checkPrincipal(t, p, c.want)
		}
		if _, err := e.svc.Principal(ctx, e.users["carol"]); !errors.Is(err, auth.ErrInactive) {
			t.Errorf("inactive user: %v, want ErrInactive", err)
		}
		if _, err := e.svc.Principal(ctx, 99999); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("unknown user: %v, want ErrNotFound", err)
		}
		// A cycle in the tree (which the app should prevent) cannot hang the query.
		e.exec(`UPDATE teams SET parent_id = ? WHERE id = ?`, team["north-east"], team["national"])
		if p, err := e.svc.Principal(ctx, e.users["bob"]); err != nil || len(p.Teams) != 4 {
			t.Errorf("teams with a cycle: %+v, %v", p, err)
		}
		// Roles that are not a JSON list of names grant nothing: the user cannot act at all.
		e.exec(`UPDATE users SET roles = ? WHERE username = ?`, `{"admin": true}`, "bob")
		if _, err := e.svc.Principal(ctx, e.users["bob"]); err == nil {
			t.Errorf("malformed roles accepted")
		}
	})
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if p := auth.FromContext(ctx); p != nil {
		t.Errorf("FromContext of an empty context = %+v, want nil", p)
	}
	p := &auth.Principal{ID: 3, Username: "x", Roles: []string{"a"}}
	if got := auth.FromContext(auth.WithPrincipal(ctx, p)); got != p {
		t.Errorf("FromContext = %+v, want %+v", got, p)
	}
	if !p.HasRole("a") || p.HasRole("b") || (*auth.Principal)(nil).HasRole("a") {
		t.Errorf("HasRole is wrong")
	}
	c := auth.Client{IP: "192.0.2.1", UserAgent: "ua"}
	if got := auth.ClientFromContext(auth.WithClient(ctx, c)); got != c {
		t.Errorf("ClientFromContext = %+v, want %+v", got, c)
	}
}

func TestMigrateTwiceAndPurge(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		if err := e.svc.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		kept, _ := e.login("alice", "192.0.2.1")
		expired, _ := e.login("bob", "192.0.2.1")
		for range 5 {
			e.fail("dave", "192.0.2.9")
		}
		e.clock.Advance(time.Hour)
		if _, err := e.svc.Authenticate(ctx, kept); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour + 30*time.Minute) // bob idle 2h30m, alice 1h30m; lockout and failures old
		n, err := e.svc.PurgeExpired(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// bob's session, the lockout of dave at 192.0.2.9, and the 10 failure rows (pair and address)
		if n != 12 {
			t.Errorf("purged %d rows, want 12", n)
		}
		if _, err := e.svc.Authenticate(ctx, kept); err != nil {
			t.Errorf("live session purged: %v", err)
		}
		if _, err := e.svc.Authenticate(ctx, expired); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("expired session: %v", err)
		}
	})
}

// Many requests at once on one session and one API token, while the clock moves.
func TestConcurrentAuthentication(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		session, _ := e.login("alice", "192.0.2.1")
		api, _, err := e.svc.CreateAPIToken(ctx, e.users["bob"], "load")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 10 {
					if i == 0 {
						e.clock.Advance(20 * time.Second)
					}
					tok, want := session, "alice"
					if (i+j)%2 == 1 {
						tok, want = api, "bob"
					}
					p, err := e.svc.Authenticate(ctx, tok)
					if err != nil || p.Username != want {
						t.Errorf("authenticate: %+v, %v", p, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}
