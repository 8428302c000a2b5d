// Package account gives generated GraphQL resolvers the signed-in user's own operations — sign in, sign
// out, who am I, personal API tokens — over the auth service the request's context carries
// (NewContext; the app gives it to every request).
package account

import (
	"context"
	"errors"

	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
)

type serviceCtxKey struct{}

// NewContext returns ctx carrying s, the auth service the operations of requests in ctx use.
func NewContext(ctx context.Context, s *auth.Service) context.Context {
	return context.WithValue(ctx, serviceCtxKey{}, s)
}

var errNoService = errors.New("account: sign-in is not configured")

func serviceOf(ctx context.Context) (*auth.Service, error) {
	s, _ := ctx.Value(serviceCtxKey{}).(*auth.Service)
	if s == nil {
		return nil, errNoService
	}
	return s, nil
}

// Login signs a user in and returns a session token and the user's id. The client's address (for
// throttling) comes from the request, through auth's middleware.
func Login(ctx context.Context, username, password string) (string, int, error) {
	s, err := serviceOf(ctx)
	if err != nil {
		return "", 0, err
	}
	c := auth.ClientFromContext(ctx)
	token, p, err := s.Login(ctx, username, password, c.IP, c.UserAgent)
	if err != nil {
		return "", 0, err
	}
	return token, p.ID, nil
}

// Logout ends the credential the request was authenticated with: its session, or the API token it came
// with, which is revoked.
func Logout(ctx context.Context) (bool, error) {
	s, err := serviceOf(ctx)
	if err != nil {
		return false, err
	}
	token := auth.TokenFromContext(ctx)
	if token == "" {
		return false, nil
	}
	if err := s.Logout(ctx, token); err != nil {
		return false, err
	}
	return true, nil
}

// Me returns the id of the signed-in user.
func Me(ctx context.Context) (int, bool) {
	p := auth.FromContext(ctx)
	if p == nil {
		return 0, false
	}
	return p.ID, true
}

// CreateAPIToken creates a personal API token for the signed-in user; the plaintext is returned once. It
// needs an interactive session (see [auth.Interactive]): a token cannot make more tokens, which would
// outlive its own revocation.
func CreateAPIToken(ctx context.Context, name string) (string, auth.APIToken, error) {
	s, p, err := interactive(ctx)
	if err != nil {
		return "", auth.APIToken{}, err
	}
	plain, id, err := s.CreateAPIToken(ctx, p.ID, name)
	if err != nil {
		return "", auth.APIToken{}, err
	}
	list, err := s.ListAPITokens(ctx, p.ID)
	if err != nil {
		return "", auth.APIToken{}, err
	}
	for _, t := range list {
		if t.ID == id {
			return plain, t, nil
		}
	}
	return "", auth.APIToken{}, auth.ErrNotFound
}

// RevokeAPIToken revokes one of the signed-in user's tokens.
func RevokeAPIToken(ctx context.Context, id int) (bool, error) {
	s, p, err := signedIn(ctx)
	if err != nil {
		return false, err
	}
	if err := s.RevokeAPIToken(ctx, p.ID, id); err != nil {
		return false, err
	}
	return true, nil
}

// APITokens lists the signed-in user's tokens (never their secrets).
func APITokens(ctx context.Context) ([]auth.APIToken, error) {
	s, p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return s.ListAPITokens(ctx, p.ID)
}

func signedIn(ctx context.Context) (*auth.Service, *auth.Principal, error) {
	s, err := serviceOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, nil, auth.ErrInvalidToken
	}
	return s, p, nil
}

// interactive is signedIn for the operations that mint credentials: they need a session, not an API
// token.
func interactive(ctx context.Context) (*auth.Service, *auth.Principal, error) {
	s, p, err := signedIn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !auth.Interactive(ctx) {
		return nil, nil, auth.ErrInteractiveRequired
	}
	return s, p, nil
}

// ChangePassword changes the signed-in user's password, given the current one, from an interactive
// session. Checking the current password is throttled like a sign-in from the request's address. The
// user's other sessions end and their API tokens are revoked; the session that made the change goes on,
// since whoever holds it has just shown the current password.
func ChangePassword(ctx context.Context, oldPassword, newPassword string) (bool, error) {
	s, p, err := interactive(ctx)
	if err != nil {
		return false, err
	}
	if err := s.CheckPassword(ctx, p.ID, oldPassword, auth.ClientFromContext(ctx).IP); err != nil {
		return false, err
	}
	if err := s.SetPassword(ctx, p.ID, newPassword, auth.TokenFromContext(ctx)); err != nil {
		return false, err
	}
	return true, nil
}

// SetUserPassword sets a user's password, from an interactive session; the caller must be allowed to
// update that user. All of the user's sessions end and their API tokens are revoked, except the caller's
// own session when they set their own password.
func SetUserPassword(ctx context.Context, userID int, password string) (bool, error) {
	s, p, err := interactive(ctx)
	if err != nil {
		return false, err
	}
	rt := enforce.FromContext(ctx)
	if rt == nil {
		return false, errNoService
	}
	if err := rt.CanUpdate(ctx, "User", userID); err != nil {
		return false, err
	}
	keep := ""
	if userID == p.ID {
		keep = auth.TokenFromContext(ctx)
	}
	if err := s.SetPassword(ctx, userID, password, keep); err != nil {
		return false, err
	}
	return true, nil
}
