package auth

import (
	"sync"
	"time"
)

// CacheTTL is how long an instance trusts what it last read of a credential (its session or token, and
// its user's roles and teams) without reading it again. Within an instance the cache is invalidated at
// once — on sign-out, a new password, a revoked token, and a change of the user or of teams
// (ForgetUser, ForgetAll) — so TTL bounds only how late another instance of the app notices such a
// change made elsewhere. Two statements per request (the session and the user) become none.
const CacheTTL = 2 * time.Second

// credentials caches authenticated credentials by token hash.
type credentials struct {
	mu     sync.Mutex
	byHash map[string]*credential
	byUser map[int]map[string]bool
}

type credential struct {
	p       *Principal
	until   time.Time // the cache's trust ends
	touched int64     // last_seen_at / last_used_at as the database had it (ms)
}

func newCredentials() *credentials {
	return &credentials{byHash: map[string]*credential{}, byUser: map[int]map[string]bool{}}
}

// get returns the cached credential of hash, if it is still trusted at now.
func (c *credentials) get(hash string, now time.Time) (*credential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byHash[hash]
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e, true
}

func (c *credentials) put(hash string, e *credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byHash) > 100000 { // a bound, not a policy: entries expire in seconds anyway
		c.byHash, c.byUser = map[string]*credential{}, map[int]map[string]bool{}
	}
	c.byHash[hash] = e
	if c.byUser[e.p.ID] == nil {
		c.byUser[e.p.ID] = map[string]bool{}
	}
	c.byUser[e.p.ID][hash] = true
}

// forget drops the credential of hash.
func (c *credentials) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byHash[hash]; ok {
		delete(c.byUser[e.p.ID], hash)
		delete(c.byHash, hash)
	}
}

// forgetUser drops every credential of the user.
func (c *credentials) forgetUser(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.byUser[id] {
		delete(c.byHash, h)
	}
	delete(c.byUser, id)
}

func (c *credentials) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byHash, c.byUser = map[string]*credential{}, map[int]map[string]bool{}
}

// ForgetUser makes this instance read the user's credentials and principal again: the app calls it when
// the user's record changes (roles, team, activity), as sign-out and new passwords do themselves.
func (s *Service) ForgetUser(id int) { s.creds.forgetUser(id) }

// ForgetAll makes this instance read every credential again: the app calls it when teams change (a
// principal carries its team's sub-teams).
func (s *Service) ForgetAll() { s.creds.forgetAll() }
