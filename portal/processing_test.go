package portal

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// newTestPortal returns a portal over a fresh SQLite file, with its clock at
// now and the default limits, changed by each of change.
func newTestPortal(t *testing.T, now time.Time, change ...func(*Limits)) (*Portal, casegate.Store) {
	t.Helper()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	limits := DefaultLimits()
	for _, f := range change {
		f(&limits)
	}
	p, err := New(Deps{Store: st, Keys: keys, Limits: limits, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

// finishedCase is one JSON Lines case received on received with events "status@YYYY-MM-DD".
func finishedCase(n int, form, category, office, received string, events ...string) string {
	var hist []string
	for _, e := range events {
		status, at, _ := strings.Cut(e, "@")
		hist = append(hist, fmt.Sprintf(`{"status":%q,"at":"%sT12:00:00Z"}`, status, at))
	}
	return fmt.Sprintf(`{"receipt_number":"IOE%010d","form_type":%q,"category":%q,"office":%q,"received_on":%q,"history":[%s],`+
		`"parties":[{"role":"applicant","given_name":"P%d","family_name":"Test","date_of_birth":"1990-01-01","country_of_birth":"MX","email":"p%d@example.com"}]}`,
		n, form, category, office, received, strings.Join(hist, ","), n, n)
}

// publishAll publishes a figure from any number of cases, for tests of how
// figures are computed rather than of when they are published.
func publishAll(l *Limits) { l.ProcessingMinCases = 1 }

func TestProcessingTimesKnownAnswers(t *testing.T) {
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC) // the window starts 2025-07-15
	p, st := newTestPortal(t, now, publishAll)
	lines := []string{
		// Five finished in the window: 140, 150, 150, 200, 300 days → median 150, 80th 200.
		finishedCase(1, "I-485", "Family-based", "NBC", "2025-03-01", "received@2025-03-01", "approved@2025-07-19"),
		finishedCase(2, "I-485", "Family-based", "NBC", "2025-03-01", "approved@2025-07-29"),
		finishedCase(3, "I-485", "Family-based", "NBC", "2025-03-01", "denied@2025-07-29"),
		// The first terminal event counts, not a later one.
		finishedCase(4, "I-485", "Family-based", "NBC", "2025-03-01", "approved@2025-09-17", "card_mailed@2025-11-20"),
		finishedCase(5, "I-485", "Family-based", "NBC", "2025-03-01", "withdrawn@2025-12-26"),
		// Finished before the 6-month window: left out.
		finishedCase(6, "I-485", "Family-based", "NBC", "2024-06-01", "approved@2025-06-01"),
		// Open, and one with only a custom (non-terminal) status: left out.
		finishedCase(7, "I-485", "Family-based", "NBC", "2025-03-01", "received@2025-03-01"),
		finishedCase(8, "I-485", "Family-based", "NBC", "2026-01-01", "custom_review@2026-01-02"),
		// Another group: one case of 60 days.
		finishedCase(9, "I-765", "", "MSC", "2025-08-01", "approved@2025-09-30"),
	}
	im := &Importer{Store: st, Keys: testenv.Keyring(t)}
	res, err := im.Import(t.Context(), strings.NewReader(strings.Join(lines, "\n")), "jsonl", "test", nil)
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	pts, err := p.RecomputeProcessingTimes(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	want := []casegate.ProcessingTime{
		{FormType: "I-485", MedianDays: 150, P80Days: 200, Cases: 5, ComputedAt: now}, // the whole form: the same cases
		{FormType: "I-485", Category: "Family-based", Office: "NBC", MedianDays: 150, P80Days: 200, Cases: 5, ComputedAt: now},
		{FormType: "I-765", MedianDays: 60, P80Days: 60, Cases: 1, ComputedAt: now},
		{FormType: "I-765", Category: "", Office: "MSC", MedianDays: 60, P80Days: 60, Cases: 1, ComputedAt: now},
	}
	if len(pts) != len(want) {
		t.Fatalf("processing times = %+v, want %+v", pts, want)
	}
	for i := range want {
		if pts[i] != want[i] {
			t.Errorf("group %d = %+v, want %+v", i, pts[i], want[i])
		}
	}
	stored, err := p.ProcessingTimes(t.Context(), "i-485", "nbc")
	if err != nil || len(stored) != 2 || stored[1].Office != "NBC" || stored[1].P80Days != 200 || !stored[1].ComputedAt.Equal(now) {
		t.Fatalf("stored lookup = %+v, %v", stored, err)
	}
	if none, _ := p.ProcessingTimes(t.Context(), "I-130", ""); len(none) != 0 {
		t.Errorf("a form with no finished cases has %+v", none)
	}

	// Case 7 is open, received 2025-03-01: inquiry date + 200 days = 2025-09-17, now past it.
	view := caseFor(t, p, st, "IOE0000000007")
	if view.ProcessingTime == nil || view.ProcessingTime.Office != "NBC" || !view.InquiryDate.Equal(time.Date(2025, 9, 17, 0, 0, 0, 0, time.UTC)) || !view.OutsideNormal || view.Completed {
		t.Errorf("open old case: %+v", view)
	}
	// Case 8 was received two weeks ago: not outside normal time.
	if v := caseFor(t, p, st, "IOE0000000008"); v.OutsideNormal || !v.InquiryDate.Equal(time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("recent case: %+v", v)
	}
	// Case 1 is finished: never outside normal time.
	if v := caseFor(t, p, st, "IOE0000000001"); !v.Completed || v.OutsideNormal {
		t.Errorf("finished case: %+v", v)
	}
}

// caseFor returns the case as its applicant sees it.
func caseFor(t *testing.T, p *Portal, st casegate.Store, receipt string) CaseView {
	t.Helper()
	var partyID int64
	err := st.View(t.Context(), func(tx casegate.Tx) error {
		ps, err := tx.PartiesByReceipt(t.Context(), receipt)
		if len(ps) == 1 {
			partyID = ps[0].ID
		}
		return err
	})
	if err != nil || partyID == 0 {
		t.Fatalf("party of %s: %v", receipt, err)
	}
	v, err := p.Case(t.Context(), casegate.Session{PartyID: partyID}, receipt)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestProcessingTimesNeedEnoughCases holds review point 10: a figure from
// fewer than 10 finished cases (the default) is never published, neither in
// the list nor on a case; a case whose group has too few gets its form's
// whole-form figure, and without one no inquiry date.
func TestProcessingTimesNeedEnoughCases(t *testing.T) {
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC) // the window starts 2025-07-15
	p, st := newTestPortal(t, now)
	received := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	after := func(days int) string { return "approved@" + received.AddDate(0, 0, days).Format(time.DateOnly) }
	var lines []string
	n := 0
	add := func(form, category, office string, events ...string) {
		n++
		lines = append(lines, finishedCase(n, form, category, office, received.Format(time.DateOnly), events...))
	}
	// I-485 Family-based at NBC: 10 cases of 141, 151, … 231 days.
	for i := range 10 {
		add("I-485", "Family-based", "NBC", after(141+10*i))
	}
	add("I-485", "Employment-based", "NBC", after(300)) // 11: a group of one
	add("I-765", "", "MSC", after(150))                 // 12–14: a form of three
	add("I-765", "", "MSC", after(160))
	add("I-765", "", "MSC", after(170))
	add("I-485", "Employment-based", "NBC", "received@2025-03-01") // 15: open, in the group of one
	add("I-765", "", "MSC", "received@2025-03-01")                 // 16: open, in the form of three
	add("I-485", "Family-based", "TSC", "received@2025-03-01")     // 17: open, at an office with no finished case
	im := p.Importer()
	if res, err := im.Import(t.Context(), strings.NewReader(strings.Join(lines, "\n")), "jsonl", "test", nil); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if _, err := p.RecomputeProcessingTimes(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	pts, err := p.ProcessingTimes(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range pts {
		if pt.Cases < 10 && (pt.Cases != 0 || pt.MedianDays != 0 || pt.P80Days != 0) {
			t.Errorf("published from %d cases: %+v", pt.Cases, pt)
		}
	}
	// The whole of I-485: 11 cases, 141 … 231 and 300 days: median 191, 80th percentile 221.
	want := []casegate.ProcessingTime{
		{FormType: "I-485", MedianDays: 191, P80Days: 221, Cases: 11, ComputedAt: now},
		{FormType: "I-485", Category: "Family-based", Office: "NBC", MedianDays: 181, P80Days: 211, Cases: 10, ComputedAt: now},
		{FormType: "I-765", Withheld: true, ComputedAt: now},
	}
	if len(pts) != len(want) {
		t.Fatalf("published %+v, want %+v", pts, want)
	}
	for i := range want {
		if pts[i] != want[i] {
			t.Errorf("figure %d = %+v, want %+v", i, pts[i], want[i])
		}
	}
	// An office filter keeps the whole-form figures, which cover every office.
	if tsc, _ := p.ProcessingTimes(t.Context(), "", "TSC"); len(tsc) != 2 || !tsc[0].WholeForm() || !tsc[1].Withheld {
		t.Errorf("office TSC: %+v, want the two whole-form figures", tsc)
	}
	wholeForm := func(receipt string) {
		t.Helper()
		v := caseFor(t, p, st, receipt)
		if pt := v.ProcessingTime; pt == nil || pt.Office != "" || pt.Category != "" || pt.Cases != 11 || pt.P80Days != 221 ||
			!v.InquiryDate.Equal(received.AddDate(0, 0, 221)) || !v.OutsideNormal {
			t.Errorf("%s: %+v (%+v), want I-485's whole-form figure and the inquiry date from it", receipt, v, v.ProcessingTime)
		}
	}
	wholeForm("IOE0000000015")
	wholeForm("IOE0000000017")
	v := caseFor(t, p, st, "IOE0000000016")
	if !v.InquiryDate.IsZero() || v.OutsideNormal || v.ProcessingTime == nil || !v.ProcessingTime.Withheld {
		t.Errorf("a case whose form has 3 finished cases: inquiry date %v, outside normal %v, figure %+v; want neither, withheld",
			v.InquiryDate, v.OutsideNormal, v.ProcessingTime)
	}

	// The minimum is a setting: at 3, the form of three is published, the group of one is not.
	p3, err := New(Deps{Store: st, Keys: testenv.Keyring(t), Limits: func() Limits {
		l := DefaultLimits()
		l.ProcessingMinCases = 3
		return l
	}(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	pts, err = p3.ProcessingTimes(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pt := range pts {
		got = append(got, fmt.Sprintf("%s/%s/%s:%d", pt.FormType, pt.Category, pt.Office, pt.Cases))
	}
	if strings.Join(got, " ") != "I-485//:11 I-485/Family-based/NBC:10 I-765//:3 I-765//MSC:3" {
		t.Errorf("at least 3 cases: %v", got)
	}
}
