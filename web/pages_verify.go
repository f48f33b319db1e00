package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate"
)

// verifyPage is the data of the page where the code is entered.
type verifyPage struct {
	ExpiresAt   time.Time
	Left        time.Duration // until the code expires; 0 once it has
	ResendAfter time.Time
	ResendWait  time.Duration // until a new code may be asked for; 0 when it may
	ResendClock string        // when a new code may be asked for, as a clock time
	Resent      bool          // a new code was just sent
	Ended       bool          // too many wrong codes: only a new request helps
}

// clock writes t as the code messages write times: a 24-hour clock in the
// deployment's time zone (CASEGATE_TIME_ZONE) with the zone named, "15:04
// EST". The server knows no person's own time zone; the script turns it
// into a countdown (docs/decisions.md).
func (s *Server) clock(t time.Time) string { return t.In(s.loc).Format("15:04 MST") }

// renderEnded shows the verify page of a request that can no longer sign
// anyone in: the message in d, no code box, no resend, and the way to a new
// request. The flow is over, so the flow cookie goes.
func (s *Server) renderEnded(w http.ResponseWriter, r *http.Request, status int, d *pageData) error {
	s.clearFlow(w)
	d.Path = "/verify"
	d.Page = verifyPage{Ended: true}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, "verify", d)
}

// renderVerify shows the verify page for f with the errors already in d.
func (s *Server) renderVerify(w http.ResponseWriter, r *http.Request, status int, d *pageData, f flow, resent bool) error {
	now := s.now()
	d.Path = "/verify"
	d.Page = verifyPage{
		ExpiresAt: f.ExpiresAt, Left: max(f.ExpiresAt.Sub(now), 0),
		ResendAfter: f.ResendAfter, ResendWait: max(f.ResendAfter.Sub(now), 0),
		ResendClock: s.clock(f.ResendAfter), Resent: resent,
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, "verify", d)
}

// toRequest sends a person without a live flow back to the start.
func toRequest(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/request", http.StatusSeeOther)
	return nil
}

func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) error {
	f, ok := s.readFlow(r)
	if !ok {
		return toRequest(w, r)
	}
	return s.renderVerify(w, r, http.StatusOK, s.newPage(r, nil), f, r.URL.Query().Get("resent") == "1")
}

// submitCode redeems the code for the request in the flow cookie. On success
// the session cookie is set exactly as the API sets it.
func (s *Server) submitCode(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	f, ok := s.readFlow(r)
	if !ok {
		return toRequest(w, r)
	}
	d := s.newPage(r, nil)
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		s.codeError(d, s.cat.tr(d.Lang, msgEnterCode))
		return s.renderVerify(w, r, http.StatusBadRequest, d, f, false)
	}
	in, err := s.portal.Redeem(r.Context(), f.RequestID, code, s.clientIP(r))
	if err == nil {
		s.clearFlow(w)
		s.setSessionCookie(w, in.Token)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return nil
	}
	e, ok := casegate.AsError(err)
	if !ok || e.Code == casegate.ERateLimited {
		return err
	}
	msg, _ := s.cat.localError(d.Lang, e)
	if e.Code == casegate.ECodeIncorrect {
		msg += " " + s.cat.trCount(d.Lang, msgAttemptsLeft, e.AttemptsRemaining)
	}
	s.codeError(d, msg)
	if e.Code == casegate.ETooManyAttempts {
		d.FieldErrs = nil // there is no code box to hold it
		d.Errors[0].ID = "new-request"
		return s.renderEnded(w, r, statusOf[e.Code], d)
	}
	return s.renderVerify(w, r, statusOf[e.Code], d, f, false)
}

// codeError puts msg on the code field and in the summary.
func (s *Server) codeError(d *pageData, msg string) {
	d.FieldErrs = map[string]string{"code": msg}
	d.Errors = []summaryItem{{ID: "code", Message: msg}}
}

// resend asks for a new code for the request in the flow cookie.
func (s *Server) resend(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	f, ok := s.readFlow(r)
	if !ok {
		return toRequest(w, r)
	}
	issued, err := s.portal.Resend(r.Context(), f.RequestID, s.clientIP(r))
	if err == nil {
		s.setFlow(w, flowOf(issued))
		http.Redirect(w, r, "/verify?resent=1", http.StatusSeeOther)
		return nil
	}
	e, ok := casegate.AsError(err)
	if !ok {
		return err
	}
	d := s.newPage(r, nil)
	msg, _ := s.cat.localError(d.Lang, e)
	if e.Code == casegate.EResendTooSoon {
		msg += " " + s.cat.trData(d.Lang, msgAskAgainIn, map[string]any{"Wait": s.cat.wait(d.Lang, e.RetryAfter)})
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	d.Errors = []summaryItem{{ID: "resend-submit", Message: msg}}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return s.renderVerify(w, r, status, d, f, false)
}
