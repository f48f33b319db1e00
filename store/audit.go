package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/casegate/casegate"
)

// AppendAudit chains e to the last stored event under the current audit key
// of keys and inserts it, setting Seq, KeyID, PrevHash and Hash. First it
// brings e to what the database keeps, so the hash still holds when the event
// is read back: At cut to the microsecond in UTC, text made valid UTF-8
// without NUL bytes.
func (t *tx) AppendAudit(ctx context.Context, e *casegate.AuditEvent, keys casegate.AuditKeys) error {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	for _, s := range []*string{&e.Actor, &e.Action, &e.Target, &e.Outcome, &e.IPHash} {
		*s = storable(*s)
	}
	if len(e.Details) > 0 {
		details := make(map[string]string, len(e.Details))
		for k, v := range e.Details {
			details[storable(k)] = storable(v)
		}
		e.Details = details
	}
	details, err := jsonObject(e.Details)
	if err != nil {
		return fmt.Errorf("store: append audit: details: %w", err)
	}
	// The head read below must not move before the insert commits, or two
	// appends would fork the chain.
	if err := t.takeTurns(ctx, "audit"); err != nil {
		return fmt.Errorf("store: append audit: lock chain: %w", err)
	}
	var prevSeq int64
	prev := casegate.GenesisHash
	err = t.queryRow(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&prevSeq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: append audit: chain head: %w", err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		// Everything was purged: the chain goes on from the anchor.
		a, aerr := t.AuditAnchor(ctx)
		switch {
		case aerr == nil:
			prevSeq, prev = a.Seq, a.Hash
		case !casegate.IsNotFound(aerr):
			return fmt.Errorf("store: append audit: %w", aerr)
		}
	}
	e.Seq = prevSeq + 1
	e.PrevHash = prev
	e.KeyID = keys.AuditKeyID()
	var ok bool
	if e.Hash, ok = casegate.AuditHash(keys, prev, *e); !ok {
		return fmt.Errorf("store: append audit: no audit key %q", e.KeyID)
	}
	_, err = t.exec(ctx,
		`INSERT INTO audit_events (seq, at, actor, action, target, outcome, ip_hash, details, key_id, prev_hash, hash)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, micros(e.At), e.Actor, e.Action, e.Target, e.Outcome, e.IPHash, details, e.KeyID, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("store: append audit: %w", err)
	}
	return nil
}

// storable replaces what a text column or JSON would not keep as it is:
// invalid UTF-8 (JSON turns it into U+FFFD) and NUL (PostgreSQL refuses it).
func storable(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AuditEvents returns up to limit events after afterSeq in sequence order;
// limit <= 0 means no limit.
func (t *tx) AuditEvents(ctx context.Context, afterSeq int64, limit int) ([]casegate.AuditEvent, error) {
	query := `SELECT seq, at, actor, action, target, outcome, ip_hash, details, key_id, prev_hash, hash
		FROM audit_events WHERE seq > ? ORDER BY seq`
	args := []any{afterSeq}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	events, err := queryAll(ctx, t, scanAuditEvent, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	return events, nil
}

func scanAuditEvent(row scanner) (casegate.AuditEvent, error) {
	var e casegate.AuditEvent
	err := row.Scan(&e.Seq, scanTime(&e.At), &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.IPHash,
		scanJSON(&e.Details), &e.KeyID, &e.PrevHash, &e.Hash)
	return e, err
}

// AuditAnchor returns the checkpoint a purge left, or ErrNotFound when none has run.
func (t *tx) AuditAnchor(ctx context.Context) (casegate.AuditCheckpoint, error) {
	var c casegate.AuditCheckpoint
	err := t.queryRow(ctx, `SELECT seq, hash, at, key_id, mac FROM audit_anchor WHERE id = 1`).
		Scan(&c.Seq, &c.Hash, scanTime(&c.At), &c.KeyID, &c.MAC)
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.AuditCheckpoint{}, fmt.Errorf("store: audit anchor: %w", casegate.ErrNotFound)
	}
	if err != nil {
		return casegate.AuditCheckpoint{}, fmt.Errorf("store: audit anchor: %w", err)
	}
	return c, nil
}

// AuditEventAt returns the stored event seq, or ErrNotFound.
func (t *tx) AuditEventAt(ctx context.Context, seq int64) (casegate.AuditEvent, error) {
	es, err := t.AuditEvents(ctx, seq-1, 1)
	if err != nil {
		return casegate.AuditEvent{}, err
	}
	if len(es) == 0 || es[0].Seq != seq {
		return casegate.AuditEvent{}, fmt.Errorf("store: audit event %d: %w", seq, casegate.ErrNotFound)
	}
	return es[0], nil
}

// AuditHead returns the last event, or ErrNotFound when there is none.
func (t *tx) AuditHead(ctx context.Context) (casegate.AuditEvent, error) {
	var seq int64
	err := t.queryRow(ctx, `SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.AuditEvent{}, fmt.Errorf("store: audit head: %w", casegate.ErrNotFound)
	}
	if err != nil {
		return casegate.AuditEvent{}, fmt.Errorf("store: audit head: %w", err)
	}
	return t.AuditEventAt(ctx, seq)
}

// LastAuditBefore returns the last event older than t, or ErrNotFound.
func (t *tx) LastAuditBefore(ctx context.Context, before time.Time) (casegate.AuditEvent, error) {
	// The newest event by time, found through the index on at, not by
	// walking the log back from its head; times follow the sequence but for
	// clock differences between instances, which only move the cut by as much.
	var seq sql.NullInt64
	err := t.queryRow(ctx, `SELECT seq FROM audit_events WHERE at < ? ORDER BY at DESC, seq DESC LIMIT 1`, micros(before)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.AuditEvent{}, fmt.Errorf("store: last audit event before: %w", casegate.ErrNotFound)
	}
	if err != nil {
		return casegate.AuditEvent{}, fmt.Errorf("store: last audit event before: %w", err)
	}
	return t.AuditEventAt(ctx, seq.Int64)
}

// CutAudit deletes the events up to and including anchor.Seq and keeps anchor
// as the checkpoint the remaining chain starts from.
func (t *tx) CutAudit(ctx context.Context, anchor casegate.AuditCheckpoint) (int64, error) {
	_, err := t.exec(ctx, `INSERT INTO audit_anchor (id, seq, hash, at, key_id, mac) VALUES (1, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at,
			key_id = excluded.key_id, mac = excluded.mac`,
		anchor.Seq, anchor.Hash, micros(anchor.At), anchor.KeyID, anchor.MAC)
	if err != nil {
		return 0, fmt.Errorf("store: cut audit: anchor: %w", err)
	}
	res, err := t.exec(ctx, `DELETE FROM audit_events WHERE seq <= ?`, anchor.Seq)
	if err != nil {
		return 0, fmt.Errorf("store: cut audit: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: cut audit: %w", err)
	}
	return n, nil
}
