package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/metrics"
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
// the SMS budget read into the metrics; and, at start and every
// checkpointEvery, the audit chain verified (against the checkpoint taken
// the time before, so that a cut of its end shows too), the verdict set in
// reg and a break logged as an error, then a signed checkpoint of the
// chain's head logged, so that a copy of it lives outside the database (in
// the logs) by default. Every instance runs it; each job is safe to run on
// several at once.
func housekeeping(ctx context.Context, a *app, reg *metrics.Registry, statsEvery, checkpointEvery time.Duration) {
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
	var last []casegate.AuditCheckpoint // the checkpoint taken the time before
	checkpoint := job("audit checkpoint", func() error {
		if err := verifyAudit(ctx, a, reg, last); err != nil {
			return err
		}
		cp, err := a.portal.AuditCheckpoint(ctx)
		if err == nil {
			a.log.LogAttrs(ctx, slog.LevelInfo, "audit checkpoint", slog.Any("checkpoint", cp))
			last = []casegate.AuditCheckpoint{cp}
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

// verifyAudit verifies the audit chain and the checkpoints given, sets the
// verdict in reg (when set) and logs a break as an error. An error means the
// chain could not be read; the verdict is then left as it was.
func verifyAudit(ctx context.Context, a *app, reg *metrics.Registry, checkpoints []casegate.AuditCheckpoint) error {
	start := time.Now()
	r, err := a.portal.VerifyAudit(ctx, checkpoints)
	if err == nil && !r.Intact() {
		// A purge (here or on another instance) that cut the log while the
		// walk read it looks like missing events; a real break is still
		// there on a second walk.
		r, err = a.portal.VerifyAudit(ctx, checkpoints)
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if reg != nil {
		reg.AuditVerified(r.Intact(), time.Now())
	}
	if r.Intact() {
		a.log.LogAttrs(ctx, slog.LevelDebug, "audit chain verified", slog.Int("events", r.Events),
			slog.Float64("duration_seconds", time.Since(start).Seconds()))
		return nil
	}
	attrs := []slog.Attr{slog.Int("events", r.Events), slog.Int64("broken_at", r.Broken), slog.String("why", r.Why)}
	for _, c := range r.Checkpoints {
		if !c.OK {
			attrs = append(attrs, slog.Int64("checkpoint_seq", c.Checkpoint.Seq), slog.String("checkpoint_why", c.Why))
		}
	}
	a.log.LogAttrs(ctx, slog.LevelError, "audit chain broken: run casegate audit verify", attrs...)
	return nil
}
