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
func (s *Service) CheckPassword(ctx context.Context, userID int, password string) error {
	var hash sql.NullString
	err := s.queryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	if !hash.Valid || bcrypt.CompareHashAndPassword([]byte(hash.String), []byte(password)) != nil {
		return ErrInvalidCredentials
	}
	return nil
}

// SetPassword stores a new password for userID and ends the user's sessions (other devices must sign in
// again; API tokens stay).
func (s *Service) SetPassword(ctx context.Context, userID int, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength || len(password) > 72 {
		return ErrWeakPassword
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return s.EndSessions(ctx, userID)
}
