package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/casegate/casegate"
)

const deliveryColumns = `id, challenge_id, party_id, channel, destination, template, language, params,
	sealed_code, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, created_at, sent_at`

func scanDelivery(row scanner) (casegate.Delivery, error) {
	var d casegate.Delivery
	err := row.Scan(deliveryDests(&d)...)
	return d, err
}

// deliveryDests are where the columns of deliveryColumns go, in order.
func deliveryDests(d *casegate.Delivery) []any {
	return []any{&d.ID, scanString(&d.ChallengeID), scanInt(&d.PartyID), &d.Channel, &d.Destination,
		&d.Template, &d.Language, scanJSON(&d.Params), &d.SealedCode, &d.Status, &d.Attempts,
		scanTime(&d.NextAttempt), scanString(&d.LeaseOwner), scanTime(&d.LeaseUntil), &d.LastError,
		scanTime(&d.CreatedAt), scanTime(&d.SentAt)}
}

// EnqueueDelivery stores a new outbox row and sets d.ID; an empty status is
// pending, and a zero next attempt means at once.
func (t *tx) EnqueueDelivery(ctx context.Context, d *casegate.Delivery) error {
	if d.Status == "" {
		d.Status = casegate.DeliveryPending
	}
	params, err := jsonObject(d.Params)
	if err != nil {
		return fmt.Errorf("store: enqueue delivery: params: %w", err)
	}
	err = t.queryRow(ctx,
		`INSERT INTO deliveries (challenge_id, party_id, channel, destination, template, language, params,
			sealed_code, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, created_at, sent_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullString(d.ChallengeID), nullInt(d.PartyID), d.Channel, d.Destination, d.Template, d.Language, params,
		d.SealedCode, d.Status, d.Attempts, micros(d.NextAttempt), nullString(d.LeaseOwner), micros(d.LeaseUntil),
		d.LastError, micros(d.CreatedAt), micros(d.SentAt)).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("store: enqueue delivery: %w", err)
	}
	return nil
}

// CancelDeliveries cancels the pending deliveries of a challenge and wipes
// their sealed codes.
func (t *tx) CancelDeliveries(ctx context.Context, challengeID string) error {
	_, err := t.exec(ctx,
		`UPDATE deliveries SET status = 'cancelled', sealed_code = NULL, lease_owner = NULL, lease_until = NULL
		 WHERE challenge_id = ? AND status = 'pending'`, challengeID)
	if err != nil {
		return fmt.Errorf("store: cancel deliveries: %w", err)
	}
	return nil
}

// ClaimDeliveries leases to owner, until leaseUntil, up to n pending
// deliveries that are due at now and not leased (or whose lease ran out),
// oldest first. On SQLite the IMMEDIATE write transaction keeps two claimers
// apart; on PostgreSQL the dialect's SKIP LOCKED does.
func (t *tx) ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, n int) ([]casegate.Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	// The challenge's state comes with the claim, so the worker need not
	// read each challenge before it sends.
	claimed, err := queryAll(ctx, t, func(row scanner) (casegate.Delivery, error) {
		var d casegate.Delivery
		err := row.Scan(append(deliveryDests(&d), scanTime(&d.ChallengeExpiresAt), &d.ChallengeUsed)...)
		return d, err
	},
		`UPDATE deliveries SET lease_owner = ?, lease_until = ?
		 WHERE id IN (
			SELECT id FROM deliveries
			WHERE status = 'pending'
			  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
			  AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY id LIMIT ?`+t.d.skipLocked+`)
		 RETURNING `+deliveryColumns+`,
			(SELECT c.expires_at FROM challenges c WHERE c.id = deliveries.challenge_id),
			EXISTS (SELECT 1 FROM challenges c WHERE c.id = deliveries.challenge_id AND c.consumed_at IS NOT NULL)`,
		owner, micros(leaseUntil), micros(now), micros(now), n)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	slices.SortFunc(claimed, func(a, b casegate.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return claimed, nil
}

// FinishDelivery stores the outcome of a send made under owner's lease:
// status, attempts, next attempt, last error and sent time. It clears the
// lease and wipes the sealed code unless the delivery stays pending. When the
// lease has passed to another owner nothing changes and the error wraps
// casegate.ErrNotFound.
func (t *tx) FinishDelivery(ctx context.Context, d casegate.Delivery) error {
	err := t.execOne(ctx, notFound("delivery %d leased to this owner", d.ID),
		`UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?,
			lease_owner = NULL, lease_until = NULL,
			sealed_code = CASE WHEN ? THEN sealed_code ELSE NULL END
		 WHERE id = ? AND lease_owner = ?`,
		d.Status, d.Attempts, micros(d.NextAttempt), d.LastError, micros(d.SentAt),
		d.Status == casegate.DeliveryPending, d.ID, d.LeaseOwner)
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("store: finish delivery %d: %w", d.ID, err)
	}
	return err
}

// Deliveries returns up to limit deliveries with status, newest first; an
// empty status means any, and limit <= 0 means no limit.
func (t *tx) Deliveries(ctx context.Context, status casegate.DeliveryStatus, limit int) ([]casegate.Delivery, error) {
	// Decoys (no party) are never sent and are nobody's business.
	query := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE party_id IS NOT NULL`
	var args []any
	if status != "" {
		query += ` AND status = ?`
		args = append(args, status)
	}
	query += ` ORDER BY id DESC`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	ds, err := queryAll(ctx, t, scanDelivery, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	return ds, nil
}

// ReleaseLeases hands back the pending deliveries leased to owner, so another
// worker may claim them at once.
func (t *tx) ReleaseLeases(ctx context.Context, owner string) error {
	_, err := t.exec(ctx,
		`UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
		 WHERE lease_owner = ? AND status = 'pending'`, owner)
	if err != nil {
		return fmt.Errorf("store: release leases: %w", err)
	}
	return nil
}

// expiredCodesWhere picks the unsent deliveries whose sealed code belongs to
// a challenge that expired at or before a time.
const expiredCodesWhere = `status = 'pending' AND sealed_code IS NOT NULL
	AND EXISTS (SELECT 1 FROM challenges c WHERE c.id = deliveries.challenge_id AND c.expires_at <= ?)`

// HasExpiredCodes reports whether any unsent delivery still holds the sealed
// code of a challenge that expired at or before now.
func (t *tx) HasExpiredCodes(ctx context.Context, now time.Time) (bool, error) {
	ok, err := t.exists(ctx, `SELECT 1 FROM deliveries WHERE `+expiredCodesWhere+` LIMIT 1`, micros(now))
	if err != nil {
		return false, fmt.Errorf("store: expired codes: %w", err)
	}
	return ok, nil
}

// CancelExpiredCodes cancels the unsent deliveries whose challenge expired at
// or before now, wiping their sealed codes, and says how many there were.
func (t *tx) CancelExpiredCodes(ctx context.Context, now time.Time) (int64, error) {
	res, err := t.exec(ctx, `UPDATE deliveries SET status = 'cancelled', sealed_code = NULL, lease_owner = NULL, lease_until = NULL
		WHERE `+expiredCodesWhere, micros(now))
	if err != nil {
		return 0, fmt.Errorf("store: cancel expired codes: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: cancel expired codes: %w", err)
	}
	return n, nil
}
