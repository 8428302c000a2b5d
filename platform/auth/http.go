package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Middleware authenticates every request and attaches its [Principal] (see [FromContext]) and its
// [Client] (see [ClientFromContext]) to the request context, then calls next.
//
// The credential is the "Authorization: Bearer <token>" header (a session or API token) or else the
// session cookie. A request without a valid one gets 401 {"error":"sign in required"}, unless public(r)
// is true (public may be nil: nothing is public); a public request proceeds without a principal.
//
// Unsafe requests (POST, PUT, PATCH, DELETE) that do not carry a Bearer header are checked with
// net/http's CrossOriginProtection and refused with 403 when a browser marks them cross-origin: browsers
// attach cookies to cross-site requests, but a cross-site page cannot set an Authorization header without
// a CORS preflight, so Bearer clients are exempt. The check covers cookie-less requests too, which keeps a
// foreign page from signing a browser in to the attacker's account (login CSRF); non-browser clients send
// neither Origin nor Sec-Fetch-Site and pass. [Config.TrustedOrigins] lists origins allowed anyway.
func (s *Service) Middleware(next http.Handler, public func(*http.Request) bool) http.Handler {
	return s.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := WithClient(r.Context(), s.ClientOf(r))
		r = r.WithContext(ctx)
		token, fromCookie := s.credential(r)
		if token != "" {
			p, err := s.Authenticate(ctx, token)
			switch {
			case err == nil:
				r = r.WithContext(WithPrincipal(context.WithValue(ctx, tokenKey, token), p))
			case errors.Is(err, ErrInvalidToken):
				if fromCookie {
					s.ClearSessionCookie(w, r)
				}
			case ctx.Err() != nil:
				return // the client went away (a proxy cancels its request): no one to answer, nothing wrong here
			default:
				slog.ErrorContext(ctx, "authenticate", "err", err)
				writeError(w, http.StatusServiceUnavailable, "authentication unavailable")
				return
			}
		}
		if FromContext(r.Context()) == nil && (public == nil || !public(r)) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeError(w, http.StatusUnauthorized, "sign in required")
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// guard applies the cross-origin check to requests without a Bearer header.
func (s *Service) guard(h http.Handler) http.Handler {
	checked := s.csrf.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := bearer(r); ok {
			h.ServeHTTP(w, r)
			return
		}
		checked.ServeHTTP(w, r)
	})
}

// credential returns the request's token: the Bearer token if there is an Authorization: Bearer header,
// else the session cookie's. Only session tokens are taken from the cookie.
func (s *Service) credential(r *http.Request) (token string, fromCookie bool) {
	if t, ok := bearer(r); ok {
		return t, false
	}
	c, err := r.Cookie(s.cfg.CookieName)
	if err != nil || c.Value == "" {
		return "", false
	}
	if !wellFormed(c.Value, sessionPrefix) {
		return "-", true // present but not a session token: invalid, and cleared
	}
	return c.Value, true
}

// bearer returns the token of an "Authorization: Bearer <token>" header (the scheme is case-insensitive),
// and whether the request has such a header at all.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// SetSessionCookie sends the session token as the session cookie in answer to r: HttpOnly (scripts
// cannot read it), SameSite=Lax, Path=/, expiring with the session's absolute timeout, and Secure when r
// came over HTTPS or [Config.SecureCookies] is set (see [Service.SecureRequest]), so a session begun over
// HTTPS never travels over plain HTTP.
func (s *Service) SetSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cfg.CookieName,
		Value:    token,
		Path:     "/",
		MaxAge:   int(s.cfg.AbsoluteTimeout / time.Second),
		HttpOnly: true,
		Secure:   s.SecureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to drop the session cookie (with the attributes it was set with,
// or a browser may keep it).
func (s *Service) ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cfg.CookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.SecureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// maxLoginBody bounds the body of a sign-in request.
const maxLoginBody = 64 << 10

// LoginHandler signs a user in. It accepts POST with a JSON body {"username": …, "password": …} or a form
// with the same fields. On success it ends the browser's previous session, if any, sets the session cookie
// and answers 200 {"token": …, "user": <Principal>}. Otherwise: 400 for a malformed request, 401
// {"error":"invalid username or password"}, 403 for a disabled account, 429 with a Retry-After header
// (seconds) while locked out. Cross-origin browser requests are refused as in [Service.Middleware].
func (s *Service) LoginHandler() http.Handler {
	return s.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		username, password, ok := readCredentials(w, r)
		if !ok {
			writeError(w, http.StatusBadRequest, "want a username and a password, as JSON or a form")
			return
		}
		ctx := r.Context()
		client := s.ClientOf(r)
		token, p, err := s.Login(ctx, username, password, client.IP, client.UserAgent)
		var throttled *ThrottledError
		switch {
		case errors.As(err, &throttled):
			secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeError(w, http.StatusTooManyRequests, err.Error())
			return
		case errors.Is(err, ErrInvalidCredentials):
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		case errors.Is(err, ErrInactive):
			writeError(w, http.StatusForbidden, err.Error())
			return
		case err != nil:
			slog.ErrorContext(ctx, "sign in", "err", err)
			writeError(w, http.StatusInternalServerError, "sign-in failed")
			return
		}
		if old, _ := s.credential(r); old != "" {
			if err := s.Logout(ctx, old); err != nil {
				slog.ErrorContext(ctx, "end previous session", "err", err)
			}
		}
		s.SetSessionCookie(w, r, token)
		writeJSON(w, http.StatusOK, map[string]any{"token": token, "user": p})
	}))
}

// LogoutHandler ends the credential of the request (its session, from the cookie or a Bearer token, or
// the Bearer API token it came with; see [Service.Logout]), clears the cookie and answers 204. It accepts POST only, so that a link cannot sign anyone out.
func (s *Service) LogoutHandler() http.Handler {
	return s.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		token, _ := s.credential(r)
		if err := s.Logout(r.Context(), token); err != nil {
			slog.ErrorContext(r.Context(), "sign out", "err", err)
			writeError(w, http.StatusInternalServerError, "sign-out failed")
			return
		}
		s.ClearSessionCookie(w, r)
		w.WriteHeader(http.StatusNoContent)
	}))
}

// readCredentials reads username and password from a JSON body or a form.
func readCredentials(w http.ResponseWriter, r *http.Request) (username, password string, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var in struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return "", "", false
		}
		username, password = in.Username, in.Password
	} else {
		if err := r.ParseForm(); err != nil {
			return "", "", false
		}
		username, password = r.PostForm.Get("username"), r.PostForm.Get("password")
	}
	return username, password, username != "" && password != ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
