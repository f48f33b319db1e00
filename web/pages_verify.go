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
	Resent      bool          // a new code was just sent
}

// renderVerify shows the verify page for f with the errors already in d.
func (s *Server) renderVerify(w http.ResponseWriter, r *http.Request, status int, d *pageData, f flow, resent bool) error {
	now := s.now()
	d.Path = "/verify"
	d.Page = verifyPage{
		ExpiresAt: f.ExpiresAt, Left: max(f.ExpiresAt.Sub(now), 0),
		ResendAfter: f.ResendAfter, ResendWait: max(f.ResendAfter.Sub(now), 0),
		Resent: resent,
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
