package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/casegate/casegate"
)

const challengeColumns = `id, party_id, purpose, channel, language, key_id, code_mac, created_at,
	expires_at, attempts, sends, resend_after, consumed_at, new_contact`

func scanChallenge(row scanner) (casegate.Challenge, error) {
	var c casegate.Challenge
	err := row.Scan(&c.ID, scanInt(&c.PartyID), &c.Purpose, &c.Channel, &c.Language, &c.KeyID, &c.CodeMAC,
		scanTime(&c.CreatedAt), scanTime(&c.ExpiresAt), &c.Attempts, &c.Sends,
		scanTime(&c.ResendAfter), scanTime(&c.ConsumedAt), &c.NewContact)
	return c, err
}

// InsertChallenge stores a new challenge; a decoy (PartyID 0) has no party.
func (t *tx) InsertChallenge(ctx context.Context, c casegate.Challenge) error {
	_, err := t.exec(ctx,
		`INSERT INTO challenges (id, party_id, purpose, channel, language, key_id, code_mac, created_at,
			expires_at, attempts, sends, resend_after, consumed_at, new_contact)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, nullInt(c.PartyID), c.Purpose, c.Channel, c.Language, c.KeyID, c.CodeMAC, micros(c.CreatedAt),
		micros(c.ExpiresAt), c.Attempts, c.Sends, micros(c.ResendAfter), micros(c.ConsumedAt), c.NewContact)
	if t.d.isUniqueViolation(err) {
		return conflict("A challenge with this id already exists.")
	}
	if err != nil {
		return fmt.Errorf("store: insert challenge: %w", err)
	}
	return nil
}

// Challenge returns the challenge with id. Inside Update the row stays locked
// until the transaction ends.
func (t *tx) Challenge(ctx context.Context, id string) (casegate.Challenge, error) {
	c, err := scanChallenge(t.queryRow(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE id = ?`+t.lock(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Challenge{}, notFound("challenge")
	}
	if err != nil {
		return casegate.Challenge{}, fmt.Errorf("store: challenge: %w", err)
	}
	return c, nil
}

// CountAttempt adds one attempt in the same statement that reads the
// challenge back, so concurrent attempts are all counted.
func (t *tx) CountAttempt(ctx context.Context, id string) (casegate.Challenge, error) {
	c, err := scanChallenge(t.queryRow(ctx,
		`UPDATE challenges SET attempts = attempts + 1 WHERE id = ? RETURNING `+challengeColumns, id))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Challenge{}, notFound("challenge")
	}
	if err != nil {
		return casegate.Challenge{}, fmt.Errorf("store: count attempt: %w", err)
	}
	return c, nil
}

// ReplaceCode stores a resent code: key id, MAC, expiry, sends and resend time.
func (t *tx) ReplaceCode(ctx context.Context, c casegate.Challenge) error {
	err := t.execOne(ctx, notFound("challenge"),
		`UPDATE challenges SET key_id = ?, code_mac = ?, expires_at = ?, sends = ?, resend_after = ? WHERE id = ?`,
		c.KeyID, c.CodeMAC, micros(c.ExpiresAt), c.Sends, micros(c.ResendAfter), c.ID)
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("store: replace code: %w", err)
	}
	return err
}

// Consume marks the challenge used at now unless it already was. Only the
// call whose UPDATE changed the row wins.
func (t *tx) Consume(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL`, micros(now), id)
	if err != nil {
		return false, fmt.Errorf("store: consume challenge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: consume challenge: %w", err)
	}
	if n == 1 {
		return true, nil
	}
	found, err := t.exists(ctx, `SELECT 1 FROM challenges WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("store: consume challenge: %w", err)
	}
	if !found {
		return false, notFound("challenge")
	}
	return false, nil
}

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
