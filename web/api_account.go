package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/portal"
)

type contactBody struct {
	Email string `json:"email"`
	Phone string `json:"phone"`
}

func (s *Server) startContactChange(w http.ResponseWriter, r *http.Request) error {
	var b contactBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	// The code speaks the language the client asks in, else the party's.
	lang := ""
	if h := r.Header.Get("Accept-Language"); h != "" {
		lang = s.cat.acceptLanguage(h)
	}
	c, err := s.portal.StartContactChange(r.Context(), session(r), b.Email, b.Phone, lang, s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"change_id": c.ID, "expires_at": c.ExpiresAt.UTC()})
	return nil
}

type confirmBody struct {
	Code string `json:"code"`
}

func (s *Server) confirmContactChange(w http.ResponseWriter, r *http.Request) error {
	var b confirmBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	p, err := s.portal.ConfirmContactChange(r.Context(), session(r), r.PathValue("change_id"), b.Code, s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, partyJSON(p))
	return nil
}

func (s *Server) setSubscription(w http.ResponseWriter, r *http.Request) error {
	var b subscriptionBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	sub, err := s.portal.SetSubscription(r.Context(), session(r), r.PathValue("receipt_number"), b.Email, b.SMS)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionBody{Email: sub.Email, SMS: sub.SMS})
	return nil
}

// processingTimesMethod explains, for API clients, how the figures are made.
const processingTimesMethod = "For each form type, category and office (scope group), and for each form type as a whole, " +
	"every category and office together (scope form): the cases whose first final decision " +
	"(approved, card produced or mailed, denied, withdrawn) came in the last 6 months; the number of days from " +
	"the date the case was received to that decision; the median and the 80th percentile (nearest rank). " +
	"8 of 10 of those cases finished within p80_days. A figure is published only when it comes from enough cases " +
	"(the deployment's minimum, 10 by default): a group with fewer is left out, and its cases are given their form's " +
	"figure; a form with fewer is listed with enough_cases false and no figures. A case's inquiry date is its " +
	"received date plus the p80_days of the figure it is given; with no figure, it has none."

func (s *Server) processingTimesAPI(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pts, err := s.portal.ProcessingTimes(r.Context(), q.Get("form"), q.Get("office"))
	if err != nil {
		return err
	}
	out := make([]processingTimeBody, 0, len(pts))
	for _, p := range pts {
		out = append(out, processingTimeJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"method": processingTimesMethod, "processing_times": out})
	return nil
}

type postEventBody struct {
	Status string  `json:"status"`
	Title  string  `json:"title"`
	At     *string `json:"at"` // RFC 3339, read by caseimport.ParseTimestamp; absent for now
}

// postEvent adds a status event: 201 when this post added it, 200 with the
// event on file when it was there already (the same event, or a retry with
// the same Idempotency-Key), so a retry answers the same event and notifies
// nobody again.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) error {
	key, err := idempotencyKey(r.Header)
	if err != nil {
		return err
	}
	var b postEventBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	var at time.Time
	if b.At != nil {
		if at, err = caseimport.ParseTimestamp(*b.At); err != nil {
			return casegate.FieldError("at", "event.at")
		}
	}
	e, added, err := s.portal.PostStatusEvent(r.Context(), r.PathValue("receipt_number"),
		portal.StatusEventInput{Status: b.Status, Title: b.Title, At: at, IdempotencyKey: key}, adminActor(r))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"status": e.Status, "title": e.Title, "at": e.At.UTC(), "added": added})
	return nil
}

// idempotencyKey reads the Idempotency-Key header: a string of 1 to 255
// visible ASCII characters, bare or, as a structured-field string, in
// double quotes; "" when there is none. Two of them are refused.
func idempotencyKey(h http.Header) (string, error) {
	vs := h.Values("Idempotency-Key")
	if len(vs) == 0 {
		return "", nil
	}
	v := strings.TrimSpace(vs[0])
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(vs) > 1 || !portal.ValidIdempotencyKey(v) {
		return "", casegate.NewError(casegate.EInvalid, "event.idempotency_key")
	}
	return v, nil
}

func (s *Server) recomputeProcessingTimes(w http.ResponseWriter, r *http.Request) error {
	pts, err := s.portal.RecomputeProcessingTimes(r.Context(), adminActor(r))
	if err != nil {
		return err
	}
	out := make([]processingTimeBody, 0, len(pts))
	for _, p := range pts {
		out = append(out, processingTimeJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"processing_times": out})
	return nil
}
