// Package stats computes processing times: per form type, category and office,
// the median and 80th percentile of days from received to the first terminal
// status, over the cases finished in a trailing window.
package stats

import (
	"math"
	"slices"
	"time"

	"github.com/casegate/casegate"
)

// Window is how far back finished cases count.
const Window = 6 // months

// Since returns the start of the window that ends at now.
func Since(now time.Time) time.Time { return now.AddDate(0, -Window, 0) }

type key struct{ form, category, office string }

// Accumulator gathers completions and turns them into processing times.
type Accumulator struct {
	days map[key][]int
}

// NewAccumulator returns an empty accumulator.
func NewAccumulator() *Accumulator { return &Accumulator{days: map[key][]int{}} }

// Add counts one finished case.
func (a *Accumulator) Add(c casegate.Completion) {
	k := key{c.FormType, c.Category, c.Office}
	a.days[k] = append(a.days[k], Days(c.ReceivedOn, c.CompletedAt))
}

// Result returns one processing time per group that has at least one case,
// ordered by form, category and office, stamped with computedAt.
func (a *Accumulator) Result(computedAt time.Time) []casegate.ProcessingTime {
	out := make([]casegate.ProcessingTime, 0, len(a.days))
	for k, ds := range a.days {
		slices.Sort(ds)
		out = append(out, casegate.ProcessingTime{
			FormType: k.form, Category: k.category, Office: k.office,
			MedianDays: Percentile(ds, 50), P80Days: Percentile(ds, 80), Cases: len(ds), ComputedAt: computedAt,
		})
	}
	slices.SortFunc(out, func(x, y casegate.ProcessingTime) int {
		if c := cmpString(x.FormType, y.FormType); c != 0 {
			return c
		}
		if c := cmpString(x.Category, y.Category); c != 0 {
			return c
		}
		return cmpString(x.Office, y.Office)
	})
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Days is the number of whole days from the received date to completion, at least 0.
func Days(received, completed time.Time) int {
	d := int(completed.Sub(received) / (24 * time.Hour))
	return max(d, 0)
}

// Percentile returns the p-th percentile of sorted by the nearest-rank method:
// the smallest value with at least p % of the values at or below it. An empty
// slice gives 0.
func Percentile(sorted []int, p float64) int {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
