package store

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes what ran out before the cutoff: challenges that expired
// (cancelling their unsent deliveries and wiping the sealed codes first),
// sessions past their absolute expiry, and rate rows whose theoretical arrival
// time has passed, which a new key would behave the same as. Sessions idle
// longer than the portal allows are its business; the absolute expiry bounds
// how long they stay.
func (t *tx) Purge(ctx context.Context, before time.Time) error {
	cutoff := micros(before)
	steps := []struct{ what, query string }{
		{"deliveries", `UPDATE deliveries SET status = 'cancelled', sealed_code = NULL, lease_owner = NULL, lease_until = NULL
			WHERE status = 'pending'
			  AND challenge_id IN (SELECT id FROM challenges WHERE expires_at < ?)`},
		{"challenges", `DELETE FROM challenges WHERE expires_at < ?`},
		{"sessions", `DELETE FROM sessions WHERE expires_at < ?`},
		{"rates", `DELETE FROM rate_limits WHERE tat < ?`},
	}
	for _, s := range steps {
		if _, err := t.exec(ctx, s.query, cutoff); err != nil {
			return fmt.Errorf("store: purge %s: %w", s.what, err)
		}
	}
	return nil
}
