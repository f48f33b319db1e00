package portal

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/casegate/casegate"
)

// Retention says how long the portal keeps what it stores (the table in
// docs/decisions.md, "Retention"). Purge applies it.
type Retention struct {
	Audit        time.Duration // audit events, from when they happened
	Challenges   time.Duration // code requests, from when they expired
	Sessions     time.Duration // sessions, from when they ended (absolute expiry or idle limit)
	Deliveries   time.Duration // finished messages, from when they were queued
	Destinations time.Duration // the address or number and provider error of a finished message
}

// DefaultRetention keeps the audit log two years, the record of each message
// 90 days and its destination 30 (what a support desk looks back on), and
// code requests and ended sessions a day.
func DefaultRetention() Retention {
	return Retention{
		Audit:        730 * 24 * time.Hour,
		Challenges:   24 * time.Hour,
		Sessions:     24 * time.Hour,
		Deliveries:   90 * 24 * time.Hour,
		Destinations: 30 * 24 * time.Hour,
	}
}

// Validate reports the first retention that makes no sense.
func (r Retention) Validate() error {
	for name, d := range map[string]time.Duration{
		"audit": r.Audit, "challenges": r.Challenges, "sessions": r.Sessions,
		"deliveries": r.Deliveries, "destinations": r.Destinations,
	} {
		if d <= 0 {
			return fmt.Errorf("retention of %s must be positive", name)
		}
	}
	if r.Destinations > r.Deliveries {
		return fmt.Errorf("retention of destinations (%s) is longer than of the deliveries that hold them (%s)", retentionText(r.Destinations), retentionText(r.Deliveries))
	}
	if r.Audit < r.Deliveries {
		return fmt.Errorf("retention of the audit log (%s) is shorter than of deliveries (%s): the record of what happened would go first", retentionText(r.Audit), retentionText(r.Deliveries))
	}
	return nil
}

// retentionText shows a retention as it is set: whole days as "90d", else
// as a duration ("36h0m0s").
func retentionText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

// scrubBand is how far back of the destinations' cutoff a purge after the
// first looks for destinations to scrub.
const scrubBand = 48 * time.Hour

// Purge removes what the retention no longer keeps, in one transaction, and
// records it as one audit event. Audit events older than the retention are
// cut off the start of the chain; a signed checkpoint of the last one cut
// stays as the anchor that the remaining chain is verified from, and the
// purge's own event, appended before the cut, keeps the head newer than it.
func (p *Portal) Purge(ctx context.Context) (casegate.PurgeCounts, int64, error) {
	now := p.clock()
	r := p.retention
	cut := casegate.PurgeCutoffs{
		Challenges:   now.Add(-r.Challenges),
		Sessions:     now.Add(-r.Sessions),
		SessionsIdle: now.Add(-p.limits.SessionIdle - r.Sessions),
		Rates:        now,
		Destinations: now.Add(-r.Destinations),
		Deliveries:   now.Add(-r.Deliveries),
	}
	// After the first purge of this process, which scrubs everything due,
	// each scrubs only the last two days' band, which an hourly purge keeps
	// up with; a process that was down longer catches up when it starts.
	if p.scrubbedOnce.Load() {
		cut.DestinationsFrom = cut.Destinations.Add(-scrubBand)
	}
	var counts casegate.PurgeCounts
	var cutEvents int64
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		// The store's work first, the audit events last: on PostgreSQL the
		// first append takes the chain's lock until the commit, and every
		// audited request on every instance would wait behind the deletes.
		cancelled, err := tx.CancelExpiredCodes(ctx, cut.Challenges)
		if err != nil {
			return err
		}
		if counts, err = tx.Purge(ctx, cut); err != nil {
			return err
		}
		counts.Cancelled = cancelled
		last, err := tx.LastAuditBefore(ctx, now.Add(-r.Audit))
		cutAudit := err == nil
		if err != nil && !casegate.IsNotFound(err) {
			return err
		}
		details := map[string]string{
			"challenges": strconv.FormatInt(counts.Challenges, 10), "decoy_deliveries": strconv.FormatInt(counts.Decoys, 10),
			"cancelled": strconv.FormatInt(counts.Cancelled, 10), "sessions": strconv.FormatInt(counts.Sessions, 10),
			"rate_rows": strconv.FormatInt(counts.Rates, 10), "destinations_scrubbed": strconv.FormatInt(counts.Scrubbed, 10),
			"deliveries": strconv.FormatInt(counts.Deliveries, 10),
		}
		if cutAudit {
			details["audit_through_seq"] = strconv.FormatInt(last.Seq, 10)
		} else if counts == (casegate.PurgeCounts{}) {
			return nil // nothing happened, nothing to record
		}
		if cancelled > 0 {
			if err := p.audit(ctx, tx, now, "", expiredCodesEvent(cancelled, "retention")); err != nil {
				return err
			}
		}
		if err := p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: "system", Action: "data.purge", Target: "retention", Outcome: "ok", Details: details,
		}); err != nil {
			return err
		}
		if !cutAudit {
			return nil
		}
		anchor := casegate.SignCheckpoint(p.keys, casegate.AuditCheckpoint{Seq: last.Seq, Hash: last.Hash, At: now})
		cutEvents, err = tx.CutAudit(ctx, anchor)
		return err
	})
	if err != nil {
		return counts, 0, fmt.Errorf("portal: purge: %w", err)
	}
	p.scrubbedOnce.Store(true)
	return counts, cutEvents, nil
}

// CancelExpiredCodes cancels the messages still waiting to carry a code that
// has expired, wiping the sealed codes, so that none stays sealed in the
// outbox past its expiry for longer than the interval this is run at.
func (p *Portal) CancelExpiredCodes(ctx context.Context) (int64, error) {
	now := p.clock()
	var has bool
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		has, err = tx.HasExpiredCodes(ctx, now)
		return err
	})
	if err != nil || !has {
		return 0, err
	}
	var n int64
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		var err error
		n, err = p.cancelExpiredCodes(ctx, tx, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("portal: cancel expired codes: %w", err)
	}
	return n, nil
}

// cancelExpiredCodes cancels in tx the unsent messages whose code expired
// by now, wiping the sealed codes, and audits it as one event with how
// many.
func (p *Portal) cancelExpiredCodes(ctx context.Context, tx casegate.Tx, now time.Time) (int64, error) {
	n, err := tx.CancelExpiredCodes(ctx, now)
	if err != nil || n == 0 {
		return n, err
	}
	return n, p.audit(ctx, tx, now, "", expiredCodesEvent(n, ""))
}

// expiredCodesEvent is the audit event of n unsent codes cancelled, and
// why when it is not their expiry alone (the purge says "retention"). A
// code replaced by a resend is cancelled under the resend's own event
// (code.resend), so every code that goes unsent has an event saying why.
func expiredCodesEvent(n int64, reason string) casegate.AuditEvent {
	details := map[string]string{"deliveries": strconv.FormatInt(n, 10)}
	if reason != "" {
		details["reason"] = reason
	}
	return casegate.AuditEvent{
		Actor: "system", Action: "delivery.expire", Target: "deliveries", Outcome: "cancelled", Details: details,
	}
}
