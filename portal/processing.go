package portal

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/stats"
)

// RecomputeProcessingTimes recomputes every processing time from the cases
// finished in the trailing window, stores them as a whole, and returns what
// of them is published (see ProcessingTimes).
func (p *Portal) RecomputeProcessingTimes(ctx context.Context, actor string) ([]casegate.ProcessingTime, error) {
	now := p.clock()
	acc := stats.NewAccumulator()
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		return tx.Completions(ctx, stats.Since(now), casegate.TerminalStatuses(), func(c casegate.Completion) error {
			acc.Add(c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("portal: recompute processing times: %w", err)
	}
	pts := acc.Result(now)
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		if err := tx.ReplaceProcessingTimes(ctx, pts); err != nil {
			return err
		}
		return p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: actor, Action: "processing_times.recompute", Target: "processing_times", Outcome: "ok",
			Details: map[string]string{"groups": strconv.Itoa(len(pts))},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("portal: store processing times: %w", err)
	}
	p.ForgetReads()
	return stats.Publish(pts, p.limits.ProcessingMinCases), nil
}

// ProcessingMinCases is how many finished cases a published figure comes from at least.
func (p *Portal) ProcessingMinCases() int { return p.limits.ProcessingMinCases }

// ProcessingTimes returns the published processing times, optionally only for
// one form type and office (matched without regard to case): the figures of
// the groups with at least ProcessingMinCases finished cases, and each form's
// whole-form figure, withheld when the whole form has fewer. A whole-form
// figure covers every office, so an office filter keeps it.
func (p *Portal) ProcessingTimes(ctx context.Context, form, office string) ([]casegate.ProcessingTime, error) {
	all, err := p.processingTimes(ctx)
	if err != nil {
		return nil, err
	}
	var out []casegate.ProcessingTime // all is shared: filter into a new slice
	for _, pt := range all {
		if (form == "" || strings.EqualFold(pt.FormType, strings.TrimSpace(form))) &&
			(office == "" || pt.WholeForm() || strings.EqualFold(pt.Office, strings.TrimSpace(office))) {
			out = append(out, pt)
		}
	}
	return out, nil
}

// processingTimes returns the published processing times from the read
// cache, reading them from the store when the cache's copy is older than its
// ttl. Only published figures are kept: a group too small to publish never
// leaves this function. The slice is shared by every caller and must not be
// changed.
func (p *Portal) processingTimes(ctx context.Context) ([]casegate.ProcessingTime, error) {
	now := p.clock()
	if pts, ok := p.reads.processingTimes(now); ok {
		return pts, nil
	}
	var pts []casegate.ProcessingTime
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		pts, err = tx.ProcessingTimes(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("portal: processing times: %w", err)
	}
	pts = stats.Publish(pts, p.limits.ProcessingMinCases)
	p.reads.putProcessingTimes(pts, now)
	return pts, nil
}

// timing is what a case shows about how long it should take.
type timing struct {
	ProcessingTime *casegate.ProcessingTime // nil when none is published at all
	InquiryDate    time.Time                // zero without a figure, or with a withheld one
	Completed      bool
	OutsideNormal  bool // not completed and past the inquiry date
}

// timingOf places a case against the published figure for it: its form,
// category and office's, else its whole form's. A withheld figure gives no
// inquiry date, so the case is never outside normal processing time.
func timingOf(c casegate.Case, published []casegate.ProcessingTime, now time.Time) timing {
	var t timing
	for _, e := range c.History {
		if s, ok := casegate.Status(e.Status); ok && s.Terminal {
			t.Completed = true
		}
	}
	pt, ok := stats.ForCase(published, c.FormType, c.Category, c.Office)
	if !ok {
		return t
	}
	t.ProcessingTime = &pt // a copy: published may be the cache's shared slice
	if !pt.Withheld {
		t.InquiryDate = c.ReceivedOn.AddDate(0, 0, pt.P80Days)
		t.OutsideNormal = !t.Completed && now.After(t.InquiryDate.AddDate(0, 0, 1))
	}
	return t
}
