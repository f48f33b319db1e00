package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/portal"
)

// newYork is the zone of the tests below: daylight saving time began there
// at 07:00 UTC on 8 March 2026 (02:00 EST became 03:00 EDT).
func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestVerifyPageAndCodeShowTheZone asks for a code on the page just before
// and just after the change to daylight saving time, in English and in
// Spanish: the verify page and the email name the zone's time and its
// abbreviation, never UTC.
func TestVerifyPageAndCodeShowTheZone(t *testing.T) {
	tests := []struct {
		lang       string
		now        time.Time
		resendAt   string // now + 30 s
		expiresMsg string // now + 10 min
	}{
		{"en", time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC), "01:00 EST", "It expires at 01:10 EST (in 10 minutes)."},
		{"en", time.Date(2026, 3, 8, 6, 59, 50, 0, time.UTC), "03:00 EDT", "It expires at 03:09 EDT (in 10 minutes)."},
		{"es", time.Date(2026, 3, 8, 6, 59, 50, 0, time.UTC), "03:00 EDT", "03:09 EDT"},
	}
	for _, tt := range tests {
		s := newStackWith(t, stackMail{loc: newYork(t)}, relaxed)
		s.clock.Set(tt.now)
		form := joseForm
		req := s.page(t, "POST", "/request", form, map[string]string{"Accept-Language": tt.lang})
		if req.status() != http.StatusSeeOther {
			t.Fatalf("request: %d %q", req.status(), req.text("main"))
		}
		var flow string
		for _, c := range req.resp.Cookies() {
			if c.Name == "casegate_flow" {
				flow = c.Name + "=" + c.Value
			}
		}
		verify := s.page(t, "GET", "/verify", nil, map[string]string{"Accept-Language": tt.lang, "Cookie": flow})
		if got := verify.text("#resend-at time"); got != tt.resendAt {
			t.Errorf("%s at %v: the verify page says a new code from %q, want %q", tt.lang, tt.now, got, tt.resendAt)
		}
		mail, _ := s.waitCode(1)
		if !strings.Contains(mail.Text, tt.expiresMsg) || strings.Contains(mail.Text+mail.HTML, "UTC") {
			t.Errorf("%s at %v: want %q in the code email:\n%s", tt.lang, tt.now, tt.expiresMsg, mail.Text)
		}
	}
}

// TestCasePageShowsDaysInTheZone posts a status change at 03:00 UTC on
// 2 March, still 1 March in New York: the case page shows the day it was
// there, in English and Spanish, while a case's received date, a calendar
// day, is shown as it is.
func TestCasePageShowsDaysInTheZone(t *testing.T) {
	s := newStackWith(t, stackMail{loc: newYork(t)}, relaxed)
	at := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	if _, _, err := s.portal.PostStatusEvent(t.Context(), "IOE0912345678", portal.StatusEventInput{Status: "interview_scheduled", At: at}, "test"); err != nil {
		t.Fatal(err)
	}
	token := s.signIn(jose, 1)
	for lang, want := range map[string][2]string{"en": {"March 1, 2026", "March 14, 2025"}, "es": {"1 de marzo de 2026", "14 de marzo de 2025"}} {
		p := s.page(t, "GET", "/cases/IOE0912345678", nil, map[string]string{"Accept-Language": lang, "Cookie": sessionCookie + "=" + token})
		if p.status() != http.StatusOK {
			t.Fatalf("%s: case page %d", lang, p.status())
		}
		first := p.doc.Find("li.event time").First()
		if got := strings.TrimSpace(first.Text()); got != want[0] || first.AttrOr("datetime", "") != "2026-03-02T03:00:00Z" {
			t.Errorf("%s: newest event shown as %q (%s), want %q", lang, got, first.AttrOr("datetime", ""), want[0])
		}
		if !strings.Contains(p.text("main"), want[1]) {
			t.Errorf("%s: the received date %q is not shown as it is", lang, want[1])
		}
	}
}
