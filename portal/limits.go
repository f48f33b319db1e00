package portal

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
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
	key       string // the rate key's tag, as stored
	ok        bool
	wait      time.Duration
	remaining int
}

// hit counts one event for key against r in tx. Keys are keyed hashes of what
// the requester submitted, so the database holds no identifiers or addresses.
// A refused event writes the key's time back unchanged: every hit is one
// read and one write, allowed or not, so that no path of a use case does
// less work than another for the limits it counts (see the operations test).
//
// The clock is read again once the key's row is locked: requests that took
// now before waiting for the lock would otherwise be judged against a time
// set by a request that took its now later, and a burst the limit allows
// could be refused.
func (p *Portal) hit(ctx context.Context, tx casegate.Tx, key string, r Rate, now time.Time) (limitResult, error) {
	k := p.keys.Tag("rate", key)
	tat, err := tx.RateTAT(ctx, k)
	if err != nil {
		return limitResult{}, fmt.Errorf("portal: rate %s: %w", key[:min(len(key), 8)], err)
	}
	if locked := p.clock(); locked.After(now) {
		now = locked
	}
	next, ok, wait, remaining := gcra(tat, now, r)
	if !ok {
		next = tat
	}
	if err := tx.SetRateTAT(ctx, k, next); err != nil {
		return limitResult{}, fmt.Errorf("portal: rate: %w", err)
	}
	return limitResult{key: k, ok: ok, wait: wait, remaining: remaining}, nil
}

// publicLimit is a limit on what anyone may ask of the portal, keyed on what
// they submitted. What it refuses is counted per key and window
// (casegate.Refusal), not audited one request at a time, so that a flood of
// refused requests costs constant storage.
type publicLimit struct {
	name   string // as the audit event names it
	prefix string // of the rate key
	perIP  bool   // keyed on the client's address
}

// The public limits of DESIGN §7.
var (
	limitRequestsPerIP         = publicLimit{"requests_per_ip", "req-ip:", true}
	limitRequestsPerIdentifier = publicLimit{"requests_per_identifier", "req-id:", false}
	limitRedeemsPerIP          = publicLimit{"redeems_per_ip", "redeem-ip:", true}
)

// admit counts one request of action against limit l for value (the
// client's address key, or the identifier submitted). It returns the
// rate_limited answer when l refuses it, after counting the refusal.
func (p *Portal) admit(ctx context.Context, tx casegate.Tx, l publicLimit, value string, r Rate, action, clientIP string, now time.Time) (*casegate.Error, error) {
	res, err := p.hit(ctx, tx, l.prefix+value, r, now)
	if err != nil || res.ok {
		return nil, err
	}
	from := now.Truncate(r.Per)
	refusal := casegate.Refusal{
		Key: res.key, Action: action, Limit: l.name,
		From: from, Until: from.Add(r.Per),
	}
	if l.perIP && clientIP != "" {
		refusal.IPHash = p.keys.Tag("ip", clientIP)
	}
	if err := tx.CountRefusal(ctx, refusal); err != nil {
		return nil, fmt.Errorf("portal: count refusal: %w", err)
	}
	return rateLimited(res.wait), nil
}

// FlushRefusals writes one audit event for each limit key and window that
// ended with requests refused, with how many, and forgets the counts. Every
// instance runs it now and then; each count is written once.
func (p *Portal) FlushRefusals(ctx context.Context) (int, error) {
	now := p.clock()
	n := 0
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		rs, err := tx.TakeRefusals(ctx, now)
		if err != nil {
			return err
		}
		n = len(rs)
		for _, r := range rs {
			e := casegate.AuditEvent{
				Actor: "public", Action: r.Action, Target: "limit:" + r.Limit, Outcome: "rate_limited", IPHash: r.IPHash,
				Details: map[string]string{
					"refused": strconv.Itoa(r.Count), "key": r.Key[:min(len(r.Key), 12)],
					"from": r.From.Format(time.RFC3339), "until": r.Until.Format(time.RFC3339),
				},
			}
			if err := p.audit(ctx, tx, now, "", e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("portal: flush refusals: %w", err)
	}
	return n, nil
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
		Msg:        casegate.M("error.rate_limited"),
		RetryAfter: wait.Round(time.Second),
	}
}
