package stats

import (
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

func TestAccumulatorGroupsByFormCategoryOffice(t *testing.T) {
	r := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	done := func(form, cat, office string, days int) casegate.Completion {
		return casegate.Completion{FormType: form, Category: cat, Office: office, ReceivedOn: r, CompletedAt: r.AddDate(0, 0, days)}
	}
	a := NewAccumulator()
	for _, d := range []int{100, 50, 200, 150, 300} {
		a.Add(done("I-485", "Family-based", "NBC", d))
	}
	a.Add(done("I-485", "Employment-based", "NBC", 400))
	a.Add(done("I-765", "", "MSC", 90))
	at := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
	got := a.Result(at)
	want := []casegate.ProcessingTime{
		{FormType: "I-485", Category: "Employment-based", Office: "NBC", MedianDays: 400, P80Days: 400, Cases: 1, ComputedAt: at},
		{FormType: "I-485", Category: "Family-based", Office: "NBC", MedianDays: 150, P80Days: 200, Cases: 5, ComputedAt: at},
		{FormType: "I-765", Category: "", Office: "MSC", MedianDays: 90, P80Days: 90, Cases: 1, ComputedAt: at},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d groups, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("group %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if empty := NewAccumulator().Result(at); len(empty) != 0 {
		t.Errorf("no cases gave %+v, want no groups", empty)
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
