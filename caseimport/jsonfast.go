package caseimport

import "github.com/casegate/casegate"

// decodeCaseFast decodes a line of the import format as encoding/json with
// DisallowUnknownFields decodes it into caseInput, for the lines most files
// are made of: every key spelt exactly as the format spells it and given
// once, every value a string or, for history and parties, a list of objects
// of strings, no escapes inside strings. It reports false for any other line,
// which then goes through encoding/json: that is how a line that is wrong is
// explained, and how a line in a rarer form (keys in another case, escapes,
// nulls) is read. Profiles of a large import showed encoding/json taking a
// fifth of the CPU of parsing, and this a small part of that.
//
// line starts with '{' and is valid UTF-8 without white space at either end.
func decodeCaseFast(line []byte) (caseInput, bool) {
	d := fastDecoder{b: line}
	var in caseInput
	if !d.object(func(key []byte) bool {
		switch string(key) {
		case "receipt_number":
			return d.str(&in.ReceiptNumber)
		case "form_type":
			return d.str(&in.FormType)
		case "category":
			return d.str(&in.Category)
		case "office":
			return d.str(&in.Office)
		case "received_on":
			return d.str(&in.ReceivedOn)
		case "history":
			return list(&d, func() bool {
				var e eventInput
				ok := d.object(func(key []byte) bool {
					switch string(key) {
					case "status":
						return d.str(&e.Status)
					case "title":
						return d.str(&e.Title)
					case "at":
						return d.str(&e.At)
					}
					return false
				})
				in.History = append(in.History, e)
				return ok
			}, &in.History)
		case "parties":
			return list(&d, func() bool {
				var p partyInput
				ok := d.object(func(key []byte) bool {
					switch string(key) {
					case "role":
						return d.str(&p.Role)
					case "given_name":
						return d.str(&p.GivenName)
					case "family_name":
						return d.str(&p.FamilyName)
					case "date_of_birth":
						return d.str(&p.DateOfBirth)
					case "country_of_birth":
						return d.str(&p.CountryOfBirth)
					case "a_number":
						return d.str(&p.ANumber)
					case "email":
						return d.str(&p.Email)
					case "phone":
						return d.str(&p.Phone)
					case "language":
						return d.str(&p.Language)
					}
					return false
				})
				in.Parties = append(in.Parties, p)
				return ok
			}, &in.Parties)
		}
		return false
	}) {
		return caseInput{}, false
	}
	d.space()
	return in, d.i == len(d.b)
}

// fastDecoder reads the subset of JSON that decodeCaseFast accepts. Each
// method reports false when the input leaves that subset.
type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips white space and then c.
func (d *fastDecoder) consume(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads {"key": value, …}, calling member after each key to read its
// value. A key given twice leaves the subset: encoding/json would merge.
func (d *fastDecoder) object(member func(key []byte) bool) bool {
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return true
	}
	var seen [16][]byte
	n := 0
	for {
		d.space()
		key, ok := d.raw()
		if !ok || n == len(seen) {
			return false
		}
		for _, k := range seen[:n] {
			if string(k) == string(key) {
				return false
			}
		}
		seen[n] = key
		n++
		if !d.consume(':') {
			return false
		}
		d.space()
		if !member(key) {
			return false
		}
		if d.consume(',') {
			continue
		}
		return d.consume('}')
	}
}

// list reads [elem, …] into a slice that starts empty, as encoding/json
// makes it for a list; elem appends one element.
func list[T any](d *fastDecoder, elem func() bool, dst *[]T) bool {
	if !d.consume('[') {
		return false
	}
	*dst = []T{}
	if d.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.consume(',') {
			continue
		}
		return d.consume(']')
	}
}

// raw reads a string without escapes and returns its bytes.
func (d *fastDecoder) raw() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return d.b[start:j], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// str reads a string value into dst.
func (d *fastDecoder) str(dst *string) bool {
	s, ok := d.raw()
	if ok {
		*dst = intern(s)
	}
	return ok
}

// interned holds values that recur from line to line of an import — codes
// of status, role, office, country, language — so that they are not
// allocated again for each line. It is only read, so safe for the parse
// workers to share.
var interned = func() map[string]string {
	m := map[string]string{}
	for _, s := range append([]string{"applicant", "petitioner", "beneficiary", "representative", ""}, casegate.Languages...) {
		m[s] = s
	}
	for _, st := range casegate.Statuses() {
		m[st.Code] = st.Code
	}
	return m
}()

func intern(b []byte) string {
	if s, ok := interned[string(b)]; ok { // no allocation for the lookup
		return s
	}
	return string(b)
}
