package main

import (
	"context"
	"time"

	"github.com/casegate/casegate"
)

// purgeAfter is how long expired challenges, sessions and limit counters are
// kept before housekeeping deletes them.
const purgeAfter = 24 * time.Hour

// budgetReportInterval is how often serve reads the spend of the SMS
// budget into its gauges.
const budgetReportInterval = time.Minute

// housekeeping recomputes processing times at start and every interval,
// purges what has expired every hour, and reads the spend of the SMS budget
// into the metrics every minute, until ctx ends. Every instance runs it;
// all three jobs are idempotent.
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
	budget := func() {
		if err := a.portal.ReportSMSBudget(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("SMS budget not read", "err", err)
		}
	}
	recompute()
	purge()
	budget()
	stats := time.NewTicker(interval)
	defer stats.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	minutely := time.NewTicker(budgetReportInterval)
	defer minutely.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stats.C:
			recompute()
		case <-hourly.C:
			purge()
		case <-minutely.C:
			budget()
		}
	}
}
