// Package stats computes processing times: per form type, category and office,
// and per form type as a whole, the median and 80th percentile of days from
// received to the first terminal status, over the cases finished in a
// trailing window; and decides which of them may be published.
package stats

import (
	"cmp"
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

// Add counts one finished case. A case without an office counts towards its
// form's whole-form figure only, which has the key such a group would have.
func (a *Accumulator) Add(c casegate.Completion) {
	k := key{c.FormType, c.Category, c.Office}
	if c.Office == "" {
		k.category = ""
	}
	a.days[k] = append(a.days[k], Days(c.ReceivedOn, c.CompletedAt))
}

// Result returns one processing time per group that has at least one case
// and one whole-form figure per form, over all of its cases, stamped with
// computedAt and ordered by form, category and office: each form's
// whole-form figure comes before its groups.
func (a *Accumulator) Result(computedAt time.Time) []casegate.ProcessingTime {
	forms := map[string][]int{}
	out := make([]casegate.ProcessingTime, 0, len(a.days)+8)
	for k, ds := range a.days {
		forms[k.form] = append(forms[k.form], ds...)
		if k.office == "" {
			continue // in the whole-form figure only
		}
		out = append(out, figure(k, ds, computedAt))
	}
	for form, ds := range forms {
		out = append(out, figure(key{form: form}, ds, computedAt))
	}
	slices.SortFunc(out, byFormCategoryOffice)
	return out
}

// byFormCategoryOffice orders figures by form, category and office, so each
// form's whole-form figure comes first among its figures.
func byFormCategoryOffice(x, y casegate.ProcessingTime) int {
	return cmp.Or(cmp.Compare(x.FormType, y.FormType), cmp.Compare(x.Category, y.Category), cmp.Compare(x.Office, y.Office))
}

// figure is the processing time of the days ds, which it sorts.
func figure(k key, ds []int, computedAt time.Time) casegate.ProcessingTime {
	slices.Sort(ds)
	return casegate.ProcessingTime{
		FormType: k.form, Category: k.category, Office: k.office,
		MedianDays: Percentile(ds, 50), P80Days: Percentile(ds, 80), Cases: len(ds), ComputedAt: computedAt,
	}
}

// Publish returns the figures of pts (stored as Result made them) that may be
// shown, in Result's order, when a figure must come from at least minCases finished cases, so
// that nobody can read how long one person's case took: every group figure
// with that many, and for every form its whole-form figure, withheld (no
// days, no count) when the form has fewer. A form whose whole-form figure is
// missing (figures stored before there were any) gets a withheld one.
// minCases below 1 counts as 1. The result is a new slice.
func Publish(pts []casegate.ProcessingTime, minCases int) []casegate.ProcessingTime {
	minCases = max(minCases, 1)
	pts = slices.SortedFunc(slices.Values(pts), byFormCategoryOffice)
	var out []casegate.ProcessingTime
	for i, pt := range pts {
		if i == 0 || pt.FormType != pts[i-1].FormType {
			if !pt.WholeForm() { // no whole-form figure stored for this form
				out = append(out, withheld(pt.FormType, pt.ComputedAt))
			}
		}
		switch {
		case pt.Cases >= minCases:
			out = append(out, pt)
		case pt.WholeForm():
			out = append(out, withheld(pt.FormType, pt.ComputedAt))
		}
	}
	return out
}

func withheld(form string, computedAt time.Time) casegate.ProcessingTime {
	return casegate.ProcessingTime{FormType: form, Withheld: true, ComputedAt: computedAt}
}

// ForCase returns the figure a case of form, category and office is shown,
// from published figures (as Publish returns them): its group's figure, else
// its form's whole-form figure, withheld or not. A form with no figure at
// all (no case of it finished in the window) gets a withheld one stamped
// with the newest figure's time. ok is false only when there are no figures.
func ForCase(published []casegate.ProcessingTime, form, category, office string) (pt casegate.ProcessingTime, ok bool) {
	var asOf time.Time
	whole := -1
	for i, p := range published {
		if p.ComputedAt.After(asOf) {
			asOf = p.ComputedAt
		}
		if p.FormType != form {
			continue
		}
		if p.WholeForm() {
			whole = i
		} else if p.Category == category && p.Office == office {
			return p, true
		}
	}
	switch {
	case whole >= 0:
		return published[whole], true
	case len(published) > 0:
		return withheld(form, asOf), true
	}
	return casegate.ProcessingTime{}, false
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
