package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/casegate/casegate"
)

// EnqueueClaimed stores d as EnqueueDelivery does, already leased under
// d.Lease, and sets d.ID.
func (t *tx) EnqueueClaimed(ctx context.Context, d *casegate.ClaimedDelivery) error {
	return t.insertDelivery(ctx, &d.Delivery, d.Lease)
}

// ClaimDeliveries leases to owner, until leaseUntil, up to n pending
// deliveries that are due at now and not leased (or whose lease ran out),
// oldest first. On SQLite the IMMEDIATE write transaction keeps two claimers
// apart; on PostgreSQL the dialect's SKIP LOCKED does.
func (t *tx) ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, n int) ([]casegate.ClaimedDelivery, error) {
	if n <= 0 {
		return nil, nil
	}
	// The challenge's state comes with the claim, so the worker need not
	// read each challenge before it sends.
	claimed, err := queryAll(ctx, t, func(row scanner) (casegate.ClaimedDelivery, error) {
		var d casegate.ClaimedDelivery
		err := row.Scan(append(deliveryDests(&d.Delivery), scanString(&d.Lease.Owner), scanTime(&d.Lease.Until),
			scanTime(&d.ChallengeExpiresAt), &d.ChallengeUsed)...)
		return d, err
	},
		`UPDATE deliveries SET lease_owner = ?, lease_until = ?
		 WHERE id IN (
			SELECT id FROM deliveries
			WHERE status = 'pending'
			  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
			  AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY id LIMIT ?`+t.d.skipLocked+`)
		 RETURNING `+deliveryColumns+`, lease_owner, lease_until,
			(SELECT c.expires_at FROM challenges c WHERE c.id = deliveries.challenge_id),
			EXISTS (SELECT 1 FROM challenges c WHERE c.id = deliveries.challenge_id AND c.consumed_at IS NOT NULL)`,
		owner, micros(leaseUntil), micros(now), micros(now), n)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	slices.SortFunc(claimed, func(a, b casegate.ClaimedDelivery) int { return cmp.Compare(a.ID, b.ID) })
	return claimed, nil
}

// FinishDelivery stores the outcome of a send made under d's lease:
// status, attempts, next attempt, last error and sent time. It clears the
// lease and wipes the sealed code unless the delivery stays pending. When the
// lease has passed to another owner nothing changes and the error wraps
// casegate.ErrNotFound.
func (t *tx) FinishDelivery(ctx context.Context, d casegate.ClaimedDelivery) error {
	err := t.execOne(ctx, notFound("delivery %d leased to this owner", d.ID),
		`UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?,
			lease_owner = NULL, lease_until = NULL,
			sealed_code = CASE WHEN ? THEN sealed_code ELSE NULL END
		 WHERE id = ? AND lease_owner = ?`,
		d.Status, d.Attempts, micros(d.NextAttempt), d.LastError, micros(d.SentAt),
		d.Status == casegate.DeliveryPending, d.ID, d.Lease.Owner)
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("store: finish delivery %d: %w", d.ID, err)
	}
	return err
}

// ReleaseLeases hands back the pending deliveries leased to owner, so another
// worker may claim them at once, and says how many it handed back.
func (t *tx) ReleaseLeases(ctx context.Context, owner string) (int, error) {
	res, err := t.exec(ctx,
		`UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
		 WHERE lease_owner = ? AND status = 'pending'`, owner)
	if err != nil {
		return 0, fmt.Errorf("store: release leases: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: release leases: %w", err)
	}
	return int(n), nil
}

// DeliveryLease returns the lease delivery id is held under, or the zero
// Lease when it is not held.
func (t *tx) DeliveryLease(ctx context.Context, id int64) (casegate.Lease, error) {
	var l casegate.Lease
	err := t.queryRow(ctx, `SELECT lease_owner, lease_until FROM deliveries WHERE id = ?`, id).
		Scan(scanString(&l.Owner), scanTime(&l.Until))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Lease{}, notFound("delivery %d", id)
	}
	if err != nil {
		return casegate.Lease{}, fmt.Errorf("store: lease of delivery %d: %w", id, err)
	}
	return l, nil
}
