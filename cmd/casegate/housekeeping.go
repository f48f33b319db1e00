package main

import (
	"context"
	"time"

	"github.com/casegate/casegate"
)

// purgeAfter is how long expired challenges, sessions and limit counters are
// kept before housekeeping deletes them.
const purgeAfter = 24 * time.Hour

// housekeeping recomputes processing times at start and every interval, and
// purges what has expired every hour, until ctx ends. Every instance runs it;
// both jobs are idempotent.
func housekeeping(ctx context.Context, a *app, interval time.Duration) {
	recompute := func() {
		if _, err := a.portal.RecomputeProcessingTimes(ctx, "system"); err != nil && ctx.Err() == nil {
			a.log.Error("processing times not recomputed", "err", err)
		}
	}
	purge := func() {
		err := a.store.Update(ctx, func(tx casegate.Tx) error { return tx.Purge(ctx, time.Now().Add(-purgeAfter)) })
		if err != nil && ctx.Err() == nil {
			a.log.Error("purge failed", "err", err)
		}
	}
	recompute()
	purge()
	stats := time.NewTicker(interval)
	defer stats.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stats.C:
			recompute()
		case <-hourly.C:
			purge()
		}
	}
}
