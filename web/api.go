package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

type codeRequestBody struct {
	ReceiptNumber  string `json:"receipt_number"`
	ANumber        string `json:"a_number"`
	GivenName      string `json:"given_name"`
	FamilyName     string `json:"family_name"`
	DateOfBirth    string `json:"date_of_birth"`
	CountryOfBirth string `json:"country_of_birth"`
	Channel        string `json:"channel"`
	Language       string `json:"language"`
}

type codeIssuedBody struct {
	RequestID   string    `json:"request_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	ResendAfter time.Time `json:"resend_after"`
}

func issuedBody(c portal.CodeIssued) codeIssuedBody {
	return codeIssuedBody{RequestID: c.RequestID, ExpiresAt: c.ExpiresAt.UTC(), ResendAfter: c.ResendAfter.UTC()}
}

func (s *Server) requestCode(w http.ResponseWriter, r *http.Request) error {
	var b codeRequestBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	issued, err := s.portal.RequestCode(r.Context(), portal.CodeRequest{
		ReceiptNumber: b.ReceiptNumber, ANumber: b.ANumber, GivenName: b.GivenName, FamilyName: b.FamilyName,
		DateOfBirth: b.DateOfBirth, CountryOfBirth: b.CountryOfBirth, Channel: b.Channel, Language: b.Language,
		ClientIP: s.clientIP(r),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, issuedBody(issued))
	return nil
}

func (s *Server) resendCode(w http.ResponseWriter, r *http.Request) error {
	issued, err := s.portal.Resend(r.Context(), r.PathValue("request_id"), s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, issuedBody(issued))
	return nil
}

type sessionBody struct {
	RequestID string `json:"request_id"`
	Code      string `json:"code"`
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	var b sessionBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	fields := map[string]casegate.Msg{}
	if b.RequestID == "" {
		fields["request_id"] = casegate.M("api.send_request_id")
	}
	if b.Code == "" {
		fields["code"] = casegate.M(msgEnterCode)
	}
	if len(fields) > 0 {
		return casegate.FieldErrors(fields)
	}
	in, err := s.portal.Redeem(r.Context(), b.RequestID, b.Code, s.clientIP(r))
	if err != nil {
		return err
	}
	s.setSessionCookie(w, in.Token)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"token": in.Token, "expires_at": in.ExpiresAt.UTC()})
	return nil
}

// setSessionCookie sets (or, with an empty token, clears) the session cookie.
// It is a browser-session cookie, without Expires or Max-Age: closing the
// browser, on a shared computer say, drops it. The server ends the session
// after its idle and absolute limits whatever the browser keeps.
func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	c := &http.Cookie{
		Name: s.cookie, Value: token, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteStrictMode,
	}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.portal.SignOut(r.Context(), session(r), s.clientIP(r)); err != nil {
		return err
	}
	s.setSessionCookie(w, "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteAllSessions(w http.ResponseWriter, r *http.Request) error {
	if err := s.portal.SignOutEverywhere(r.Context(), session(r), s.clientIP(r)); err != nil {
		return err
	}
	s.setSessionCookie(w, "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type eventBody struct {
	Status      string    `json:"status"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	At          time.Time `json:"at"`
}

// processingTimeBody is one processing time: of a group (a form, category
// and office) or of a whole form; a whole form's may lack the figures, when
// too few of its cases finished (enough_cases false).
type processingTimeBody struct {
	FormType    string    `json:"form_type"`
	Scope       string    `json:"scope"` // "group" or "form"
	Category    string    `json:"category,omitempty"`
	Office      string    `json:"office,omitempty"`
	EnoughCases bool      `json:"enough_cases"`
	MedianDays  *int      `json:"median_days,omitempty"`
	P80Days     *int      `json:"p80_days,omitempty"`
	Cases       *int      `json:"cases,omitempty"`
	DataAsOf    time.Time `json:"data_as_of"`
}

func processingTimeJSON(p casegate.ProcessingTime) processingTimeBody {
	b := processingTimeBody{FormType: p.FormType, Scope: "group", Category: p.Category, Office: p.Office,
		EnoughCases: !p.Withheld, DataAsOf: p.ComputedAt.UTC()}
	if p.WholeForm() {
		b.Scope = "form"
	}
	if !p.Withheld {
		b.MedianDays, b.P80Days, b.Cases = &p.MedianDays, &p.P80Days, &p.Cases
	}
	return b
}

type subscriptionBody struct {
	Email bool `json:"email"`
	SMS   bool `json:"sms"`
}

type caseBody struct {
	ReceiptNumber  string              `json:"receipt_number"`
	FormType       string              `json:"form_type"`
	Category       string              `json:"category,omitempty"`
	Office         string              `json:"office,omitempty"`
	ReceivedOn     string              `json:"received_on"`
	Role           string              `json:"role"`
	Status         string              `json:"status,omitempty"`
	StatusTitle    string              `json:"status_title,omitempty"`
	UpdatedAt      *time.Time          `json:"updated_at,omitempty"`
	History        []eventBody         `json:"history"`
	ProcessingTime *processingTimeBody `json:"processing_time,omitempty"`
	InquiryDate    string              `json:"inquiry_date,omitempty"`
	Completed      bool                `json:"completed"`
	OutsideNormal  bool                `json:"outside_normal_processing_time"`
	Subscription   subscriptionBody    `json:"subscription"`
}

// caseJSON is a case for API clients, its statuses named in lang.
func caseJSON(c portal.CaseView, lang string) caseBody {
	b := caseBody{
		ReceiptNumber: c.ReceiptNumber, FormType: c.FormType, Category: c.Category, Office: c.Office,
		ReceivedOn: c.ReceivedOn.Format(time.DateOnly), Role: string(c.Role), Status: c.Status,
		History:   make([]eventBody, 0, len(c.History)),
		Completed: c.Completed, OutsideNormal: c.OutsideNormal,
		Subscription: subscriptionBody{Email: c.Subscription.Email, SMS: c.Subscription.SMS},
	}
	if c.Status != "" {
		b.StatusTitle = casegate.StatusTitle(c.Status, c.StatusTitle, lang)
	}
	if !c.UpdatedAt.IsZero() {
		t := c.UpdatedAt.UTC()
		b.UpdatedAt = &t
	}
	for _, e := range c.History {
		ev := eventBody{Status: e.Status, Title: casegate.StatusTitle(e.Status, e.Title, lang), At: e.At.UTC()}
		if info, ok := casegate.Status(e.Status); ok {
			ev.Description = info.DescriptionFor(lang, c.Role)
		}
		b.History = append(b.History, ev)
	}
	if c.ProcessingTime != nil {
		pt := processingTimeJSON(*c.ProcessingTime)
		b.ProcessingTime = &pt
	}
	if !c.InquiryDate.IsZero() {
		b.InquiryDate = c.InquiryDate.Format(time.DateOnly)
	}
	return b
}

type partyBody struct {
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Language   string `json:"language"`
}

func partyJSON(p portal.PartyView) partyBody {
	return partyBody{GivenName: p.GivenName, FamilyName: p.FamilyName, Email: p.Email, Phone: p.Phone, Language: p.Language}
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	d, err := s.portal.Dashboard(r.Context(), session(r))
	if err != nil {
		return err
	}
	lang := s.cat.acceptLanguage(r.Header.Get("Accept-Language"))
	cases := make([]caseBody, 0, len(d.Cases))
	for _, c := range d.Cases {
		cases = append(cases, caseJSON(c, lang))
	}
	writeJSON(w, http.StatusOK, map[string]any{"party": partyJSON(d.Party), "cases": cases})
	return nil
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) error {
	c, err := s.portal.Case(r.Context(), session(r), r.PathValue("receipt_number"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, caseJSON(c, s.cat.acceptLanguage(r.Header.Get("Accept-Language"))))
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// devMailbox lists the demo mailbox: demo mode only.
func (s *Server) devMailbox(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"messages": s.mailbox.Messages()})
	return nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, casegate.NewError(casegate.ENotFound, msgNothingHere)
	}
	return id, nil
}
