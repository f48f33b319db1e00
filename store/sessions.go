package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/casegate/casegate"
)

// InsertSession stores a new session.
func (t *tx) InsertSession(ctx context.Context, s casegate.Session) error {
	_, err := t.exec(ctx,
		`INSERT INTO sessions (token_hash, party_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		s.TokenHash, s.PartyID, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: insert session: %w", err)
	}
	return nil
}

// Session returns the session whose token hashes to tokenHash.
func (t *tx) Session(ctx context.Context, tokenHash []byte) (casegate.Session, error) {
	var s casegate.Session
	err := t.queryRow(ctx,
		`SELECT token_hash, party_id, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = ?`,
		tokenHash).Scan(&s.TokenHash, &s.PartyID, scanTime(&s.CreatedAt), scanTime(&s.LastSeenAt), scanTime(&s.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Session{}, notFound("session")
	}
	if err != nil {
		return casegate.Session{}, fmt.Errorf("store: session: %w", err)
	}
	return s, nil
}

// TouchSession records that the session was used at at. Instances write
// their uses late and in any order, so an earlier time never replaces a later.
func (t *tx) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	err := t.execOne(ctx, notFound("session"),
		`UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END WHERE token_hash = ?`,
		micros(at), micros(at), tokenHash)
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return err
}

// DeleteSession deletes one session; deleting a missing one is not an error.
func (t *tx) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteSessionsOf deletes every session of a party.
func (t *tx) DeleteSessionsOf(ctx context.Context, partyID int64) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE party_id = ?`, partyID); err != nil {
		return fmt.Errorf("store: delete sessions of party %d: %w", partyID, err)
	}
	return nil
}
