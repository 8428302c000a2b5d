package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/crmgen/crmgen/platform/auth"
)

// A new password ends every other way in: the user's other sessions and all their API tokens, at once
// and together with the password (one transaction). The session that changed the password goes on.
func TestSetPasswordEndsOtherCredentials(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice := e.users["alice"]
		here, _ := e.login("alice", "192.0.2.1")
		elsewhere, _ := e.login("alice", "192.0.2.2")
		token, _, err := e.svc.CreateAPIToken(ctx, alice, "ci")
		if err != nil {
			t.Fatal(err)
		}
		bobs, _ := e.login("bob", "192.0.2.1")
		if err := e.svc.SetPassword(ctx, alice, "a-new-password", here); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, here); err != nil {
			t.Errorf("the session that changed the password: %v, want it kept", err)
		}
		for name, tok := range map[string]string{"other session": elsewhere, "API token": token} {
			if _, err := e.svc.Authenticate(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("%s after the password change: %v, want ErrInvalidToken", name, err)
			}
		}
		if _, err := e.svc.Authenticate(ctx, bobs); err != nil {
			t.Errorf("another user's session: %v", err)
		}
		if list, _ := e.svc.ListAPITokens(ctx, alice); len(list) != 1 || list[0].Revoked.IsZero() {
			t.Errorf("alice's tokens after the change: %+v, want the one revoked", list)
		}
		if _, _, err := e.svc.Login(ctx, "alice", "a-new-password", "192.0.2.3", ""); err != nil {
			t.Errorf("sign-in with the new password: %v", err)
		}

		// A reset by someone else keeps nothing.
		if err := e.svc.SetPassword(ctx, alice, "reset-by-admin", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, here); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("a session after a reset: %v, want ErrInvalidToken", err)
		}
		// A refused password changes nothing.
		still, _, err := e.svc.Login(ctx, "alice", "reset-by-admin", "192.0.2.4", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetPassword(ctx, alice, "short", ""); !errors.Is(err, auth.ErrWeakPassword) {
			t.Errorf("a short password: %v, want ErrWeakPassword", err)
		}
		if _, err := e.svc.Authenticate(ctx, still); err != nil {
			t.Errorf("a session after a refused password change: %v", err)
		}
		if err := e.svc.SetPassword(ctx, 999999, "long-enough", ""); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("an unknown user: %v, want ErrNotFound", err)
		}
	})
}

// Checking the current password (to change it) is a guess like a sign-in: throttled per username and
// address, and counted together with sign-ins.
func TestCheckPasswordIsThrottled(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		bob := e.users["bob"]
		if err := e.svc.CheckPassword(ctx, bob, "bob-pw", "192.0.2.9"); err != nil {
			t.Fatalf("the right password: %v", err)
		}
		for i := range 3 {
			if err := e.svc.CheckPassword(ctx, bob, "guess", "192.0.2.9"); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("wrong guess %d: %v", i+1, err)
			}
		}
		e.fail("bob", "192.0.2.9")
		e.fail("bob", "192.0.2.9") // five failures: three checks and two sign-ins
		checkThrottled(t, e.svc.CheckPassword(ctx, bob, "bob-pw", "192.0.2.9"), 15*time.Minute)
		_, _, err := e.svc.Login(ctx, "bob", "bob-pw", "192.0.2.9", "")
		checkThrottled(t, err, 15*time.Minute)
		// From elsewhere the user goes on.
		if err := e.svc.CheckPassword(ctx, bob, "bob-pw", "192.0.2.10"); err != nil {
			t.Errorf("the right password from another address: %v", err)
		}
		if err := e.svc.CheckPassword(ctx, 999999, "x", "192.0.2.10"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("an unknown user: %v, want ErrNotFound", err)
		}
	})
}

// Signing out ends the credential the request came with: a session ends, an API token is revoked.
func TestLogoutRevokesAnAPIToken(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		token, id, err := e.svc.CreateAPIToken(ctx, e.users["alice"], "ci")
		if err != nil {
			t.Fatal(err)
		}
		other, _, _ := e.svc.CreateAPIToken(ctx, e.users["alice"], "other")
		if err := e.svc.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("after signing out with an API token: %v, want ErrInvalidToken", err)
		}
		if _, err := e.svc.Authenticate(ctx, other); err != nil {
			t.Errorf("the user's other token: %v", err)
		}
		list, _ := e.svc.ListAPITokens(ctx, e.users["alice"])
		if len(list) != 2 || list[0].ID != id || list[0].Revoked.IsZero() {
			t.Errorf("tokens after signing out with one: %+v", list)
		}
	})
}

func TestInteractive(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		session, _ := e.login("alice", "192.0.2.1")
		api, _, _ := e.svc.CreateAPIToken(ctx, e.users["alice"], "ci")
		for tok, want := range map[string]bool{session: true, api: false, "": false} {
			var got bool
			h := e.svc.Middleware(http200(func(r *http.Request) { got = auth.Interactive(r.Context()) }),
				func(*http.Request) bool { return true })
			e.do(h, request{method: "GET", path: "/", header: map[string]string{"Authorization": "Bearer " + tok}})
			if got != want {
				t.Errorf("Interactive with %.5s…: %t, want %t", tok, got, want)
			}
		}
	})
}
