package admin

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/crmgen/crmgen/platform/auth"
)

// loginBody is the data of the sign-in page.
type loginBody struct {
	Username, Next string
}

// loginPage serves the sign-in form. A signed-in visitor goes straight on.
func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if auth.FromContext(r.Context()) != nil {
		redirect(w, r, next)
		return
	}
	f := s.newFrame(r, "")
	f.Title = f.T("sign in")
	f.Body = loginBody{Next: next}
	s.render(w, r, http.StatusOK, "login", f)
}

// login checks the credentials through the session service, as the API's login does (same throttling,
// same messages, which never tell whether a username exists), sets the session cookie and redirects.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !parseForm(w, r) {
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	next := localPath(r.PostForm.Get("next"))
	ctx := r.Context()
	client := s.cfg.Sessions.ClientOf(r)
	token, _, err := s.cfg.Sessions.Login(ctx, username, password, client.IP, client.UserAgent)
	if err != nil {
		f := s.newFrame(r, "")
		f.Title = f.T("sign in")
		f.Body = loginBody{Username: username, Next: next}
		status := http.StatusOK // the sign-in page with its message is the answer (a 401 page logs a console error)
		var throttled *auth.ThrottledError
		switch {
		case errors.As(err, &throttled):
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(throttled.RetryAfter.Seconds())), 1)))
			f.Error = f.T("too many attempts")
		case errors.Is(err, auth.ErrInvalidCredentials):
			f.Error = f.T("invalid username or password")
		case errors.Is(err, auth.ErrInactive):
			status = http.StatusForbidden
			f.Error = f.T("account is disabled")
		default:
			s.cfg.Log.ErrorContext(ctx, "sign in", "err", err)
			status = http.StatusInternalServerError
			f.Error = f.T("sign-in failed")
		}
		s.render(w, r, status, "login", f)
		return
	}
	if old := auth.TokenFromContext(ctx); old != "" {
		if err := s.cfg.Sessions.Logout(ctx, old); err != nil {
			s.cfg.Log.ErrorContext(ctx, "end previous session", "err", err)
		}
	}
	s.cfg.Sessions.SetSessionCookie(w, r, token)
	redirect(w, r, next)
}

// logout ends the session the request came with; a POST, so that no link or image can sign anyone out.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if token := auth.TokenFromContext(r.Context()); token != "" {
		if err := s.cfg.Sessions.Logout(r.Context(), token); err != nil {
			s.cfg.Log.ErrorContext(r.Context(), "sign out", "err", err)
		}
	}
	s.cfg.Sessions.ClearSessionCookie(w, r)
	redirect(w, r, "/login")
}
