package caseimport

import (
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/casegate/casegate"
)

// officeInput is one line of an office catalog as it is written.
type officeInput struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
	URL     string `json:"url"`
}

// maxOfficePhone bounds an office's phone number as typed.
const maxOfficePhone = 40

// ParseOfficeLine parses one line of an office catalog (docs/import.md): a
// JSON object with code and name, and optionally address, phone and url.
// The code is read as a case's office is, so that the two meet. The error
// is a *casegate.Error (EInvalid) naming every wrong field.
func ParseOfficeLine(line []byte) (casegate.Office, error) {
	trimmed, err := objectLine(line)
	if err != nil {
		return casegate.Office{}, err
	}
	var in officeInput
	if err := decodeStrict(trimmed, &in, "office"); err != nil {
		return casegate.Office{}, err
	}
	var errs fieldErrors
	o := casegate.Office{
		Code:    checkText(in.Code, "code", true, &errs),
		Name:    checkText(in.Name, "name", true, &errs),
		Address: checkText(in.Address, "address", false, &errs),
		Phone:   checkOfficePhone(in.Phone, &errs),
		URL:     checkOfficeURL(in.URL, &errs),
	}
	if err := errs.err(); err != nil {
		return casegate.Office{}, err
	}
	return o, nil
}

// checkOfficePhone keeps a phone number as people dial it: a leading +,
// digits, and spaces, dashes, dots and parentheses between them.
func checkOfficePhone(s string, errs *fieldErrors) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			errs.add("phone", "must be digits, with a leading + and spaces, dashes, dots or parentheses at most")
			return s
		}
	}
	if digits < 3 || len(s) > maxOfficePhone {
		errs.add("phone", "must have 3 to 40 characters, digits among them")
	}
	return s
}

// checkOfficeURL accepts an absolute http or https address.
func checkOfficeURL(s string, errs *fieldErrors) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(s) > maxText ||
		strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs.add("url", "must be a web address starting with https:// or http://, at most 200 characters")
	}
	return s
}

// ReadOffices reads an office catalog, one office per line as
// ParseOfficeLine reads it, with the lines of LineReader. A bad line is
// rejected with its number and reason and the others are kept; a code given
// twice keeps its last line. The error is only r's.
func ReadOffices(r io.Reader) ([]casegate.Office, []Rejection, error) {
	lr := NewLineReader(r)
	var offices []casegate.Office
	var rejected []Rejection
	at := map[string]int{} // index in offices by code
	for {
		line, n, err := lr.Next()
		switch {
		case errors.Is(err, io.EOF):
			return offices, rejected, nil
		case errors.Is(err, ErrLineTooLong):
			rejected = append(rejected, Rejection{Line: n, Error: err.Error()})
			continue
		case err != nil:
			return offices, rejected, err
		}
		o, err := ParseOfficeLine(line)
		if err != nil {
			reason := err.Error()
			if e, ok := casegate.AsError(err); ok {
				reason = e.Text()
			}
			rejected = append(rejected, Rejection{Line: n, Error: reason})
			continue
		}
		if i, dup := at[o.Code]; dup {
			offices[i] = o
			continue
		}
		at[o.Code] = len(offices)
		offices = append(offices, o)
	}
}
