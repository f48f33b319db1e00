package main

import (
	"path/filepath"
	"testing"

	"github.com/casegate/casegate/synth"
)

// TestDemoProcessingTimesHaveADistribution loads the demo's cases as
// `casegate demo` does and checks what it publishes: figures for groups of
// a form's category and office, not only whole-form ones, each from at least
// the minimum of finished cases, and with a median below the 80th
// percentile, as days spread over many cases give. A figure from one or two
// cases has them equal. A few may be equal by chance; most may not.
func TestDemoProcessingTimesHaveADistribution(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "demo.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	a := openTestApp(t, vars)
	res, pts, err := seedDemo(t.Context(), a, demoCases, synth.Options{Seed: demoSeed})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		t.Fatalf("the demo's cases had %d rejected lines: %+v", len(res.Rejected), res.Rejected[0])
	}
	minCases := a.portal.ProcessingMinCases()
	if minCases != 10 {
		t.Fatalf("minimum of cases %d, want the default 10", minCases)
	}
	var figures, groups, spread int
	for _, pt := range pts {
		if pt.Withheld {
			continue
		}
		figures++
		if !pt.WholeForm() {
			groups++
		}
		if pt.Cases < minCases {
			t.Errorf("%s %q %s published from %d cases, fewer than %d", pt.FormType, pt.Category, pt.Office, pt.Cases, minCases)
		}
		if pt.MedianDays < pt.P80Days {
			spread++
		} else {
			t.Logf("%s %q %s: median %d, 80th percentile %d, from %d cases", pt.FormType, pt.Category, pt.Office, pt.MedianDays, pt.P80Days, pt.Cases)
		}
	}
	if groups < 8 {
		t.Errorf("the demo publishes %d figures of a category and office (and %d in all), want at least 8", groups, figures)
	}
	if figures == 0 || spread*10 < figures*9 {
		t.Errorf("%d of %d published figures have a median below the 80th percentile, want at least 9 in 10", spread, figures)
	}
}
