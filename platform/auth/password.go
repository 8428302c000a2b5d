package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength is the shortest password SetPassword accepts, in characters.
const MinPasswordLength = 8

// ErrWeakPassword is returned for a password that is too short or too long.
var ErrWeakPassword = errors.New("password must have at least 8 characters and at most 72 bytes")

// CheckPassword reports whether password is userID's current password (ErrInvalidCredentials if not).
// It is a guess like a sign-in, throttled alike and counted with the sign-ins of the same username from
// the same address ip (see [Config.MaxFailures]): a stolen session must not become a way around the
// sign-in throttle.
func (s *Service) CheckPassword(ctx context.Context, userID int, password, ip string) error {
	var (
		username string
		hash     sql.NullString
	)
	err := s.queryRow(ctx, `SELECT username, password_hash FROM users WHERE id = ?`, userID).Scan(&username, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	return s.guess(ctx, username, ip, func() (bool, error) {
		return hash.Valid && len(password) <= maxPassword &&
			bcrypt.CompareHashAndPassword([]byte(hash.String), []byte(password)) == nil, nil
	})
}

// SetPassword stores a new password for userID and, in the same transaction, ends every other way in
// to the account: all its sessions but keep (the session token of whoever changed their own password,
// which goes on; "" keeps none) and all its API tokens, which are revoked. Whoever knew the old password
// or held a token minted with it is out.
func (s *Service) SetPassword(ctx context.Context, userID int, password, keep string) error {
	defer s.creds.forgetUser(userID) // after the commit too: a request between the two reads it anew
	if utf8.RuneCountInString(password) < MinPasswordLength || len(password) > maxPassword {
		return ErrWeakPassword
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE users SET password_hash = ? WHERE id = ?`), hash, userID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set password: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	keepHash := ""
	if wellFormed(keep, sessionPrefix) {
		keepHash = hashToken(keep)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM crm_sessions WHERE user_id = ? AND token_hash <> ?`),
		userID, keepHash); err != nil {
		return fmt.Errorf("set password: end sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE crm_api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`),
		ms(s.now()), userID); err != nil {
		return fmt.Errorf("set password: revoke api tokens: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}
