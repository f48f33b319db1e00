package portal

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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

// hit counts one event for key against r in tx, in one statement that
// reads, decides and stores (casegate.RateLimits.HitRate). Keys are keyed
// hashes of what the requester submitted, so the database holds no
// identifiers or addresses. Allowed or refused, a hit is the same one
// statement, so that no path of a use case does less work than another for
// the limits it counts (see the operations test).
//
// The statement judges the event at the later of now, the clock read just
// before it, and the latest time the key was judged at, this last read with
// the row locked: a request that took its now before waiting for the lock
// is never judged earlier than one that took a later now and got the lock
// first, so a burst the limit allows is not refused. The decision is worked
// out again here with gcra from what the statement read, and checked
// against what it stored.
func (p *Portal) hit(ctx context.Context, tx casegate.RateLimits, key rateKey, r Rate, now time.Time) (limitResult, error) {
	k := p.rateTag(key)
	if c := p.clock(); c.After(now) {
		now = c
	}
	h, err := tx.HitRate(ctx, k, now, r.Per/time.Duration(r.N), r.Per)
	if err != nil {
		return limitResult{}, fmt.Errorf("portal: rate %s: %w", key.kind(), err)
	}
	next, ok, wait, remaining := gcra(h.Prev, h.At, r)
	if !ok {
		next = h.Prev
	}
	if next.UnixMicro() != h.TAT.UnixMicro() {
		return limitResult{}, fmt.Errorf("portal: rate %s: the store kept %v, the limit wants %v", key.kind(), h.TAT, next)
	}
	return limitResult{key: k, ok: ok, wait: wait, remaining: remaining}, nil
}

// rateKey names one limit's count before it is tagged. Keys are made only
// by the functions below, one per kind of count, so that every place that
// counts, reads or resets a limit names the same count: a mistyped prefix
// cannot start a new, empty one.
type rateKey struct{ s string }

func partyFailures(partyID int64) rateKey {
	return rateKey{"party-fail:" + strconv.FormatInt(partyID, 10)}
}

// decoyFailures is a decoy challenge's stand-in for partyFailures.
func decoyFailures(challengeID string) rateKey { return rateKey{"decoy-fail:" + challengeID} }

// partySends counts the codes one person is sent, however asked for.
func partySends(partyID int64) rateKey {
	return rateKey{"party-send:" + strconv.FormatInt(partyID, 10)}
}

// decoySends is a decoy challenge's stand-in for partySends.
func decoySends(challengeID string) rateKey { return rateKey{"decoy-send:" + challengeID} }

// contactChanges counts the contact changes a signed-in person starts.
func contactChanges(partyID int64) rateKey {
	return rateKey{"contact:" + strconv.FormatInt(partyID, 10)}
}

// The counts of texts (sms_counts.go).
func smsDestination(dest string) rateKey { return rateKey{"sms-dest:" + dest} }
func smsPrefix(callingCode int, prefix string) rateKey {
	return rateKey{"sms-prefix:" + strconv.Itoa(callingCode) + ":" + prefix}
}
func smsFirstCode(partyID int64) rateKey {
	return rateKey{"sms-first:" + strconv.FormatInt(partyID, 10)}
}
func smsContacts(partyID int64) rateKey {
	return rateKey{"sms-contact:" + strconv.FormatInt(partyID, 10)}
}
func smsShare(name string) rateKey { return rateKey{"sms-share:" + name} }

// kind is the key's prefix, safe to name in an error: it holds nothing submitted.
func (k rateKey) kind() string {
	kind, _, _ := strings.Cut(k.s, ":")
	return kind
}

// rateTag is the key as stored: a keyed hash, so that the database holds no
// identifier, address or number.
func (p *Portal) rateTag(k rateKey) string { return p.keys.Tag("rate", k.s) }

// publicLimit is a limit on what anyone may ask of the portal, keyed on what
// they submitted. What it refuses is counted per key and window
// (casegate.Refusal), not audited one request at a time, so that a flood of
// refused requests costs constant storage.
type publicLimit struct {
	name   string // as the audit event names it
	prefix string // of the rate key
	perIP  bool   // keyed on the client's address
}

// key is l's count for value: the client's address key, or the identifier submitted.
func (l publicLimit) key(value string) rateKey { return rateKey{l.prefix + value} }

// The public limits of DESIGN §7.
var (
	limitRequestsPerIP         = publicLimit{"requests_per_ip", "req-ip:", true}
	limitRequestsPerIdentifier = publicLimit{"requests_per_identifier", "req-id:", false}
	limitRedeemsPerIP          = publicLimit{"redeems_per_ip", "redeem-ip:", true}
)

// admit counts one request of action against limit l for value (the
// client's address key, or the identifier submitted). It returns the
// rate_limited answer when l refuses it, after counting the refusal.
func (p *Portal) admit(ctx context.Context, tx casegate.RateLimits, l publicLimit, value string, r Rate, action, clientIP string, now time.Time) (*casegate.Error, error) {
	res, err := p.hit(ctx, tx, l.key(value), r, now)
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
func (p *Portal) resetLimit(ctx context.Context, tx casegate.RateLimits, key rateKey) error {
	if err := tx.DeleteRate(ctx, p.rateTag(key)); err != nil {
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
