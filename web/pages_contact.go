package web

// The pages about how casegate reaches a person: changing the email address
// or phone number on file (/contact), and status notifications for a case.

import (
	"net/http"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
	"github.com/casegate/casegate/portal"
)

// formField is a form field whose name differs from its id, as the contact
// pages' fields do (id new_email, name email).
type formField struct {
	ID, Name, Type, Autocomplete, Width string
	Label, Hint, Value, Error           string
}

// Labelled returns f with its label and hint, so that a template can give
// the texts in its own language: (.Email.Labelled (t "…") (t "…")).
func (f formField) Labelled(label, hint string) formField {
	f.Label, f.Hint = label, hint
	return f
}

// fieldAt returns the field id of d named name.
func fieldAt(d *pageData, id, name, typ, autocomplete, width string) formField {
	return formField{ID: id, Name: name, Type: typ, Autocomplete: autocomplete, Width: width,
		Value: d.Form[id], Error: d.FieldErrs[id]}
}

// fieldName ties a portal field name (the API's) to the id of a page field.
type fieldName = struct{ name, id string }

var (
	contactFieldIDs      = []fieldName{{"email", "new_email"}, {"phone", "new_phone"}}
	subscriptionFieldIDs = []fieldName{{"email", "subscribe-email"}, {"sms", "subscribe-sms"}}
)

// fieldErrorsAt puts e's field messages, translated, on the fields ids of d
// and in its error summary, in the order of ids. A message about a field the
// page lacks, or an error without fields, goes in the summary linked to
// fallback.
func (s *Server) fieldErrorsAt(d *pageData, e *casegate.Error, ids []fieldName, fallback string) {
	msg, fields := s.cat.localError(d.Lang, e)
	d.FieldErrs = map[string]string{}
	for _, f := range ids {
		if m, ok := fields[f.name]; ok {
			d.FieldErrs[f.id] = m
			d.Errors = append(d.Errors, summaryItem{ID: f.id, Message: m})
			delete(fields, f.name)
		}
	}
	if len(d.Errors) == 0 || len(fields) > 0 {
		if _, ok := d.FieldErrs[fallback]; !ok {
			d.FieldErrs[fallback] = msg
		}
		d.Errors = append(d.Errors, summaryItem{ID: fallback, Message: msg})
	}
}

// fieldError puts msg on the field id of d and in its summary.
func fieldError(d *pageData, id, msg string) {
	d.FieldErrs = map[string]string{id: msg}
	d.Errors = []summaryItem{{ID: id, Message: msg}}
}

// contactPage is the data of /contact.
type contactPage struct {
	Party        portal.PartyView
	Window       time.Duration // how long after signing in details may be changed
	Email, Phone formField
}

func (s *Server) contactPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderContact(w, r, http.StatusOK, s.newPage(r, nil))
}

func (s *Server) renderContact(w http.ResponseWriter, r *http.Request, status int, d *pageData) error {
	db, err := s.portal.Dashboard(r.Context(), session(r))
	if err != nil {
		return err
	}
	d.Page = contactPage{
		Party: db.Party, Window: s.portal.Limits().Reauth,
		Email: fieldAt(d, "new_email", "email", "email", "email", "w-30"),
		Phone: fieldAt(d, "new_phone", "phone", "tel", "tel", "w-15"),
	}
	d.SignedIn, d.Path = true, "/contact"
	return s.render(w, r, status, "contact", d)
}

// submitContact starts a change of the email address or the phone number,
// whichever of the two forms was sent: a code goes to the new one, and the
// page asks for it.
func (s *Server) submitContact(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	email, phone := strings.TrimSpace(r.PostForm.Get("email")), strings.TrimSpace(r.PostForm.Get("phone"))
	d := s.newPage(r, nil)
	d.Form = map[string]string{"new_email": email, "new_phone": phone}
	if email == "" && phone == "" {
		// Say what to fill in on the form that was sent.
		if _, ok := r.PostForm["phone"]; ok {
			fieldError(d, "new_phone", s.cat.tr(d.Lang, msgEnterNewPhone))
		} else {
			fieldError(d, "new_email", s.cat.tr(d.Lang, msgEnterNewEmail))
		}
		return s.renderContact(w, r, http.StatusBadRequest, d)
	}
	// The address as sent: the portal refuses an invisible character at its ends too.
	c, err := s.portal.StartContactChange(r.Context(), session(r), r.PostForm.Get("email"), phone, d.Lang, s.clientIP(r))
	if e, ok := casegate.AsError(err); ok {
		switch e.Code {
		case casegate.EReauthRequired:
			return s.renderReauth(w, r)
		case casegate.EInvalid:
			s.fieldErrorsAt(d, e, contactFieldIDs, "new_email")
			return s.renderContact(w, r, http.StatusBadRequest, d)
		}
	}
	if err != nil {
		return err
	}
	p := contactConfirm{ChangeID: c.ID, Channel: "email", SentTo: email, ExpiresAt: c.ExpiresAt}
	if email == "" {
		p.Channel, p.SentTo = "phone", phone
	}
	return s.renderConfirm(w, r, http.StatusOK, s.newPage(r, nil), p)
}

// contactConfirm is the pending change the confirm step carries in its
// hidden fields. Only ChangeID counts; the rest is shown to the person who
// typed it.
type contactConfirm struct {
	ChangeID  string
	Channel   string // "email" or "phone"
	SentTo    string // the new address or number, as typed
	ExpiresAt time.Time
}

// contactConfirmPage is the data of the confirm step.
type contactConfirmPage struct {
	contactConfirm
	Left time.Duration // until the code expires; 0 once it has
	Code formField
}

func (s *Server) renderConfirm(w http.ResponseWriter, r *http.Request, status int, d *pageData, c contactConfirm) error {
	d.Page = contactConfirmPage{
		contactConfirm: c, Left: max(c.ExpiresAt.Sub(s.now()), 0),
		Code: fieldAt(d, "contact_code", "code", "text", "one-time-code", "w-12"),
	}
	d.SignedIn, d.Path = true, "/contact"
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, "contact_confirm", d)
}

// readConfirm reads the pending change back from the confirm form.
func readConfirm(r *http.Request) contactConfirm {
	c := contactConfirm{
		ChangeID: strings.TrimSpace(r.PostForm.Get("change_id")), Channel: "email",
		SentTo: strings.TrimSpace(r.PostForm.Get("sent_to")),
	}
	if r.PostForm.Get("channel") == "phone" {
		c.Channel = "phone"
	}
	c.ExpiresAt, _ = time.Parse(time.RFC3339, r.PostForm.Get("expires_at"))
	return c
}

// confirmContact checks the code sent to the new address or number and, when
// it is right, stores the change; the portal tells the old one.
func (s *Server) confirmContact(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	c := readConfirm(r)
	if c.ChangeID == "" {
		http.Redirect(w, r, "/contact", http.StatusSeeOther)
		return nil
	}
	d := s.newPage(r, nil)
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		fieldError(d, "contact_code", s.cat.tr(d.Lang, msgEnterCode))
		return s.renderConfirm(w, r, http.StatusBadRequest, d, c)
	}
	_, err := s.portal.ConfirmContactChange(r.Context(), session(r), c.ChangeID, code, s.clientIP(r))
	if err == nil {
		http.Redirect(w, r, "/dashboard?contact_changed=1", http.StatusSeeOther)
		return nil
	}
	e, ok := casegate.AsError(err)
	if !ok {
		return err
	}
	switch e.Code {
	case casegate.EReauthRequired:
		return s.renderReauth(w, r)
	case casegate.ECodeMalformed, casegate.ECodeIncorrect, casegate.ECodeExpired, casegate.ECodeUsed, casegate.ETooManyAttempts:
		msg, _ := s.cat.localError(d.Lang, e)
		if e.Code == casegate.ECodeIncorrect {
			msg += " " + s.cat.trCount(d.Lang, msgAttemptsLeft, e.AttemptsRemaining)
		}
		fieldError(d, "contact_code", msg)
		return s.renderConfirm(w, r, statusOf[e.Code], d, c)
	}
	return err
}

// reauthPage is the data of the page that asks a person to sign in again.
type reauthPage struct {
	Window time.Duration
}

// renderReauth explains that details change only soon after signing in.
func (s *Server) renderReauth(w http.ResponseWriter, r *http.Request) error {
	d := s.newPage(r, reauthPage{Window: s.portal.Limits().Reauth})
	d.SignedIn, d.Path = true, "/contact"
	return s.render(w, r, http.StatusForbidden, "reauth", d)
}

// submitSubscription saves how the person wants to hear of changes to a
// case: a box left unticked is a channel turned off.
func (s *Server) submitSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	want := casegate.Subscription{Email: r.PostForm.Get("email") != "", SMS: r.PostForm.Get("sms") != ""}
	receipt := r.PathValue("receipt")
	_, err := s.portal.SetSubscription(r.Context(), session(r), receipt, want.Email, want.SMS)
	if e, ok := casegate.AsError(err); ok && e.Code == casegate.EInvalid {
		d := s.newPage(r, nil)
		s.fieldErrorsAt(d, e, subscriptionFieldIDs, "subscribe-email")
		return s.renderCase(w, r, http.StatusBadRequest, d, &want, false)
	}
	if err != nil {
		return err
	}
	canon, err := identity.ReceiptNumber(receipt)
	if err != nil {
		return err // the portal took it, so it cannot be malformed
	}
	http.Redirect(w, r, "/cases/"+canon+"?subscribed=1", http.StatusSeeOther)
	return nil
}
