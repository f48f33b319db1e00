package portal

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/casegate/casegate"
)

// lastSeenEvery is how often an instance writes the uses of its sessions to
// the store, for the other instances to judge the idle limit by: a use here
// shows there within about this long. The instance that saw a use judges by
// it at once, so the idle limit holds exactly here, and across instances to
// within this.
const lastSeenEvery = 500 * time.Millisecond

// lastSeenBatch bounds the sessions written in one transaction, so that
// a burst of uses does not hold the SQLite writer long.
const lastSeenBatch = 500

// lastSeen holds the uses this instance has seen and not yet written.
//
// A use stays here until the store has it. So a request that reads the
// use here first, then the store, always meets the use in one of them.
type lastSeen struct {
	mu   sync.Mutex
	uses map[string]seenUse // by token hash
}

type seenUse struct {
	at      time.Time
	partyID int64
}

// touch is one use to write.
type touch struct {
	hash []byte
	at   time.Time
}

func newLastSeen() *lastSeen { return &lastSeen{uses: map[string]seenUse{}} }

// latest returns the last use seen here and not yet written; zero if none.
func (l *lastSeen) latest(hash []byte) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.uses[string(hash)].at
}

// record notes that s was used at at.
func (l *lastSeen) record(s casegate.Session, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, ok := l.uses[string(s.TokenHash)]; !ok || at.After(u.at) {
		l.uses[string(s.TokenHash)] = seenUse{at: at, partyID: s.PartyID}
	}
}

// pending returns every use not yet written.
func (l *lastSeen) pending() []touch {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]touch, 0, len(l.uses))
	for k, u := range l.uses {
		out = append(out, touch{hash: []byte(k), at: u.at})
	}
	return out
}

// written drops the uses that are now in the store, unless a later use came since.
func (l *lastSeen) written(ts []touch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range ts {
		if u, ok := l.uses[string(t.hash)]; ok && u.at.Equal(t.at) {
			delete(l.uses, string(t.hash))
		}
	}
}

// forget drops the uses of a party's sessions, or of the one with hash.
func (l *lastSeen) forget(partyID int64, hash []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if hash != nil {
		delete(l.uses, string(hash))
		return
	}
	for k, u := range l.uses {
		if u.partyID == partyID {
			delete(l.uses, k)
		}
	}
}

// writeLastSeen writes the uses seen here since the last write, one update
// per session however often it was used, in transactions of lastSeenBatch.
// A session signed out since is skipped.
func (p *Portal) writeLastSeen(ctx context.Context) error {
	ts := p.seen.pending()
	for len(ts) > 0 {
		batch := ts[:min(len(ts), lastSeenBatch)]
		ts = ts[len(batch):]
		err := p.store.Update(ctx, func(tx casegate.Tx) error {
			for _, t := range batch {
				if err := tx.TouchSession(ctx, t.hash, t.at); err != nil && !casegate.IsNotFound(err) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("portal: write last-seen: %w", err)
		}
		p.seen.written(batch)
	}
	return nil
}

// RunLastSeenWriter writes the uses of sessions every lastSeenEvery until ctx
// is done, then once more, so that what was seen before a shutdown is kept.
// A write that fails is tried again at the next tick.
func (p *Portal) RunLastSeenWriter(ctx context.Context) {
	tick := time.NewTicker(lastSeenEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := p.writeLastSeen(final); err != nil {
				p.log.Warn("last-seen times not written at shutdown", "err", err)
			}
			return
		case <-tick.C:
			if err := p.writeLastSeen(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("last-seen times not written; trying again", "err", err)
			}
		}
	}
}
