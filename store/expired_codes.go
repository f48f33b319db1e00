package store

import (
	"context"
	"fmt"
	"time"
)

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
