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

// sessionQuery reads the session whose token hashes to ?, with its party's revision.
const sessionQuery = `SELECT s.token_hash, s.party_id, s.created_at, s.last_seen_at, s.expires_at, p.revision
	FROM sessions s JOIN parties p ON p.id = s.party_id WHERE s.token_hash = ?`

// scanSession reads a row of sessionQuery: ErrNotFound for none, other
// errors as they came, for the caller to wrap.
func scanSession(row scanner) (casegate.Session, error) {
	var s casegate.Session
	err := row.Scan(&s.TokenHash, &s.PartyID, scanTime(&s.CreatedAt), scanTime(&s.LastSeenAt), scanTime(&s.ExpiresAt), &s.PartyRevision)
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Session{}, notFound("session")
	}
	return s, err
}

// Session returns the session whose token hashes to tokenHash, with its
// party's revision.
func (t *tx) Session(ctx context.Context, tokenHash []byte) (casegate.Session, error) {
	s, err := scanSession(t.queryRow(ctx, sessionQuery, tokenHash))
	if err != nil && !casegate.IsNotFound(err) {
		return s, fmt.Errorf("store: session: %w", err)
	}
	return s, err
}

// Session reads one session outside any transaction, in one statement,
// which sees one committed state: the portal reads it on every signed-in
// request, and a read transaction's BEGIN and COMMIT cost twice the
// statement (docs/decisions.md).
func (s *SQLite) Session(ctx context.Context, tokenHash []byte) (casegate.Session, error) {
	trace(ctx, sessionQuery)
	st := s.sessionStmt.Load()
	if st == nil {
		// Prepared at the first read, not at open: before the first
		// migration there is no table to prepare against.
		var err error
		if st, err = s.reader.PrepareContext(ctx, sessionQuery); err != nil {
			return casegate.Session{}, sqliteDialect.fail("session", err)
		}
		if !s.sessionStmt.CompareAndSwap(nil, st) {
			st.Close()
			st = s.sessionStmt.Load()
		}
	}
	s2, err := scanSession(st.QueryRowContext(ctx, tokenHash))
	if err != nil && !casegate.IsNotFound(err) {
		return s2, sqliteDialect.fail("session", err)
	}
	return s2, err
}

// Session reads one session outside any transaction, as SQLite's does.
func (p *Postgres) Session(ctx context.Context, tokenHash []byte) (casegate.Session, error) {
	q := postgresDialect.rebind(sessionQuery)
	trace(ctx, q)
	s, err := scanSession(p.db.QueryRowContext(ctx, q, tokenHash))
	if err != nil && !casegate.IsNotFound(err) {
		return s, postgresDialect.fail("session", err)
	}
	return s, err
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
