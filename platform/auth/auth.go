// Package auth signs users in and tells every request who is acting.
//
// It owns the application's credentials: password sign-in against the bcrypt hashes in the users table,
// server-side sessions (cookie or Bearer), personal API tokens, and throttling of failed sign-ins. All of
// its state lives in the database (tables crm_sessions, crm_api_tokens, crm_login_failures and
// crm_login_lockouts, created by [Service.Migrate]), so any number of app instances can share it, and a
// sign-out or a revoked token takes effect everywhere at once.
//
// Secrets are never stored: a session or API token is 32 random bytes, handed to the client once, and the
// database keeps only its SHA-256 hash. Since the token is uniformly random, a fast hash suffices; a
// stolen database cannot be turned back into working tokens.
//
// A request's identity is a [Principal], attached to the context by [Service.Middleware] and read with
// [FromContext] by the permission layer (platform/enforce).
package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"
)

// Principal is the signed-in user a request acts as.
type Principal struct {
	ID          int      `json:"id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"displayName,omitempty"`
	Roles       []string `json:"roles"`
	// Team is the id of the user's team, 0 when the user has none.
	Team int `json:"team,omitempty"`
	// Teams is the user's team and all of its sub-teams (ascending ids), what a "team" scope grants;
	// empty when the user has no team.
	Teams []int `json:"teams,omitempty"`
}

// HasRole reports whether the principal holds the named role (directly; inheritance is the policy's
// business).
func (p *Principal) HasRole(name string) bool {
	if p == nil {
		return false
	}
	for _, r := range p.Roles {
		if r == name {
			return true
		}
	}
	return false
}

type ctxKey int

const (
	principalKey ctxKey = iota
	tokenKey
	clientKey
)

// WithPrincipal returns a copy of ctx in which p acts.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// FromContext returns the principal acting in ctx, or nil when nobody is signed in.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// Client describes where a request comes from; [Service.Login] throttles by IP and records both on the
// session. See [Service.ClientOf].
type Client struct {
	IP        string
	UserAgent string
	// Secure is true when the request came over HTTPS: to this server, or to a trusted proxy that says
	// so. Cookies set in answer to it are marked Secure.
	Secure bool
}

// TokenFromContext returns the session or API token the request was authenticated with ("" if none), so
// a sign-out can end the session it arrived with.
func TokenFromContext(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey).(string)
	return t
}

// Interactive reports whether the request of ctx was authenticated with a session (a browser's cookie, or
// the Bearer token of a login), not with a personal API token. Minting credentials — API tokens,
// passwords — needs one, so that a leaked API token cannot make itself more or longer-lived access.
func Interactive(ctx context.Context) bool {
	return wellFormed(TokenFromContext(ctx), sessionPrefix)
}

// WithClient returns a copy of ctx that carries c. [Service.Middleware] does this for every request, so
// a sign-in that does not see the HTTP request (a GraphQL login mutation) can pass
// ClientFromContext(ctx).IP to [Service.Login].
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// ClientFromContext returns the client that [WithClient] attached, or the zero Client.
func ClientFromContext(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey).(Client)
	return c
}

// Errors of sign-in and authentication. Messages are safe to show to the user: none reveals whether a
// username exists.
var (
	// ErrInvalidCredentials is the answer to an unknown username and to a wrong password alike.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrInactive refuses a deactivated account (only once its password was given correctly).
	ErrInactive = errors.New("account is disabled")
	// ErrThrottled is matched (errors.Is) by every *ThrottledError.
	ErrThrottled = errors.New("too many failed sign-in attempts")
	// ErrInvalidToken is the answer to a missing, malformed, unknown, expired or revoked token.
	ErrInvalidToken = errors.New("invalid or expired token")
	// ErrNotFound reports an API token or user that does not exist (or is not the caller's).
	ErrNotFound = errors.New("not found")
	// ErrInteractiveRequired refuses to mint a credential (an API token, a password) for a request
	// authenticated with an API token.
	ErrInteractiveRequired = errors.New("an API token cannot create API tokens or change passwords: sign in with your password")
	// ErrTokenName refuses an API token name that is empty, too long or not text.
	ErrTokenName = errors.New("name: want 1 to 100 characters of text")
)

// ThrottledError refuses a password check (a sign-in, a password change) while the pair of username and
// client address, or the address, is locked out after too many failures, even when the password is right.
// errors.Is(err, ErrThrottled) holds.
type ThrottledError struct {
	RetryAfter time.Duration // how long the lockout still lasts
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; try again in %v", ErrThrottled, e.RetryAfter.Round(time.Second))
}

// Unwrap makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Config tunes sessions, throttling and cookies. Zero fields take the values of [DefaultConfig].
type Config struct {
	// IdleTimeout ends a session not used for this long. Use is recorded at most once a minute, so a
	// session may end up to a minute early.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in, however active it is.
	AbsoluteTimeout time.Duration
	// MaxFailures failed password checks for one username from one client address within FailureWindow
	// lock that pair out for Lockout: the guesser is slowed, while the user signs in from anywhere else
	// (a lockout per username would let anyone lock anyone out). MaxAddressFailures failures from one
	// address, whatever the usernames, lock the address out, which stops one address from spraying
	// guesses over many accounts; it is much higher, since many users may share an address behind NAT.
	// IPv6 addresses count per /64 network.
	MaxFailures        int
	MaxAddressFailures int
	FailureWindow      time.Duration
	Lockout            time.Duration
	// CookieName names the session cookie.
	CookieName string
	// SecureCookies marks every session cookie Secure (sent over HTTPS only), whatever the request came
	// over. Without it a cookie is Secure when its request came over HTTPS (see [Client].Secure).
	SecureCookies bool
	// TrustedProxies are the networks of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto
	// headers are believed: for a request from one of them, the client is the last address in
	// X-Forwarded-For that is not a trusted proxy, and the request came over HTTPS when the first
	// X-Forwarded-Proto says so. From anyone else these headers are the client's own word and ignored.
	TrustedProxies []netip.Prefix
	// TrustedOrigins are origins ("https://crm.example.com") allowed to send cross-origin, cookie- or
	// un-authenticated unsafe requests; by default none is.
	TrustedOrigins []string
	// ClientIP, when set, returns the IP a request comes from, in place of the host of RemoteAddr or
	// the address TrustedProxies report.
	ClientIP func(r *http.Request) string
	// Now is the clock; time.Now when nil. Tests replace it.
	Now func() time.Time
}

// DefaultConfig returns the defaults: sessions end after 2 hours idle or 12 hours in all; within 15
// minutes, 5 failed password checks of one username from one address lock that pair out, and 100 from one
// address lock the address out, for 15 minutes; the cookie is "crm_session".
func DefaultConfig() Config {
	return Config{
		IdleTimeout:        2 * time.Hour,
		AbsoluteTimeout:    12 * time.Hour,
		MaxFailures:        5,
		MaxAddressFailures: 100,
		FailureWindow:      15 * time.Minute,
		Lockout:            15 * time.Minute,
		CookieName:         "crm_session",
		Now:                time.Now,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.AbsoluteTimeout <= 0 {
		c.AbsoluteTimeout = d.AbsoluteTimeout
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = d.MaxFailures
	}
	if c.MaxAddressFailures <= 0 {
		c.MaxAddressFailures = d.MaxAddressFailures
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = d.FailureWindow
	}
	if c.Lockout <= 0 {
		c.Lockout = d.Lockout
	}
	if c.CookieName == "" {
		c.CookieName = d.CookieName
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}

// Service signs users in and authenticates requests. It is safe for concurrent use.
type Service struct {
	db      *sql.DB
	dialect string
	cfg     Config
	csrf    *http.CrossOriginProtection
	creds   *credentials
}

// Dialects New accepts (the names of entgo.io/ent/dialect).
const (
	SQLite   = "sqlite3"
	Postgres = "postgres"
)

// New returns a service over db, a SQLite ("sqlite3") or Postgres ("postgres") database that holds the
// users and teams tables. Call [Service.Migrate] once before use. New panics on an unknown dialect or an
// invalid trusted origin, which are programming errors.
func New(db *sql.DB, dialect string, cfg Config) *Service {
	if dialect != SQLite && dialect != Postgres {
		panic(fmt.Sprintf("auth: unknown dialect %q (want %q or %q)", dialect, SQLite, Postgres))
	}
	s := &Service{db: db, dialect: dialect, cfg: cfg.withDefaults(), csrf: http.NewCrossOriginProtection(), creds: newCredentials()}
	for _, o := range s.cfg.TrustedOrigins {
		if err := s.csrf.AddTrustedOrigin(o); err != nil {
			panic("auth: " + err.Error())
		}
	}
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	dummyHash() // pay for the dummy hash now, not on the first sign-in of an unknown user
	return s
}

// Config returns the service's configuration, defaults applied.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.cfg.Now() }

// addressKey is the throttling key of a client IP: the address itself, or its /64 network for IPv6,
// since one host commonly holds a whole /64.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return clean(ip, 64)
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}
