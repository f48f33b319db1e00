package store

import (
	"context"
	"fmt"

	"github.com/casegate/casegate"
)

const deliveryColumns = `id, challenge_id, party_id, channel, destination, template, language, params,
	sealed_code, status, attempts, next_attempt_at, last_error, created_at, sent_at`

func scanDelivery(row scanner) (casegate.Delivery, error) {
	var d casegate.Delivery
	err := row.Scan(deliveryDests(&d)...)
	return d, err
}

// deliveryDests are where the columns of deliveryColumns go, in order.
func deliveryDests(d *casegate.Delivery) []any {
	return []any{&d.ID, scanString(&d.ChallengeID), scanInt(&d.PartyID), &d.Channel, &d.Destination,
		&d.Template, &d.Language, scanJSON(&d.Params), &d.SealedCode, &d.Status, &d.Attempts,
		scanTime(&d.NextAttempt), &d.LastError, scanTime(&d.CreatedAt), scanTime(&d.SentAt)}
}

// EnqueueDelivery stores a new outbox row and sets d.ID; an empty status is
// pending, and a zero next attempt means at once.
func (t *tx) EnqueueDelivery(ctx context.Context, d *casegate.Delivery) error {
	return t.insertDelivery(ctx, d, casegate.Lease{})
}

// insertDelivery stores d under lease, none when it is the zero Lease. A
// row queued leased and one queued to be claimed are one statement, the
// same text: the work of a request does not show whether a worker took it.
func (t *tx) insertDelivery(ctx context.Context, d *casegate.Delivery, lease casegate.Lease) error {
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
		d.SealedCode, d.Status, d.Attempts, micros(d.NextAttempt), nullString(lease.Owner), micros(lease.Until),
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

// CountDeliveries counts the outbox rows in status.
func (t *tx) CountDeliveries(ctx context.Context, status casegate.DeliveryStatus) (int, error) {
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = ?`, string(status)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count deliveries: %w", err)
	}
	return n, nil
}
