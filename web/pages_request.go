package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
	"github.com/casegate/casegate/portal"
)

// maxFormBody bounds every form a page posts.
const maxFormBody = 16 << 10

// readForm parses a posted form within maxFormBody. Values come from the body
// only (r.PostForm), never from the URL.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return casegate.NewError(casegate.EInvalid, msgFormUnread)
	}
	return nil
}

// fieldIDs maps the portal's field names (the API's JSON names) to the ids of
// the page fields they belong to, in the order the form shows them.
var fieldIDs = []struct{ name, id string }{
	{"receipt_number", "receipt_number"},
	{"a_number", "a_number"},
	{"given_name", "given_name"},
	{"family_name", "family_name"},
	{"date_of_birth", "dob_month"},
	{"country_of_birth", "country_of_birth"},
	{"channel", "channel-email"},
	{"code", "code"},
}

// withFieldErrors puts e's field messages, translated, on the fields of d and
// in its error summary. A message about a field the page lacks goes in the
// summary linked to fallback.
func (s *Server) withFieldErrors(d *pageData, e *casegate.Error, fallback string) {
	msg, fields := s.cat.localError(d.Lang, e)
	d.FieldErrs = map[string]string{}
	for _, f := range fieldIDs {
		if m, ok := fields[f.name]; ok {
			d.FieldErrs[f.id] = m
			d.Errors = append(d.Errors, summaryItem{ID: f.id, Message: m})
			delete(fields, f.name)
		}
	}
	if len(d.Errors) == 0 || len(fields) > 0 {
		d.Errors = append(d.Errors, summaryItem{ID: fallback, Message: msg})
	}
}

// requestForm is the posted request form.
type requestForm struct {
	ReceiptNumber, ANumber, GivenName, FamilyName string
	DOBMonth, DOBDay, DOBYear, Country, Channel   string
}

func readRequestForm(r *http.Request) requestForm {
	v := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	return requestForm{
		ReceiptNumber: v("receipt_number"), ANumber: v("a_number"),
		GivenName: v("given_name"), FamilyName: v("family_name"),
		DOBMonth: v("dob_month"), DOBDay: v("dob_day"), DOBYear: v("dob_year"),
		Country: v("country_of_birth"), Channel: v("channel"),
	}
}

// dateOfBirth joins the three date fields as month/day/year, or "" when all
// are empty.
func (f requestForm) dateOfBirth() string {
	if f.DOBMonth == "" && f.DOBDay == "" && f.DOBYear == "" {
		return ""
	}
	return f.DOBMonth + "/" + f.DOBDay + "/" + f.DOBYear
}

// values is the form as typed, by field id, for a re-render.
func (f requestForm) values() map[string]string {
	ch := f.Channel
	if ch != string(casegate.ChannelSMS) {
		ch = string(casegate.ChannelEmail)
	}
	return map[string]string{
		"receipt_number": f.ReceiptNumber, "a_number": f.ANumber,
		"given_name": f.GivenName, "family_name": f.FamilyName,
		"dob_month": f.DOBMonth, "dob_day": f.DOBDay, "dob_year": f.DOBYear,
		"country_of_birth": f.Country, "channel": ch,
	}
}

// requestPage is the data of the request form.
type requestPage struct {
	Countries []identity.CountryEntry
}

func (s *Server) requestPage(w http.ResponseWriter, r *http.Request) error {
	d := s.newPage(r, nil)
	d.Form = map[string]string{"channel": string(casegate.ChannelEmail)}
	return s.renderRequest(w, r, http.StatusOK, d)
}

func (s *Server) renderRequest(w http.ResponseWriter, r *http.Request, status int, d *pageData) error {
	d.Page = requestPage{Countries: identity.Countries(d.Lang)}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, "request", d)
}

// submitRequest asks the portal for a code. The answer does not depend on
// whether the details matched: on success the person goes to /verify with the
// request in the flow cookie.
func (s *Server) submitRequest(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	f := readRequestForm(r)
	d := s.newPage(r, nil)
	issued, err := s.portal.RequestCode(r.Context(), portal.CodeRequest{
		ReceiptNumber: f.ReceiptNumber, ANumber: f.ANumber, GivenName: f.GivenName, FamilyName: f.FamilyName,
		DateOfBirth: f.dateOfBirth(), CountryOfBirth: f.Country, Channel: f.Channel, Language: d.Lang,
		ClientIP: s.clientIP(r),
	})
	if e, ok := casegate.AsError(err); ok && e.Code == casegate.EInvalid {
		e = pageWording(e)
		d.Form = f.values()
		s.withFieldErrors(d, e, "receipt_number")
		return s.renderRequest(w, r, http.StatusBadRequest, d)
	}
	if err != nil {
		return err
	}
	s.setFlow(w, flowOf(issued))
	http.Redirect(w, r, "/verify", http.StatusSeeOther)
	return nil
}

// pageWording rewords the portal's messages that speak of typing a value the
// page asks for differently: the country is chosen from a list, the date is
// three boxes.
func pageWording(e *casegate.Error) *casegate.Error {
	out := *e
	out.Fields = map[string]casegate.Msg{}
	for k, v := range e.Fields {
		switch {
		case k == "country_of_birth" && v.Key == identity.ErrCountry.Key:
			v = casegate.M(msgChooseCountry)
		case k == "date_of_birth" && v.Key == identity.ErrDate.Key:
			v = casegate.M(msgRealDate)
		}
		out.Fields[k] = v
	}
	return &out
}
