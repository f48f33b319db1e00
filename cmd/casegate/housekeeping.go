package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The schedule of housekeeping. Sealed codes must not outlive their expiry
// by more than a few seconds (docs/security.md), refusal counts are written
// to the audit log soon after their window ends, and retention runs hourly.
const (
	expiredCodesEvery = 2 * time.Second
	refusalsEvery     = time.Minute
	purgeEvery        = time.Hour
	// budgetReportInterval is how often serve reads the spend of the SMS
	// budget into its gauges.
	budgetReportInterval = time.Minute
)

// housekeeping runs the portal's periodic jobs until ctx ends: processing
// times recomputed at start and every statsEvery; codes that expired unsent
// wiped; refused requests' counts audited; retention applied; the spend of
// the SMS budget read into the metrics; and a signed checkpoint of the audit
// chain logged at start and every checkpointEvery, so that a copy of the
// chain's head lives outside the database (in the logs) by default. Every
// instance runs it; each job is safe to run on several at once.
func housekeeping(ctx context.Context, a *app, statsEvery, checkpointEvery time.Duration) {
	job := func(what string, fn func() error) func() {
		return func() {
			if err := fn(); err != nil && ctx.Err() == nil {
				a.log.Error(what+" failed", "err", err)
			}
		}
	}
	recompute := job("processing times recompute", func() error {
		_, err := a.portal.RecomputeProcessingTimes(ctx, "system")
		return err
	})
	expire := job("expired codes wipe", func() error {
		_, err := a.portal.CancelExpiredCodes(ctx)
		return err
	})
	refusals := job("refusal counts flush", func() error {
		_, err := a.portal.FlushRefusals(ctx)
		return err
	})
	purge := job("purge", func() error {
		counts, cut, err := a.portal.Purge(ctx)
		if err == nil {
			a.log.Info("retention applied", "challenges", counts.Challenges, "sessions", counts.Sessions,
				"deliveries", counts.Deliveries, "destinations_scrubbed", counts.Scrubbed, "audit_events", cut)
		}
		return err
	})
	budget := job("SMS budget read", func() error { return a.portal.ReportSMSBudget(ctx) })
	checkpoint := job("audit checkpoint", func() error {
		cp, err := a.portal.AuditCheckpoint(ctx)
		if err == nil {
			a.log.LogAttrs(ctx, slog.LevelInfo, "audit checkpoint", slog.Any("checkpoint", cp))
		}
		return err
	})
	var wg sync.WaitGroup
	for _, j := range []struct {
		every time.Duration
		run   func()
	}{
		{statsEvery, recompute}, {expiredCodesEvery, expire}, {refusalsEvery, refusals},
		{purgeEvery, purge}, {budgetReportInterval, budget}, {checkpointEvery, checkpoint},
	} {
		wg.Go(func() {
			j.run()
			t := time.NewTicker(j.every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					j.run()
				}
			}
		})
	}
	wg.Wait()
}
