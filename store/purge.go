package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/casegate/casegate"
)

// Purge carries out one round of retention with the cutoffs the portal
// decided, and counts what each step changed. It changes no delivery's
// state: the portal cancels the unsent codes of expired challenges first
// (CancelExpiredCodes), auditing that, in the same transaction. Decoy
// deliveries go with their challenges; finished deliveries lose their
// destinations, then themselves, by creation time; sessions go by
// absolute expiry or by last use; rate rows whose theoretical arrival time
// has passed behave as a new key would, and go too.
func (t *tx) Purge(ctx context.Context, c casegate.PurgeCutoffs) (casegate.PurgeCounts, error) {
	var n casegate.PurgeCounts
	steps := []struct {
		what  string
		count *int64
		query string
		args  []any
	}{
		{"decoy deliveries", &n.Decoys, `DELETE FROM deliveries WHERE party_id IS NULL
			AND challenge_id IN (SELECT id FROM challenges WHERE expires_at < ?)`, []any{micros(c.Challenges)}},
		{"challenges", &n.Challenges, `DELETE FROM challenges WHERE expires_at < ?`, []any{micros(c.Challenges)}},
		{"sessions", &n.Sessions, `DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?`, []any{micros(c.Sessions), micros(c.SessionsIdle)}},
		{"rates", &n.Rates, `DELETE FROM rate_limits WHERE tat < ?`, []any{micros(c.Rates)}},
		{"destinations", &n.Scrubbed, `UPDATE deliveries SET destination = '', last_error = ''
			WHERE created_at < ? AND created_at >= ? AND status <> 'pending' AND destination <> ''`,
			[]any{micros(c.Destinations), lowerBound(c.DestinationsFrom)}},
		{"deliveries", &n.Deliveries, `DELETE FROM deliveries WHERE created_at < ? AND status <> 'pending'`, []any{micros(c.Deliveries)}},
	}
	for _, s := range steps {
		res, err := t.exec(ctx, s.query, s.args...)
		if err != nil {
			return n, fmt.Errorf("store: purge %s: %w", s.what, err)
		}
		if *s.count, err = res.RowsAffected(); err != nil {
			return n, fmt.Errorf("store: purge %s: %w", s.what, err)
		}
	}
	return n, nil
}

// lowerBound is t in unix microseconds, or the least there is for the zero time.
func lowerBound(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UTC().UnixMicro()
}
