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
