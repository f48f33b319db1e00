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
// finished in the trailing window and stores them as a whole.
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
	return pts, nil
}

// ProcessingTimes returns the published processing times, optionally only for
// one form type and office (matched without regard to case).
func (p *Portal) ProcessingTimes(ctx context.Context, form, office string) ([]casegate.ProcessingTime, error) {
	all, err := p.processingTimes(ctx)
	if err != nil {
		return nil, err
	}
	var out []casegate.ProcessingTime // all is shared: filter into a new slice
	for _, pt := range all {
		if (form == "" || strings.EqualFold(pt.FormType, strings.TrimSpace(form))) &&
			(office == "" || strings.EqualFold(pt.Office, strings.TrimSpace(office))) {
			out = append(out, pt)
		}
	}
	return out, nil
}

// processingTimes returns every published processing time from the read
// cache, reading them from the store when the cache's copy is older than its
// ttl. The slice is shared by every caller and must not be changed.
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
	p.reads.putProcessingTimes(pts, now)
	return pts, nil
}

// timing is what a case shows about how long it should take.
type timing struct {
	ProcessingTime *casegate.ProcessingTime
	InquiryDate    time.Time // zero when there is no processing time for the case
	Completed      bool
	OutsideNormal  bool // not completed and past the inquiry date
}

// timingOf places a case against the processing time of its form, category and office.
func timingOf(c casegate.Case, pts []casegate.ProcessingTime, now time.Time) timing {
	var t timing
	for _, e := range c.History {
		if s, ok := casegate.Status(e.Status); ok && s.Terminal {
			t.Completed = true
		}
	}
	for _, pt := range pts {
		if pt.FormType == c.FormType && pt.Category == c.Category && pt.Office == c.Office {
			t.ProcessingTime = &pt // a copy: pts may be the cache's shared slice
			t.InquiryDate = c.ReceivedOn.AddDate(0, 0, pt.P80Days)
			t.OutsideNormal = !t.Completed && now.After(t.InquiryDate.AddDate(0, 0, 1))
			break
		}
	}
	return t
}
