package portal

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/casegate/casegate"
)

// gcra applies one event at now to a limit of r.N per r.Per with the generic
// cell rate algorithm. tat is the key's stored theoretical arrival time. It
// returns the time to store, whether the event is allowed, how long to wait when
// it is not, and how many more events the limit allows right now.
func gcra(tat, now time.Time, r Rate) (next time.Time, ok bool, wait time.Duration, remaining int) {
	interval := r.Per / time.Duration(r.N)
	if tat.Before(now) {
		tat = now
	}
	next = tat.Add(interval)
	allowAt := next.Add(-r.Per)
	if allowAt.After(now) {
		return tat, false, allowAt.Sub(now), 0
	}
	return next, true, 0, int(now.Sub(allowAt) / interval)
}

// limitResult is the outcome of counting one event against a limit.
type limitResult struct {
	ok        bool
	wait      time.Duration
	remaining int
}

// hit counts one event for key against r in tx. Keys are keyed hashes of what
// the requester submitted, so the database holds no identifiers or addresses.
func (p *Portal) hit(ctx context.Context, tx casegate.Tx, key string, r Rate, now time.Time) (limitResult, error) {
	k := p.keys.Tag("rate", key)
	tat, err := tx.RateTAT(ctx, k)
	if err != nil {
		return limitResult{}, fmt.Errorf("portal: rate %s: %w", key[:min(len(key), 8)], err)
	}
	next, ok, wait, remaining := gcra(tat, now, r)
	if ok {
		if err := tx.SetRateTAT(ctx, k, next); err != nil {
			return limitResult{}, fmt.Errorf("portal: rate: %w", err)
		}
	}
	return limitResult{ok: ok, wait: wait, remaining: remaining}, nil
}

// resetLimit forgets a key's count.
func (p *Portal) resetLimit(ctx context.Context, tx casegate.Tx, key string) error {
	if err := tx.DeleteRate(ctx, p.keys.Tag("rate", key)); err != nil {
		return fmt.Errorf("portal: reset rate: %w", err)
	}
	return nil
}

// ipKey is what per-IP limits count: an IPv4 address, or the /64 of an IPv6
// address (one subscriber usually holds a whole /64).
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// rateLimited is the one answer for a reached limit.
func rateLimited(wait time.Duration) *casegate.Error {
	if wait < time.Second {
		wait = time.Second
	}
	return &casegate.Error{
		Code:       casegate.ERateLimited,
		Message:    "Too many requests. Please wait and try again.",
		RetryAfter: wait.Round(time.Second),
	}
}
