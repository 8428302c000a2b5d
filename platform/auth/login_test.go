package auth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/crmgen/crmgen/platform/auth"
)

func TestLogin(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		token, p, err := e.svc.Login(ctx, "alice", "alice-pw", "192.0.2.1", "Mozilla/5.0")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(token, "crms_") || len(token) != len("crms_")+43 {
			t.Errorf("session token %q: want crms_ and 43 base64url characters", token)
		}
		want := &auth.Principal{ID: e.users["alice"], Username: "alice", DisplayName: "Alice Smith",
			Roles: []string{"salesManager"}, Team: e.teams["national"],
			Teams: sorted(e.teams["national"], e.teams["north"], e.teams["north-east"], e.teams["south"])}
		checkPrincipal(t, p, want)
		got, err := e.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatalf("authenticate the new session: %v", err)
		}
		checkPrincipal(t, got, want)
		if ua := e.queryInt(`SELECT COUNT(*) FROM crm_sessions WHERE user_agent = ? AND ip = ?`, "Mozilla/5.0", "192.0.2.1"); ua != 1 {
			t.Errorf("sessions with the client's user agent and ip: %d, want 1", ua)
		}
		token2, _ := e.login("alice", "192.0.2.1")
		if token2 == token {
			t.Errorf("two sign-ins gave the same token")
		}

		// The same error, word for word, whether the user exists or not.
		wrong := e.fail("alice", "192.0.2.2")
		unknown := e.fail("nobody", "192.0.2.3")
		for _, err := range []error{wrong, unknown} {
			if !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Errorf("error %v, want ErrInvalidCredentials", err)
			}
		}
		if wrong.Error() != unknown.Error() {
			t.Errorf("wrong password says %q, unknown user says %q: they must not differ", wrong, unknown)
		}
		for _, c := range []struct{ username, password string }{
			{"", "x"}, {"alice", ""}, {"Alice", "alice-pw"}, {"alice\x00", "alice-pw"}, {"\xff\xfe", "x"},
			{strings.Repeat("a", 1000), "x"},
		} {
			if _, _, err := e.svc.Login(ctx, c.username, c.password, "192.0.2.4", ""); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Errorf("Login(%q, %q): %v, want ErrInvalidCredentials", c.username, c.password, err)
			}
			e.clock.Advance(time.Hour) // stay clear of the throttle
		}
	})
}

// bcrypt only uses a password's first 72 bytes; a longer one must not sign in as the 72-byte one.
func TestLoginRefusesPasswordsBcryptWouldTruncate(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		pw := strings.Repeat("p", 72)
		hash, _ := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		e.exec(`UPDATE users SET password_hash = ? WHERE username = ?`, string(hash), "dave")
		ctx := context.Background()
		if _, _, err := e.svc.Login(ctx, "dave", pw, "192.0.2.1", ""); err != nil {
			t.Fatalf("the 72-byte password: %v", err)
		}
		if _, _, err := e.svc.Login(ctx, "dave", pw+"extra", "192.0.2.1", ""); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("a longer password with the same first 72 bytes: %v, want ErrInvalidCredentials", err)
		}
		if _, err := auth.HashPassword(pw + "x"); err == nil {
			t.Errorf("HashPassword accepted a 73-byte password")
		}
		h, err := auth.HashPassword("s3cret")
		if err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret")) != nil {
			t.Errorf("HashPassword: %q, %v", h, err)
		}
	})
}

func TestLoginInactiveUser(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, _, err := e.svc.Login(ctx, "carol", "carol-pw", "192.0.2.1", ""); !errors.Is(err, auth.ErrInactive) {
			t.Errorf("inactive user, right password: %v, want ErrInactive", err)
		}
		// Without the password nobody learns that the account is disabled.
		if err := e.fail("carol", "192.0.2.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("inactive user, wrong password: %v, want ErrInvalidCredentials", err)
		}
		// A user without a password cannot sign in with any.
		e.exec(`UPDATE users SET password_hash = NULL WHERE username = ?`, "dave")
		if _, _, err := e.svc.Login(ctx, "dave", "", "192.0.2.1", ""); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("user without a password: %v, want ErrInvalidCredentials", err)
		}
	})
}

// Guesses are slowed per pair of username and client address: the attacker's address is locked out of
// the account, the real user elsewhere is not (a lockout per username alone would let anyone lock anyone
// out), and nor is anyone else at the attacker's address.
func TestThrottlePerUsernameAndAddress(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		for i := range 5 {
			if err := e.fail("alice", "198.51.100.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("failure %d: %v, want ErrInvalidCredentials", i+1, err)
			}
			e.clock.Advance(time.Minute)
		}
		_, _, err := e.svc.Login(ctx, "alice", "alice-pw", "198.51.100.1", "")
		checkThrottled(t, err, 15*time.Minute-time.Minute)
		e.login("alice", "198.51.100.2") // the real user, from another address
		e.login("bob", "198.51.100.1")   // another user, from the attacker's address
		// The real user's success elsewhere does not unlock the attacker's address.
		_, _, err = e.svc.Login(ctx, "alice", "alice-pw", "198.51.100.1", "")
		checkThrottled(t, err, 15*time.Minute-time.Minute)

		e.clock.Advance(14*time.Minute - time.Second)
		_, _, err = e.svc.Login(ctx, "alice", "alice-pw", "198.51.100.1", "")
		checkThrottled(t, err, time.Second)
		e.clock.Advance(time.Second)
		e.login("alice", "198.51.100.1")

		// Failures spread over many addresses lock none of them, and never the user.
		for i := range 20 {
			if err := e.fail("nora", fmt.Sprintf("198.51.100.%d", 10+i)); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("failure from address %d: %v, want ErrInvalidCredentials", i, err)
			}
		}
		e.login("nora", "198.51.100.10")
		e.login("nora", "198.51.100.99")

		// After a lockout the count starts again.
		for range 5 {
			e.fail("dave", "198.51.100.40")
		}
		e.clock.Advance(15 * time.Minute)
		for range 4 {
			e.fail("dave", "198.51.100.40")
		}
		e.login("dave", "198.51.100.40")

		// Unknown usernames are throttled alike, so a lockout does not tell them apart.
		for range 5 {
			if _, _, err := e.svc.Login(ctx, "ghost", "x", "198.51.100.20", ""); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("unknown user: %v", err)
			}
		}
		_, _, err = e.svc.Login(ctx, "ghost", "x", "198.51.100.20", "")
		checkThrottled(t, err, 15*time.Minute)
	})
}

// One address guessing at many usernames (password spraying) meets the address's own limit, much
// higher than a pair's, so that many people behind one NAT are not locked out by each other's typos.
func TestThrottlePerAddress(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		if got := e.svc.Config().MaxAddressFailures; got != 100 {
			t.Errorf("default MaxAddressFailures = %d, want 100", got)
		}
		for i := range 99 {
			if err := e.fail(fmt.Sprint("user", i), "203.0.113.9"); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		e.login("bob", "203.0.113.9") // 99 failures: still open
		if err := e.fail("user99", "203.0.113.9"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure 100: %v", err)
		}
		_, _, err := e.svc.Login(ctx, "bob", "bob-pw", "203.0.113.9", "")
		checkThrottled(t, err, 15*time.Minute)
		e.login("bob", "203.0.113.10") // the users themselves are not locked

		e.clock.Advance(15 * time.Minute)
		e.login("bob", "203.0.113.9")
	})
}

// IPv6 counts per /64, whichever address of it a guess comes from: one host commonly holds a whole /64.
func TestThrottlePerIPv6Network(t *testing.T) {
	eachDB(t, func(c *auth.Config) { c.MaxAddressFailures = 10 }, func(t *testing.T, e *env) {
		ctx := context.Background()
		for i := range 10 {
			e.fail(fmt.Sprint("user", i), fmt.Sprintf("2001:db8:1:1::%x", i+1))
		}
		_, _, err := e.svc.Login(ctx, "dave", "dave-pw", "2001:db8:1:1:abcd::1", "")
		checkThrottled(t, err, 15*time.Minute)
		e.login("dave", "2001:db8:1:2::1")
		// The pair counts per /64 too: rotating addresses within it gains nothing.
		for i := range 5 {
			e.fail("nora", fmt.Sprintf("2001:db8:2:2::%x", i+1))
		}
		_, _, err = e.svc.Login(ctx, "nora", "nora-pw", "2001:db8:2:2::99", "")
		checkThrottled(t, err, 15*time.Minute)
	})
}

func TestSuccessClearsOnlyThePairsFailures(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		for range 4 {
			e.fail("alice", "192.0.2.50")
		}
		e.login("alice", "192.0.2.50")
		for range 4 {
			e.fail("alice", "192.0.2.50")
		}
		e.login("alice", "192.0.2.50") // 8 failures in the window, but a success in between

		// An attacker signing in to their own account does not reset the count of their guesses at
		// others', nor the address's.
		for range 4 {
			e.fail("bob", "192.0.2.60")
		}
		e.login("alice", "192.0.2.60")
		e.fail("bob", "192.0.2.60")
		_, _, err := e.svc.Login(ctx, "bob", "bob-pw", "192.0.2.60", "")
		checkThrottled(t, err, 15*time.Minute)

		// Failures age out of the window: four, then a window later five more before the lockout.
		for range 4 {
			e.fail("zed", "192.0.2.70")
		}
		e.clock.Advance(15*time.Minute + time.Second)
		for i := range 5 {
			if err := e.fail("zed", "192.0.2.70"); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("failure %d after the window: %v, want ErrInvalidCredentials", i+1, err)
			}
		}
		_, _, err = e.svc.Login(ctx, "zed", "x", "192.0.2.70", "")
		checkThrottled(t, err, 15*time.Minute)
	})
}

// A burst of parallel guesses gets no more passwords checked than sequential ones would: however the
// attempts interleave, at most MaxFailures wrong passwords are checked before the pair is locked.
// (Attempts in flight count, so a burst may be locked out after fewer.)
func TestConcurrentGuessesAreThrottled(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		var (
			mu               sync.Mutex
			checked, refused int
			wg               sync.WaitGroup
		)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := e.svc.Login(ctx, "bob", "guess", "10.1.0.1", "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, auth.ErrInvalidCredentials):
					checked++
				case errors.Is(err, auth.ErrThrottled):
					refused++
				default:
					t.Errorf("guess: %v", err)
				}
			}()
		}
		wg.Wait()
		if checked > 5 || checked+refused != 20 {
			t.Fatalf("of 20 parallel guesses %d had their password checked and %d were refused; want at most 5 checked", checked, refused)
		}
		// Refused attempts were no failures: what is left of the five may come next, then the lockout.
		locked := false
		for range 10 {
			err := e.fail("bob", "10.1.0.1")
			if errors.Is(err, auth.ErrThrottled) {
				locked = true
				break
			}
			if !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("guess after the burst: %v", err)
			}
			checked++
		}
		if !locked || checked > 5 {
			t.Errorf("%d wrong passwords were checked before the lockout (locked: %v), want at most 5", checked, locked)
		}
		if _, _, err := e.svc.Login(ctx, "bob", "bob-pw", "10.1.0.1", ""); !errors.Is(err, auth.ErrThrottled) {
			t.Errorf("right password after the lockout: %v, want ErrThrottled", err)
		}
	})
}

func checkThrottled(t *testing.T, err error, retryAfter time.Duration) {
	t.Helper()
	var te *auth.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("error %v, want a *ThrottledError", err)
	}
	if te.RetryAfter != retryAfter {
		t.Errorf("RetryAfter = %v, want %v", te.RetryAfter, retryAfter)
	}
}

func checkPrincipal(t *testing.T, got, want *auth.Principal) {
	t.Helper()
	if got == nil {
		t.Fatalf("principal is nil, want %+v", want)
	}
	if got.ID != want.ID || got.Username != want.Username || got.DisplayName != want.DisplayName ||
		!slices.Equal(got.Roles, want.Roles) || got.Team != want.Team || !slices.Equal(got.Teams, want.Teams) {
		t.Errorf("principal = %+v, want %+v", got, want)
	}
}

func sorted(ids ...int) []int {
	slices.Sort(ids)
	return ids
}

// TestPasswordCost checks the cost new hashes get: CRMGEN_PASSWORD_COST when bcrypt accepts it, else
// bcrypt's default; and that a hash of either cost verifies at sign-in's comparison.
func TestPasswordCost(t *testing.T) {
	for _, c := range []struct {
		env  string
		want int
	}{{"", bcrypt.DefaultCost}, {"5", 5}, {"4", bcrypt.MinCost}, {"3", bcrypt.DefaultCost}, {"32", bcrypt.DefaultCost}, {"cheap", bcrypt.DefaultCost}} {
		t.Setenv(auth.EnvPasswordCost, c.env)
		h, err := auth.HashPassword("s3cret!")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := bcrypt.Cost([]byte(h)); err != nil || got != c.want {
			t.Errorf("%s=%q: a new hash has cost %d (%v), want %d", auth.EnvPasswordCost, c.env, got, err, c.want)
		}
		if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret!")) != nil {
			t.Errorf("%s=%q: the hash does not verify", auth.EnvPasswordCost, c.env)
		}
	}
}
