package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/casegate/casegate"
)

// CountRefusal adds one to the refusals of r's limit key, action and window,
// making the row when it is the window's first.
func (t *tx) CountRefusal(ctx context.Context, r casegate.Refusal) error {
	_, err := t.exec(ctx,
		`INSERT INTO refusals (rate_key, action, from_at, until_at, limit_name, ip_hash, refused)
		 VALUES (?, ?, ?, ?, ?, ?, 1)
		 ON CONFLICT (rate_key, action, from_at) DO UPDATE SET refused = refusals.refused + 1`,
		r.Key, r.Action, micros(r.From), micros(r.Until), r.Limit, r.IPHash)
	if err != nil {
		return fmt.Errorf("store: count refusal: %w", err)
	}
	return nil
}

// TakeRefusals removes and returns the counts of every window that ended at
// or before now, oldest first. On PostgreSQL two instances taking at once
// each get different rows.
func (t *tx) TakeRefusals(ctx context.Context, now time.Time) ([]casegate.Refusal, error) {
	rs, err := queryAll(ctx, t, func(row scanner) (casegate.Refusal, error) {
		var r casegate.Refusal
		err := row.Scan(&r.Key, &r.Action, scanTime(&r.From), scanTime(&r.Until), &r.Limit, &r.IPHash, &r.Count)
		return r, err
	}, `DELETE FROM refusals WHERE until_at <= ?
		RETURNING rate_key, action, from_at, until_at, limit_name, ip_hash, refused`, micros(now))
	if err != nil {
		return nil, fmt.Errorf("store: take refusals: %w", err)
	}
	slices.SortFunc(rs, func(a, b casegate.Refusal) int {
		return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.Action, b.Action), cmp.Compare(a.Key, b.Key))
	})
	return rs, nil
}
