package caseimport

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/catalog"
	"github.com/casegate/casegate/identity"
)

// The checks of the values of a case, the same for both formats: each
// reads a value as it arrives and returns it in canonical form, adding to
// fieldErrors what is wrong with it.

// caseInput is a case as it arrives, in JSON Lines or gathered from CSV rows.
type caseInput struct {
	ReceiptNumber string       `json:"receipt_number"`
	FormType      string       `json:"form_type"`
	Category      string       `json:"category"`
	Office        string       `json:"office"`
	ReceivedOn    string       `json:"received_on"`
	History       []eventInput `json:"history"`
	Parties       []partyInput `json:"parties"`
}

type eventInput struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	At     string `json:"at"`
}

type partyInput struct {
	Role           string `json:"role"`
	GivenName      string `json:"given_name"`
	FamilyName     string `json:"family_name"`
	DateOfBirth    string `json:"date_of_birth"`
	CountryOfBirth string `json:"country_of_birth"`
	ANumber        string `json:"a_number"`
	Email          string `json:"email"`
	Phone          string `json:"phone"`
	Language       string `json:"language"`
}

// fieldErrors gathers what is wrong with a case, in the order found.
type fieldErrors struct {
	fields map[string]string
	order  []string
	// names, when set, renames fields as they are added: a CSV file names
	// its columns, status_at for the event's at.
	names map[string]string
}

// maxFieldErrors bounds the reasons reported for one line.
const maxFieldErrors = 10

func (e *fieldErrors) add(field, msg string) {
	if name, ok := e.names[field]; ok {
		field = name
	}
	if e.fields == nil {
		e.fields = map[string]string{}
	}
	if _, dup := e.fields[field]; dup {
		return
	}
	e.fields[field] = msg
	e.order = append(e.order, field)
}

// err returns nil when nothing was wrong, else an EInvalid error whose message
// lists the fields in order.
func (e *fieldErrors) err() error {
	if len(e.order) == 0 {
		return nil
	}
	parts := make([]string, 0, min(len(e.order), maxFieldErrors)+1)
	for i, f := range e.order {
		if i == maxFieldErrors {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.order)-i))
			break
		}
		parts = append(parts, f+": "+e.fields[f])
	}
	return &casegate.Error{Code: casegate.EInvalid, Message: strings.Join(parts, "; ")}
}

func lineError(msg string) error {
	return &casegate.Error{Code: casegate.EInvalid, Message: msg}
}

// parse checks the case and returns it in canonical form.
func (in *caseInput) parse() (Case, error) {
	var errs fieldErrors
	var pc Case
	c := &pc.Case
	c.ReceiptNumber = parseReceipt(in.ReceiptNumber, "receipt_number", &errs)
	c.FormType, c.Category, c.Office, c.ReceivedOn = parseCaseFields(in.FormType, in.Category, in.Office, in.ReceivedOn, "", &errs)
	for i, ev := range in.History {
		if e, ok := ev.parse(itemPrefix(&historyPrefixes, "history", i), &errs); ok {
			c.History = append(c.History, e)
		}
	}
	if len(in.Parties) == 0 {
		errs.add("parties", "a case needs at least one party")
	}
	for i, p := range in.Parties {
		pc.Parties = append(pc.Parties, p.parse(itemPrefix(&partyPrefixes, "parties", i), &errs))
	}
	if err := errs.err(); err != nil {
		return Case{}, err
	}
	return pc, nil
}

// The field-name prefixes of the first items of a list, made once rather
// than for every line.
var historyPrefixes, partyPrefixes = prefixes("history"), prefixes("parties")

func prefixes(list string) (out [16]string) {
	for i := range out {
		out[i] = fmt.Sprintf("%s[%d].", list, i)
	}
	return out
}

// itemPrefix returns "list[i].", which goes before the field names of item i.
func itemPrefix(made *[16]string, list string, i int) string {
	if i < len(made) {
		return made[i]
	}
	return fmt.Sprintf("%s[%d].", list, i)
}

func parseReceipt(s, field string, errs *fieldErrors) string {
	return required(s, field, identity.ReceiptNumber, "must be 3 letters and 10 digits, like IOE0912345678", errs)
}

// parseCaseFields checks the fields of the case itself; prefix goes before
// each field name.
func parseCaseFields(formType, category, office, received, prefix string, errs *fieldErrors) (string, string, string, time.Time) {
	form := strings.ToUpper(strings.TrimSpace(formType))
	switch {
	case form == "":
		errs.add(prefix+"form_type", "required")
	case len(form) > maxFormType || !isFormType(form):
		errs.add(prefix+"form_type", "must be letters, digits and hyphens, like I-485, at most 40 characters")
	}
	category = checkText(category, prefix+"category", false, errs)
	office = checkText(office, prefix+"office", true, errs)
	var on time.Time
	if strings.TrimSpace(received) == "" {
		errs.add(prefix+"received_on", "required")
	} else if d, err := identity.Date(received); err != nil {
		errs.add(prefix+"received_on", "must be a real date as YYYY-MM-DD, like 2025-03-14")
	} else {
		on, _ = time.Parse(time.DateOnly, d)
	}
	return form, category, office, on
}

func isFormType(s string) bool {
	letterOrDigit := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			letterOrDigit = true
		case r == '-', r == ' ', r == '.', r == '/':
		default:
			return false
		}
	}
	return letterOrDigit
}

// checkText trims s and collapses its white space; it must be printable text
// of at most maxText bytes, and not empty when required.
func checkText(s, field string, required bool, errs *fieldErrors) string {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "" && required:
		errs.add(field, "required")
	case len(s) > maxText:
		errs.add(field, fmt.Sprintf("at most %d characters", maxText))
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0:
		errs.add(field, "must be printable text, without control characters")
	}
	return s
}

// parse checks a status event; ok is false when it has errors.
func (ev eventInput) parse(prefix string, errs *fieldErrors) (casegate.StatusEvent, bool) {
	n := len(errs.order)
	status := strings.ToLower(strings.TrimSpace(ev.Status))
	if status == "" {
		errs.add(prefix+"status", "required")
	} else if !isStatusCode(status) {
		errs.add(prefix+"status", "must be a code of 1 to 40 letters a-z and underscores, like biometrics_scheduled")
	}
	title := checkText(ev.Title, prefix+"title", false, errs)
	var at time.Time
	if strings.TrimSpace(ev.At) == "" {
		errs.add(prefix+"at", "required")
	} else if t, err := ParseTimestamp(strings.TrimSpace(ev.At)); err != nil || t.Year() < 1900 || t.Year() > 2200 {
		errs.add(prefix+"at", "must be a time in RFC 3339 form, like 2025-03-14T10:00:00Z")
	} else {
		// The store keeps microseconds; cut here so a re-import finds the same event.
		at = t.UTC().Truncate(time.Microsecond)
	}
	return casegate.StatusEvent{Status: status, Title: title, At: at}, len(errs.order) == n
}

func isStatusCode(s string) bool {
	if len(s) == 0 || len(s) > maxStatus {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
}

// parse checks a party.
func (in partyInput) parse(prefix string, errs *fieldErrors) Party {
	var p Party
	role := casegate.Role(strings.ToLower(strings.TrimSpace(in.Role)))
	if role == "" {
		errs.add(prefix+"role", "required")
	} else if !role.Valid() {
		errs.add(prefix+"role", "must be applicant, petitioner, beneficiary or representative")
	}
	p.Role = role
	p.GivenName = parseName(in.GivenName, prefix+"given_name", errs)
	p.FamilyName = parseName(in.FamilyName, prefix+"family_name", errs)
	p.DateOfBirth = required(in.DateOfBirth, prefix+"date_of_birth", identity.Date,
		"must be a real date as YYYY-MM-DD, like 1990-04-02", errs)
	p.CountryOfBirth = required(in.CountryOfBirth, prefix+"country_of_birth", identity.Country,
		"must be a country code such as MX or MEX, or an English or Spanish country name", errs)
	p.ANumber = optional(in.ANumber, prefix+"a_number", identity.ANumber,
		"must be the letter A and 7 to 9 digits, like A012345678", errs)
	p.Email = optional(in.Email, prefix+"email", identity.Email,
		"must be an email address, like name@example.com", errs)
	if strings.TrimSpace(in.Phone) != "" {
		var err error
		if p.Phone, p.PhoneKind, err = identity.PhoneWithKind(in.Phone); err != nil {
			errs.add(prefix+"phone", "must be a phone number with + and the country code, like +12015550123")
		}
	}
	if strings.TrimSpace(in.Email) == "" && strings.TrimSpace(in.Phone) == "" {
		errs.add(prefix+"email", "a party needs an email or a phone")
	}
	if strings.TrimSpace(in.Language) != "" {
		if lang, ok := catalog.Default().Language(in.Language); ok {
			p.Language = lang
		} else {
			errs.add(prefix+"language", "must be one of "+strings.Join(catalog.Default().Languages(), ", "))
		}
	}
	return p
}

func parseName(s, field string, errs *fieldErrors) string {
	return required(s, field, identity.Name, "must contain letters, at most 200 characters", errs)
}

func required(s, field string, canon func(string) (string, error), msg string, errs *fieldErrors) string {
	if strings.TrimSpace(s) == "" {
		errs.add(field, "required")
		return ""
	}
	return optional(s, field, canon, msg, errs)
}

// preciseReasons are reasons for a few format errors that say more than the
// field's usual one: an operator cannot see what is wrong with an address
// that holds an invisible character.
var preciseReasons = map[error]string{
	identity.ErrEmailInvisible: "must not hold invisible or control characters, such as a line break, a zero-width space or a direction mark",
}

// optional returns the canonical form of s, or "" when s is blank; when canon
// refuses s it adds msg, or the precise reason for canon's error, to errs.
func optional(s, field string, canon func(string) (string, error), msg string, errs *fieldErrors) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	out, err := canon(s)
	if err != nil {
		if precise, ok := preciseReasons[err]; ok {
			msg = precise
		}
		errs.add(field, msg)
	}
	return out
}
