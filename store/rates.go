package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/casegate/casegate"
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

// hitRateQuery is HitRate's one statement for d: the generic cell rate
// algorithm of portal.gcra, in integer nanoseconds and with the stored
// times in microseconds as micros writes them. A new key's first event is
// always allowed (an interval is never longer than the burst). For a key
// seen before, n is the time to judge by: the later of the one given and
// the latest one the key was judged at; t is the key's time, or n if that
// is later. The event is allowed when t + interval - per is not after n,
// and then the key's time moves to t + interval.
//
// The statement's parameters are: key, now, interval, now, interval, per,
// interval (all but the key in nanoseconds).
func hitRateQuery(d *dialect) string {
	n := d.greatest + "(excluded.seen, rate_limits.seen)"
	t := d.greatest + "(rate_limits.tat * 1000, " + n + ")"
	return `INSERT INTO rate_limits (rate_key, tat, prev, seen)
		VALUES (?, (CAST(? AS BIGINT) + CAST(? AS BIGINT)) / 1000, 0, CAST(? AS BIGINT))
		ON CONFLICT (rate_key) DO UPDATE SET
			prev = rate_limits.tat,
			seen = ` + n + `,
			tat = CASE WHEN ` + t + ` + CAST(? AS BIGINT) - CAST(? AS BIGINT) <= ` + n + `
				THEN (` + t + ` + CAST(? AS BIGINT)) / 1000 ELSE rate_limits.tat END
		RETURNING tat, prev, seen`
}

// hitRateQueries are the dialects' HitRate statements, made once.
var hitRateQueries = map[*dialect]string{
	sqliteDialect:   hitRateQuery(sqliteDialect),
	postgresDialect: hitRateQuery(postgresDialect),
}

// HitRate counts one event for key in one statement (casegate.RateLimits).
// Where the dialect locks rows, the upsert takes the key's row lock and, under
// READ COMMITTED, judges by the latest committed row; where it does not, the
// write transaction already runs alone.
func (t *tx) HitRate(ctx context.Context, key string, now time.Time, interval, per time.Duration) (casegate.RateHit, error) {
	if interval <= 0 || per < interval {
		return casegate.RateHit{}, fmt.Errorf("store: hit rate: interval %v and burst %v: want 0 < interval <= burst", interval, per)
	}
	ns, iv := now.UnixNano(), interval.Nanoseconds()
	var tat, prev, seen int64
	q, ok := hitRateQueries[t.d]
	if !ok {
		q = hitRateQuery(t.d)
	}
	err := t.queryRow(ctx, q, key, ns, iv, ns, iv, per.Nanoseconds(), iv).Scan(&tat, &prev, &seen)
	if err != nil {
		return casegate.RateHit{}, fmt.Errorf("store: hit rate: %w", err)
	}
	h := casegate.RateHit{At: time.Unix(0, seen).UTC(), TAT: time.UnixMicro(tat).UTC()}
	if prev != 0 {
		h.Prev = time.UnixMicro(prev).UTC()
	}
	return h, nil
}
