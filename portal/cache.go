package portal

import (
	"sync"
	"time"

	"github.com/casegate/casegate"
)

// readCache keeps recent answers of the reads every signed-in page makes —
// the dashboard and the table of processing times — for a short time, so
// that a person's page loads and API polls do not each cost several
// database queries, and the processing times (the same for everyone, and
// changed only by a recompute) are read once per ttl, not once per page.
//
// What it guarantees across instances sharing one database:
//
//   - Sessions are not cached. Every request reads its session from the
//     store (one lookup by key), so a sign-out or "sign out everywhere" on
//     any instance ends the session on every instance at once.
//   - A cached dashboard is used only while its party's revision, read with
//     the session, is the one it was read at. A contact change moves the
//     revision on in its transaction, so the new contact shows on every
//     instance at once.
//   - A lockout is never read from here: whether a party is locked is
//     decided in the write transaction of each code request and redeem,
//     from the store, so it holds on every instance from its commit.
//   - Everything else a dashboard shows (a status posted, a subscription
//     set, an import) and the processing times show on other instances
//     within ttl; on this instance at once, since its own writes drop what
//     they change.
//
// With ttl 0 nothing is cached.
type readCache struct {
	ttl time.Duration

	mu         sync.Mutex
	dashboards map[int64]cachedDashboard
	pts        []casegate.ProcessingTime // shared: never changed in place
	ptsAt      time.Time                 // zero when none are kept
}

type cachedDashboard struct {
	d        Dashboard
	revision int64 // the party's, when d was read
	at       time.Time
}

// maxCached bounds each map; past it the map starts afresh.
const maxCached = 100_000

// fresh reports whether what was read at is still to be used at now.
func (c *readCache) fresh(at, now time.Time) bool {
	return !at.IsZero() && now.Sub(at) < c.ttl && !now.Before(at)
}

func newReadCache(ttl time.Duration) *readCache {
	return &readCache{ttl: ttl, dashboards: map[int64]cachedDashboard{}}
}

// dashboard is the party's cached dashboard, when it was read within ttl
// of now and at the party's revision.
func (c *readCache) dashboard(partyID, revision int64, now time.Time) (Dashboard, bool) {
	if c.ttl <= 0 {
		return Dashboard{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.dashboards[partyID]
	if !ok || !c.fresh(e.at, now) || e.revision != revision {
		return Dashboard{}, false
	}
	return e.d, true
}

func (c *readCache) putDashboard(partyID, revision int64, d Dashboard, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.dashboards) >= maxCached {
		c.dashboards = map[int64]cachedDashboard{}
	}
	c.dashboards[partyID] = cachedDashboard{d: d, revision: revision, at: now}
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
