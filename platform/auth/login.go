package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// maxUsername bounds the username a sign-in looks up and records (the model allows 64 characters).
const maxUsername = 256

// maxPassword is the longest password bcrypt uses; longer ones are refused rather than silently
// truncated (bcrypt.GenerateFromPassword refuses them too, so no stored hash is of a longer one).
const maxPassword = 72

// dummyHash is compared against when the username is unknown or has no password, so a sign-in takes as
// long whether or not the username exists. It has the cost new hashes get (PasswordCost).
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("crmgen: no such user"), PasswordCost())
	if err != nil {
		panic("auth: " + err.Error())
	}
	return h
})

// EnvPasswordCost names the environment variable that sets bcrypt's cost for the hashes an app makes (the
// seed's users, password changes). Unset, it is bcrypt's default, 10 (about 60 ms a hash). Test suites set
// it to 4: they start apps by the hundred, each seeding its users, and sign in thousands of times, which at
// the default cost was minutes of CPU (.ci/run). Never lower it where passwords matter. A stored hash
// keeps the cost it was made with, so changing it affects new hashes only.
const EnvPasswordCost = "CRMGEN_PASSWORD_COST"

// PasswordCost is the bcrypt cost of new hashes: EnvPasswordCost when it is a cost bcrypt accepts (4–31),
// else bcrypt.DefaultCost.
func PasswordCost() int {
	if c, err := strconv.Atoi(os.Getenv(EnvPasswordCost)); err == nil && c >= bcrypt.MinCost && c <= bcrypt.MaxCost {
		return c
	}
	return bcrypt.DefaultCost
}

// HashPassword returns the bcrypt hash of password to store in users.password_hash, at PasswordCost.
// Passwords over 72 bytes are refused, since bcrypt would ignore the rest.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost())
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Login checks a username and password and, when they are right, starts a session and returns its token
// (to send back as a cookie or a Bearer token) and the principal.
//
// It fails with ErrInvalidCredentials for an unknown username and a wrong password alike, taking as long
// in both cases; with a *ThrottledError (errors.Is ErrThrottled) while the pair of username and address,
// or the address, is locked out (see [Config.MaxFailures]), whether or not the password is right; and with
// ErrInactive for a deactivated account whose password was right. ip and userAgent describe the client
// (see [Client]); ip may be empty when unknown, in which case all such clients share one throttle.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (string, *Principal, error) {
	var u *loginUser
	err := s.guess(ctx, username, ip, func() (bool, error) {
		var err error
		if u, err = s.userForLogin(ctx, username); err != nil {
			return false, err
		}
		hash := dummyHash()
		if u != nil && u.hash != "" {
			hash = []byte(u.hash)
		}
		ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
		return ok && u != nil && u.hash != "" && len(password) <= maxPassword, nil
	})
	if err != nil {
		return "", nil, err
	}
	if !u.active {
		return "", nil, ErrInactive
	}
	p, err := s.Principal(ctx, u.id)
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	token := newToken(sessionPrefix)
	_, err = s.exec(ctx, `INSERT INTO crm_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		hashToken(token), u.id, ms(now), ms(now), ms(now.Add(s.cfg.AbsoluteTimeout)), clean(userAgent, 512), clean(ip, 64))
	if err != nil {
		return "", nil, fmt.Errorf("start session: %w", err)
	}
	return token, p, nil
}

// throttleSubjects are the keys a guess at username's password from ip counts against: the pair, and
// the address alone ([Config.MaxFailures] and [Config.MaxAddressFailures]).
func throttleSubjects(username, ip string) [2]string {
	addr := addressKey(ip)
	return [2]string{"pair:" + addr + "|" + clean(username, maxUsername), "ip:" + addr}
}

// guess runs check, one guess at username's password from ip, under the throttle. It returns nil when
// check found the password right, ErrInvalidCredentials when it did not, and a *ThrottledError without
// calling check while the pair or the address is locked out. Sign-ins and password changes share it, so
// guesses through either count against both.
func (s *Service) guess(ctx context.Context, username, ip string, check func() (bool, error)) error {
	now := s.now()
	subjects := throttleSubjects(username, ip)
	limits := [2]int{s.cfg.MaxFailures, s.cfg.MaxAddressFailures}
	if until, err := s.lockedUntil(ctx, subjects[:], now); err != nil {
		return err
	} else if until.After(now) {
		return &ThrottledError{RetryAfter: until.Sub(now)}
	}

	// Record the attempt before checking the password, so that guesses sent in parallel count against
	// each other: of a burst, at most the limit get their password checked.
	ids, err := s.recordAttempt(ctx, subjects, now)
	if err != nil {
		return err
	}
	var counts [2]int
	for i, sub := range subjects {
		until, n, err := s.failures(ctx, sub, now)
		if err != nil {
			s.forgetAttempt(ctx, ids)
			return err
		}
		if until.After(now) { // locked meanwhile
			s.forgetAttempt(ctx, ids)
			return &ThrottledError{RetryAfter: until.Sub(now)}
		}
		if n > limits[i] {
			// Earlier attempts of a burst are still being checked; if they fail, they lock the subject
			// out. This one was no failure: forget it, and ask to come back shortly.
			s.forgetAttempt(ctx, ids)
			return &ThrottledError{RetryAfter: time.Second}
		}
		counts[i] = n
	}

	ok, err := check()
	if err != nil {
		s.forgetAttempt(ctx, ids)
		return err
	}
	if !ok {
		for i, n := range counts {
			if n >= limits[i] {
				if err := s.lock(ctx, subjects[i], now.Add(s.cfg.Lockout)); err != nil {
					return err
				}
			}
		}
		return ErrInvalidCredentials
	}

	// The password was right: this attempt is no failure, and the pair's earlier failures are forgiven.
	// The address's are not, or signing in to one's own account would reset the count of guesses at
	// others'.
	if _, err := s.exec(ctx, `DELETE FROM crm_login_failures WHERE subject = ? OR id = ?`, subjects[0], ids[1]); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	return nil
}

// lockedUntil returns the end of the latest lockout of any of subjects, or the zero time.
func (s *Service) lockedUntil(ctx context.Context, subjects []string, now time.Time) (time.Time, error) {
	var until sql.NullInt64
	err := s.queryRow(ctx, `SELECT MAX(locked_until) FROM crm_login_lockouts WHERE subject IN (?, ?) AND locked_until > ?`,
		subjects[0], subjects[1], ms(now)).Scan(&until)
	if err != nil {
		return time.Time{}, fmt.Errorf("check sign-in lockout: %w", err)
	}
	if !until.Valid {
		return time.Time{}, nil
	}
	return fromMS(until.Int64), nil
}

// recordAttempt writes one failure row per subject and returns their ids.
func (s *Service) recordAttempt(ctx context.Context, subjects [2]string, now time.Time) (ids [2]int64, err error) {
	for i, sub := range subjects {
		err := s.queryRow(ctx, `INSERT INTO crm_login_failures (subject, attempted_at) VALUES (?, ?) RETURNING id`,
			sub, ms(now)).Scan(&ids[i])
		if err != nil {
			return ids, fmt.Errorf("record sign-in attempt: %w", err)
		}
	}
	return ids, nil
}

// failures returns the end of subject's latest lockout (the zero time if none) and the number of its
// failures since, within the failure window. One statement reads both, so it sees either the lockout or
// every failure that led to it: a concurrent attempt cannot slip between the two.
func (s *Service) failures(ctx context.Context, subject string, now time.Time) (until time.Time, n int, err error) {
	var lockedUntil int64
	err = s.queryRow(ctx, `SELECT
			COALESCE((SELECT locked_until FROM crm_login_lockouts WHERE subject = ?), 0),
			(SELECT COUNT(*) FROM crm_login_failures WHERE subject = ? AND attempted_at > ?
				AND attempted_at >= COALESCE((SELECT locked_until FROM crm_login_lockouts WHERE subject = ?), 0))`,
		subject, subject, ms(now.Add(-s.cfg.FailureWindow)), subject).Scan(&lockedUntil, &n)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("count failed sign-ins: %w", err)
	}
	if lockedUntil == 0 {
		return time.Time{}, n, nil
	}
	return fromMS(lockedUntil), n, nil
}

// forgetAttempt deletes the rows of an attempt that was no failure. It is best effort: a row left behind
// only counts as one more failure until the window passes.
func (s *Service) forgetAttempt(ctx context.Context, ids [2]int64) {
	s.exec(context.WithoutCancel(ctx), `DELETE FROM crm_login_failures WHERE id IN (?, ?)`, ids[0], ids[1])
}

// lock locks subject out until the given time. Failures before then no longer count afterwards, so the
// subject gets MaxFailures new attempts once the lockout ends. (The failure rows stay: deleting them
// would let a concurrent attempt that counts after the delete, but checked for a lockout before it was
// written, through.)
func (s *Service) lock(ctx context.Context, subject string, until time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO crm_login_lockouts (subject, locked_until) VALUES (?, ?)
		ON CONFLICT (subject) DO UPDATE SET locked_until = excluded.locked_until`, subject, ms(until))
	if err != nil {
		return fmt.Errorf("lock out %s: %w", strings.SplitN(subject, ":", 2)[0], err)
	}
	return nil
}

// loginUser is what a sign-in needs of a user row.
type loginUser struct {
	id     int
	hash   string
	active bool
}

// userForLogin returns the user named username, or nil when there is none. Usernames that no user can
// have (too long, not UTF-8) are not looked up.
func (s *Service) userForLogin(ctx context.Context, username string) (*loginUser, error) {
	if username == "" || len(username) > maxUsername || !utf8.ValidString(username) || strings.ContainsRune(username, 0) {
		return nil, nil
	}
	var (
		u      loginUser
		hash   sql.NullString
		active sql.NullBool
	)
	err := s.queryRow(ctx, `SELECT id, password_hash, active FROM users WHERE username = ?`, username).
		Scan(&u.id, &hash, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	u.hash = hash.String
	u.active = active.Valid && active.Bool
	return &u, nil
}
