package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// touchInterval is how stale a session's last_seen_at or a token's last_used_at may get before a request
// writes it again: at most one write a minute per session instead of one per request.
const touchInterval = time.Minute

// Authenticate returns the principal of a session token (from [Service.Login]) or an API token (from
// [Service.CreateAPIToken]). A session must be within its idle and absolute timeouts, an API token must not
// be revoked, and the user must still exist and be active; otherwise the error is ErrInvalidToken. Other
// errors are database failures.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	switch {
	case wellFormed(token, sessionPrefix):
		return s.authenticateSession(ctx, token)
	case wellFormed(token, apiPrefix):
		return s.authenticateAPIToken(ctx, token)
	}
	return nil, ErrInvalidToken
}

func (s *Service) authenticateSession(ctx context.Context, token string) (*Principal, error) {
	h := hashToken(token)
	now := s.now()
	if c, ok := s.creds.get(h, now); ok && ms(now)-c.touched < touchInterval.Milliseconds() {
		return c.p, nil
	}
	var userID, lastSeen, expires int64
	err := s.queryRow(ctx, `SELECT user_id, last_seen_at, expires_at FROM crm_sessions WHERE token_hash = ?`, h).
		Scan(&userID, &lastSeen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	nowMS := ms(now)
	if nowMS >= expires || nowMS-lastSeen >= s.cfg.IdleTimeout.Milliseconds() {
		s.creds.forget(h)
		s.exec(context.WithoutCancel(ctx), `DELETE FROM crm_sessions WHERE token_hash = ?`, h)
		return nil, ErrInvalidToken
	}
	p, err := s.Principal(ctx, int(userID))
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInactive) {
		s.creds.forget(h)
		s.exec(context.WithoutCancel(ctx), `DELETE FROM crm_sessions WHERE token_hash = ?`, h)
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if nowMS-lastSeen >= touchInterval.Milliseconds() {
		// The condition keeps concurrent requests (on any instance) from moving last_seen_at back.
		_, err := s.exec(ctx, `UPDATE crm_sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?`, nowMS, h, nowMS)
		if err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		lastSeen = nowMS
	}
	// Trusted until the cache's TTL, and never past the session's own end.
	until := min(now.Add(CacheTTL).UnixMilli(), expires, lastSeen+s.cfg.IdleTimeout.Milliseconds())
	s.creds.put(h, &credential{p: p, until: time.UnixMilli(until), touched: lastSeen})
	return p, nil
}

func (s *Service) authenticateAPIToken(ctx context.Context, token string) (*Principal, error) {
	h := hashToken(token)
	now := s.now()
	if c, ok := s.creds.get(h, now); ok && ms(now)-c.touched < touchInterval.Milliseconds() {
		return c.p, nil
	}
	var (
		id, userID        int64
		lastUsed, revoked sql.NullInt64
	)
	err := s.queryRow(ctx, `SELECT id, user_id, last_used_at, revoked_at FROM crm_api_tokens WHERE token_hash = ?`,
		h).Scan(&id, &userID, &lastUsed, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if revoked.Valid {
		return nil, ErrInvalidToken
	}
	p, err := s.Principal(ctx, int(userID))
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInactive) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	nowMS := ms(now)
	touched := lastUsed.Int64
	if !lastUsed.Valid || nowMS-lastUsed.Int64 >= touchInterval.Milliseconds() {
		_, err := s.exec(ctx, `UPDATE crm_api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
			nowMS, id, nowMS)
		if err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		touched = nowMS
	}
	s.creds.put(h, &credential{p: p, until: now.Add(CacheTTL), touched: touched})
	return p, nil
}

// Logout ends the credential token, on every instance: a session ends, and an API token is revoked, as
// signing out with it means. Ending an unknown or already ended credential is no error.
func (s *Service) Logout(ctx context.Context, token string) error {
	s.creds.forget(hashToken(token))
	var err error
	switch {
	case wellFormed(token, sessionPrefix):
		_, err = s.exec(ctx, `DELETE FROM crm_sessions WHERE token_hash = ?`, hashToken(token))
	case wellFormed(token, apiPrefix):
		_, err = s.exec(ctx, `UPDATE crm_api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE token_hash = ?`,
			ms(s.now()), hashToken(token))
	}
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// EndSessions ends every session of a user, on every instance: call it when an account is disabled or
// deleted ([Service.SetPassword] ends them itself). API tokens stay (a disabled user's are refused while
// disabled).
func (s *Service) EndSessions(ctx context.Context, userID int) error {
	s.creds.forgetUser(userID)
	if _, err := s.exec(ctx, `DELETE FROM crm_sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return nil
}

// APIToken describes a personal API token. Its secret is shown once, by [Service.CreateAPIToken], and
// never stored.
type APIToken struct {
	ID       int       `json:"id"`
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"lastUsed,omitzero"` // zero: never used
	Revoked  time.Time `json:"revoked,omitzero"`  // zero: still valid
}

// maxTokenName bounds the name of an API token, in characters.
const maxTokenName = 100

// CreateAPIToken creates a personal API token for an active user, named so the user can tell tokens
// apart, and returns its plaintext (to show once; send it as "Authorization: Bearer <token>") and id.
func (s *Service) CreateAPIToken(ctx context.Context, userID int, name string) (plaintext string, id int, err error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxTokenName || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return "", 0, ErrTokenName
	}
	if _, err := s.Principal(ctx, userID); err != nil {
		return "", 0, fmt.Errorf("create api token: %w", err)
	}
	token := newToken(apiPrefix)
	err = s.queryRow(ctx, `INSERT INTO crm_api_tokens (token_hash, user_id, name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		hashToken(token), userID, name, ms(s.now())).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("create api token: %w", err)
	}
	return token, id, nil
}

// RevokeAPIToken revokes the user's API token id at once, on every instance. A token id that does not
// exist or belongs to someone else is ErrNotFound; revoking a revoked token again is no error.
func (s *Service) RevokeAPIToken(ctx context.Context, userID, id int) error {
	s.creds.forgetUser(userID)
	res, err := s.exec(ctx, `UPDATE crm_api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND user_id = ?`,
		ms(s.now()), id, userID)
	if err != nil {
		return fmt.Errorf("revoke api token %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke api token %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("api token %d: %w", id, ErrNotFound)
	}
	return nil
}

// ListAPITokens returns the user's API tokens, revoked ones included, oldest first.
func (s *Service) ListAPITokens(ctx context.Context, userID int) ([]APIToken, error) {
	rows, err := s.query(ctx, `SELECT id, name, created_at, last_used_at, revoked_at FROM crm_api_tokens
		WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var (
			t                 APIToken
			created           int64
			lastUsed, revoked sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.Name, &created, &lastUsed, &revoked); err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		t.Created = fromMS(created)
		if lastUsed.Valid {
			t.LastUsed = fromMS(lastUsed.Int64)
		}
		if revoked.Valid {
			t.Revoked = fromMS(revoked.Int64)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}
