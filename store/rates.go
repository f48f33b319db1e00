package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RateTAT returns the theoretical arrival time stored for key, or the zero
// time for a key never seen. Where the dialect locks rows, the key's row stays
// locked until the transaction ends; a new key first gets a row with tat 0
// (read as the zero time), so that two first requests for it take turns too
// instead of both reading zero.
func (t *tx) RateTAT(ctx context.Context, key string) (time.Time, error) {
	var us int64
	var err error
	if t.lock() != "" {
		// One statement makes sure the row exists, locks it and reads it:
		// the no-op update takes the row lock, and under READ COMMITTED it
		// sees the latest committed value. A new key reads 0.
		err = t.queryRow(ctx, `INSERT INTO rate_limits (rate_key, tat) VALUES (?, 0)
			ON CONFLICT (rate_key) DO UPDATE SET tat = rate_limits.tat RETURNING tat`, key).Scan(&us)
	} else {
		err = t.queryRow(ctx, `SELECT tat FROM rate_limits WHERE rate_key = ?`, key).Scan(&us)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && us == 0:
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("store: rate: %w", err)
	}
	return time.UnixMicro(us).UTC(), nil
}

// SetRateTAT stores the theoretical arrival time of key.
func (t *tx) SetRateTAT(ctx context.Context, key string, tat time.Time) error {
	_, err := t.exec(ctx,
		`INSERT INTO rate_limits (rate_key, tat) VALUES (?, ?)
		 ON CONFLICT (rate_key) DO UPDATE SET tat = excluded.tat`, key, micros(tat))
	if err != nil {
		return fmt.Errorf("store: set rate: %w", err)
	}
	return nil
}

// DeleteRate forgets key.
func (t *tx) DeleteRate(ctx context.Context, key string) error {
	if _, err := t.exec(ctx, `DELETE FROM rate_limits WHERE rate_key = ?`, key); err != nil {
		return fmt.Errorf("store: delete rate: %w", err)
	}
	return nil
}
