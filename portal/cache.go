package portal

import (
	"sync"
	"time"

	"github.com/casegate/casegate"
)

// readCache keeps recent answers of the reads every signed-in page makes —
// the session, the dashboard and the table of processing times — for a short
// time, so that a person's page loads and API polls do not each cost several
// database queries, and the processing times (the same for everyone, and
// changed only by a recompute) are read once per ttl, not once per page.
//
// Writes made through this portal drop what they change at once. Writes made
// by other instances (and imports run from the command line) show after at
// most ttl: a sign-out elsewhere ends a session here within ttl, a new status
// appears within ttl. With ttl 0 nothing is cached. A cached session whose
// idle limit looks passed is read again (Authenticate), since another
// instance may have used it since: the cache never ends a session early.
type readCache struct {
	ttl time.Duration

	mu         sync.Mutex
	sessions   map[string]cachedSession // by token hash
	dashboards map[int64]cachedDashboard
	pts        []casegate.ProcessingTime // shared: never changed in place
	ptsAt      time.Time                 // zero when none are kept
}

type cachedSession struct {
	s  casegate.Session
	at time.Time
}

type cachedDashboard struct {
	d  Dashboard
	at time.Time
}

// maxCached bounds each map; past it the map starts afresh.
const maxCached = 100_000

// fresh reports whether what was read at is still to be used at now.
func (c *readCache) fresh(at, now time.Time) bool {
	return !at.IsZero() && now.Sub(at) < c.ttl && !now.Before(at)
}

func newReadCache(ttl time.Duration) *readCache {
	return &readCache{ttl: ttl, sessions: map[string]cachedSession{}, dashboards: map[int64]cachedDashboard{}}
}

func (c *readCache) session(hash []byte, now time.Time) (casegate.Session, bool) {
	if c.ttl <= 0 {
		return casegate.Session{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.sessions[string(hash)]
	if !ok || !c.fresh(e.at, now) {
		return casegate.Session{}, false
	}
	return e.s, true
}

func (c *readCache) putSession(s casegate.Session, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sessions) >= maxCached {
		c.sessions = map[string]cachedSession{}
	}
	c.sessions[string(s.TokenHash)] = cachedSession{s: s, at: now}
}

// raiseLastSeen moves the cached session's last-seen up to at, once at is
// in the store: what the cache holds is then never older than the store.
func (c *readCache) raiseLastSeen(hash []byte, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.sessions[string(hash)]; ok && at.After(e.s.LastSeenAt) {
		e.s.LastSeenAt = at
		c.sessions[string(hash)] = e
	}
}

// forgetSessions drops the sessions of a party, or the one with hash.
func (c *readCache) forgetSessions(partyID int64, hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hash != nil {
		delete(c.sessions, string(hash))
		return
	}
	for k, e := range c.sessions {
		if e.s.PartyID == partyID {
			delete(c.sessions, k)
		}
	}
}

func (c *readCache) dashboard(partyID int64, now time.Time) (Dashboard, bool) {
	if c.ttl <= 0 {
		return Dashboard{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.dashboards[partyID]
	if !ok || !c.fresh(e.at, now) {
		return Dashboard{}, false
	}
	return e.d, true
}

func (c *readCache) putDashboard(partyID int64, d Dashboard, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.dashboards) >= maxCached {
		c.dashboards = map[int64]cachedDashboard{}
	}
	c.dashboards[partyID] = cachedDashboard{d: d, at: now}
}

// forgetDashboard drops one party's dashboard; partyID 0 drops them all.
func (c *readCache) forgetDashboard(partyID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if partyID == 0 {
		c.dashboards = map[int64]cachedDashboard{}
		return
	}
	delete(c.dashboards, partyID)
}

func (c *readCache) processingTimes(now time.Time) ([]casegate.ProcessingTime, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fresh(c.ptsAt, now) {
		return nil, false
	}
	return c.pts, true
}

// putProcessingTimes keeps pts, which nobody may change afterwards.
func (c *readCache) putProcessingTimes(pts []casegate.ProcessingTime, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pts, c.ptsAt = pts, now
}

func (c *readCache) forgetProcessingTimes() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pts, c.ptsAt = nil, time.Time{}
}

// ForgetReads drops every cached read: after a change made outside the portal's
// own use cases, such as an import.
func (p *Portal) ForgetReads() {
	p.reads.forgetDashboard(0)
	p.reads.forgetProcessingTimes()
}
