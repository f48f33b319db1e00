package portal

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// newTestPortal returns a portal over a fresh SQLite file, with its clock at now.
func newTestPortal(t *testing.T, now time.Time) (*Portal, casegate.Store) {
	t.Helper()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	p, err := New(Deps{Store: st, Keys: keys, Limits: DefaultLimits(), Now: func() time.Time { return now }})
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

func TestProcessingTimesKnownAnswers(t *testing.T) {
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC) // the window starts 2025-07-15
	p, st := newTestPortal(t, now)
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
		{FormType: "I-485", Category: "Family-based", Office: "NBC", MedianDays: 150, P80Days: 200, Cases: 5, ComputedAt: now},
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
	if err != nil || len(stored) != 1 || stored[0].P80Days != 200 || !stored[0].ComputedAt.Equal(now) {
		t.Fatalf("stored lookup = %+v, %v", stored, err)
	}
	if none, _ := p.ProcessingTimes(t.Context(), "I-130", ""); len(none) != 0 {
		t.Errorf("a form with no finished cases has %+v", none)
	}

	// Case 7 is open, received 2025-03-01: inquiry date + 200 days = 2025-09-17, now past it.
	view := caseFor(t, p, st, "IOE0000000007")
	if view.ProcessingTime == nil || !view.InquiryDate.Equal(time.Date(2025, 9, 17, 0, 0, 0, 0, time.UTC)) || !view.OutsideNormal || view.Completed {
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
