package stats

import (
	"fmt"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

func TestPercentileNearestRank(t *testing.T) {
	cases := []struct {
		in       []int
		p50, p80 int
	}{
		{nil, 0, 0},
		{[]int{7}, 7, 7},
		{[]int{1, 2}, 1, 2},
		{[]int{1, 2, 3, 4, 5}, 3, 4},
		{[]int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 50, 80},
		{[]int{5, 5, 5, 5, 9}, 5, 5}, // ties
		{[]int{1, 1, 1, 1, 1, 1, 1, 1, 100, 100}, 1, 1},
		{[]int{1, 1, 1, 1, 1, 1, 1, 100, 100, 100}, 1, 100},
	}
	for _, c := range cases {
		if got := Percentile(c.in, 50); got != c.p50 {
			t.Errorf("median of %v = %d, want %d", c.in, got, c.p50)
		}
		if got := Percentile(c.in, 80); got != c.p80 {
			t.Errorf("80th percentile of %v = %d, want %d", c.in, got, c.p80)
		}
	}
}

func TestDays(t *testing.T) {
	r := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		done time.Time
		want int
	}{
		{r, 0},
		{r.Add(23 * time.Hour), 0},
		{r.Add(24 * time.Hour), 1},
		{r.AddDate(0, 0, 100).Add(10 * time.Hour), 100},
		{r.Add(-48 * time.Hour), 0}, // bad data never goes negative
	} {
		if got := Days(r, c.done); got != c.want {
			t.Errorf("Days to %v = %d, want %d", c.done, got, c.want)
		}
	}
}

// done is a case of form, category and office finished days after it was received.
func done(form, cat, office string, days int) casegate.Completion {
	r := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return casegate.Completion{FormType: form, Category: cat, Office: office, ReceivedOn: r, CompletedAt: r.AddDate(0, 0, days)}
}

// computedAt stamps the figures of these tests.
var computedAt = time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)

// sample is three groups: I-485 Family-based at NBC (10 cases: 10, 20, … 100
// days), I-485 Employment-based at NBC (1 case, 400 days), I-765 at MSC (3
// cases: 90, 120, 150 days).
func sample() *Accumulator {
	a := NewAccumulator()
	for _, d := range []int{100, 50, 20, 70, 10, 90, 30, 60, 40, 80} {
		a.Add(done("I-485", "Family-based", "NBC", d))
	}
	a.Add(done("I-485", "Employment-based", "NBC", 400))
	for _, d := range []int{150, 90, 120} {
		a.Add(done("I-765", "", "MSC", d))
	}
	return a
}

// The figures of sample, each form's whole-form figure first.
var (
	i485        = casegate.ProcessingTime{FormType: "I-485", MedianDays: 60, P80Days: 90, Cases: 11, ComputedAt: computedAt}
	i485Emp     = casegate.ProcessingTime{FormType: "I-485", Category: "Employment-based", Office: "NBC", MedianDays: 400, P80Days: 400, Cases: 1, ComputedAt: computedAt}
	i485Fam     = casegate.ProcessingTime{FormType: "I-485", Category: "Family-based", Office: "NBC", MedianDays: 50, P80Days: 80, Cases: 10, ComputedAt: computedAt}
	i765        = casegate.ProcessingTime{FormType: "I-765", MedianDays: 120, P80Days: 150, Cases: 3, ComputedAt: computedAt}
	i765MSC     = casegate.ProcessingTime{FormType: "I-765", Office: "MSC", MedianDays: 120, P80Days: 150, Cases: 3, ComputedAt: computedAt}
	withheldFor = func(form string) casegate.ProcessingTime {
		return casegate.ProcessingTime{FormType: form, Withheld: true, ComputedAt: computedAt}
	}
)

func checkTimes(t *testing.T, what string, got, want []casegate.ProcessingTime) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d figures, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: figure %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// TestAccumulatorGroupsByFormCategoryOffice checks each group's figures and
// each form's whole-form figure, over every case of the form, that Result
// adds before the form's groups.
func TestAccumulatorGroupsByFormCategoryOffice(t *testing.T) {
	checkTimes(t, "Result", sample().Result(computedAt), []casegate.ProcessingTime{i485, i485Emp, i485Fam, i765, i765MSC})
	if empty := NewAccumulator().Result(computedAt); len(empty) != 0 {
		t.Errorf("no cases gave %+v, want no groups", empty)
	}
}

// TestPublish holds the rule of review point 10: a figure is published only
// with at least minCases cases; a form's whole-form figure is always listed,
// withheld (no days, no count) when it has fewer.
func TestPublish(t *testing.T) {
	all := sample().Result(computedAt)
	cases := []struct {
		min  int
		want []casegate.ProcessingTime
	}{
		{0, []casegate.ProcessingTime{i485, i485Emp, i485Fam, i765, i765MSC}}, // below 1 counts as 1
		{1, []casegate.ProcessingTime{i485, i485Emp, i485Fam, i765, i765MSC}},
		{2, []casegate.ProcessingTime{i485, i485Fam, i765, i765MSC}},
		{3, []casegate.ProcessingTime{i485, i485Fam, i765, i765MSC}},
		{4, []casegate.ProcessingTime{i485, i485Fam, withheldFor("I-765")}},
		{10, []casegate.ProcessingTime{i485, i485Fam, withheldFor("I-765")}},
		{11, []casegate.ProcessingTime{i485, withheldFor("I-765")}},
		{12, []casegate.ProcessingTime{withheldFor("I-485"), withheldFor("I-765")}},
	}
	for _, c := range cases {
		checkTimes(t, fmt.Sprintf("at least %d", c.min), Publish(all, c.min), c.want)
	}
	if got := Publish(nil, 10); len(got) != 0 {
		t.Errorf("nothing computed: %+v", got)
	}
	// Figures stored before whole-form figures existed: a form with a group
	// too small gets a withheld whole-form figure, never the group's.
	old := []casegate.ProcessingTime{i485Emp, i485Fam, i765MSC}
	checkTimes(t, "without whole-form figures", Publish(old, 10), []casegate.ProcessingTime{withheldFor("I-485"), i485Fam, withheldFor("I-765")})
	// In any order.
	shuffled := []casegate.ProcessingTime{i765MSC, i485Fam, i765, i485Emp, i485}
	checkTimes(t, "shuffled", Publish(shuffled, 10), []casegate.ProcessingTime{i485, i485Fam, withheldFor("I-765")})
}

// TestForCase picks the figure a case is shown: its group's, else its form's
// whole-form figure, published or withheld.
func TestForCase(t *testing.T) {
	pub := Publish(sample().Result(computedAt), 10)
	cases := []struct {
		name                   string
		form, category, office string
		want                   casegate.ProcessingTime
		ok                     bool
	}{
		{"its group has enough", "I-485", "Family-based", "NBC", i485Fam, true},
		{"its group has one case", "I-485", "Employment-based", "NBC", i485, true},
		{"no case of its group finished", "I-485", "Family-based", "TSC", i485, true},
		{"no category, another office", "I-485", "", "NBC", i485, true},
		{"the whole form has too few", "I-765", "", "MSC", withheldFor("I-765"), true},
		{"no case of its form finished", "N-400", "", "NBC", withheldFor("N-400"), true},
		{"case differs from the figures' only in case", "i-485", "family-based", "nbc", withheldFor("i-485"), true},
	}
	for _, c := range cases {
		got, ok := ForCase(pub, c.form, c.category, c.office)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if got, ok := ForCase(nil, "I-485", "Family-based", "NBC"); ok {
		t.Errorf("no figures at all: %+v, want none", got)
	}
}

func BenchmarkAccumulate1M(b *testing.B) {
	r := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	forms := []string{"I-485", "I-130", "I-765", "N-400"}
	offices := []string{"NBC", "MSC", "TSC", "VSC", "CSC"}
	for b.Loop() {
		a := NewAccumulator()
		for i := range 1_000_000 {
			a.Add(casegate.Completion{FormType: forms[i%4], Office: offices[i%5], ReceivedOn: r, CompletedAt: r.AddDate(0, 0, i%400)})
		}
		a.Result(r)
	}
}
