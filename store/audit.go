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

// AppendAudit chains e to the last stored event and inserts it, setting Seq,
// PrevHash and Hash. First it brings e to what the database keeps, so the hash
// still holds when the event is read back: At cut to the microsecond in UTC,
// text made valid UTF-8 without NUL bytes.
func (t *tx) AppendAudit(ctx context.Context, e *casegate.AuditEvent) error {
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
	e.Seq = prevSeq + 1
	e.PrevHash = prev
	e.Hash = casegate.AuditHash(prev, *e)
	_, err = t.exec(ctx,
		`INSERT INTO audit_events (seq, at, actor, action, target, outcome, ip_hash, details, prev_hash, hash)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, micros(e.At), e.Actor, e.Action, e.Target, e.Outcome, e.IPHash, details, e.PrevHash, e.Hash)
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
	query := `SELECT seq, at, actor, action, target, outcome, ip_hash, details, prev_hash, hash
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
		scanJSON(&e.Details), &e.PrevHash, &e.Hash)
	return e, err
}
