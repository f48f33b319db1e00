package portal

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// MaxImportLine is the longest line of a JSON Lines import, and the longest
// physical line of a CSV import, in bytes.
const MaxImportLine = 1 << 20

// Lengths of the free-text fields of an import, in bytes.
const (
	maxFormType = 40
	maxText     = 200 // office, category, event title
	maxStatus   = 40
)

// ParsedCase is one case of an import, checked, with every value in canonical form.
type ParsedCase struct {
	// Case holds the receipt number, form type, category (empty: leave the
	// stored one), office, received date and the history in the order given.
	// IDs are not set.
	Case    casegate.Case
	Parties []ParsedParty
}

// ParsedParty is one person named on an imported case. Empty optional fields
// were not given: an import leaves the stored values as they are.
type ParsedParty struct {
	Role           casegate.Role
	GivenName      string // trimmed, white space collapsed, NFC
	FamilyName     string
	DateOfBirth    string // YYYY-MM-DD
	CountryOfBirth string // ISO 3166-1 alpha-2
	ANumber        string // "A" + 9 digits, or empty
	Email          string // or empty
	Phone          string // E.164, or empty; a line gives at least one of email and phone, but a phone that cannot be texted is dropped
	Language       string // "en" or "es", or empty (a new party gets "en")
	// PhoneKind is what kind of line Phone is; empty without a phone. The
	// importer keeps only phones that can be texted (screenPhones).
	PhoneKind identity.PhoneKind

	row int // in a CSV import, the line of the party's row; 0 in JSON Lines
}

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

// ParseJSONLine parses one line of a JSON Lines import. The error is a
// *casegate.Error (EInvalid) whose Message names every wrong field and what is
// wrong with it, fit to show an operator.
func ParseJSONLine(line []byte) (ParsedCase, error) {
	if len(line) > MaxImportLine {
		return ParsedCase{}, lineError("the line is longer than 1 MiB")
	}
	if !utf8.Valid(line) {
		return ParsedCase{}, lineError("the line is not valid UTF-8 text")
	}
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return ParsedCase{}, lineError("the line must be one JSON object, starting with {")
	}
	if in, ok := decodeCaseFast(trimmed); ok {
		return in.parse()
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var in caseInput
	if err := dec.Decode(&in); err != nil {
		return ParsedCase{}, lineError(jsonProblem(err, len(trimmed)))
	}
	if _, err := dec.Token(); err != io.EOF {
		return ParsedCase{}, lineError("the line has more after the JSON object; put one case per line")
	}
	return in.parse()
}

// jsonProblem says in plain words what is wrong with a line that does not decode.
func jsonProblem(err error, n int) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON object is cut off before its end"
	case errors.As(err, &syntax):
		if syntax.Offset >= int64(n) {
			return "the JSON object is cut off before its end"
		}
		return fmt.Sprintf("not valid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return "the line must be one JSON object"
		}
		return fmt.Sprintf("%s: must be %s, not a JSON %s", field, kindName(typ.Type), typ.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fmt.Sprintf("%s: unknown field; the fields are those of the import format", strings.Trim(name, `"`))
	}
	return "not valid JSON: " + msg
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list [...]"
	case reflect.Struct:
		return "an object {...}"
	}
	return "a " + t.Kind().String()
}

// fieldErrors gathers what is wrong with a case, in the order found.
type fieldErrors struct {
	fields map[string]string
	order  []string
}

// maxFieldErrors bounds the reasons reported for one line.
const maxFieldErrors = 10

func (e *fieldErrors) add(field, msg string) {
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
func (in *caseInput) parse() (ParsedCase, error) {
	var errs fieldErrors
	var pc ParsedCase
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
		return ParsedCase{}, err
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
	if strings.TrimSpace(s) == "" {
		errs.add(field, "required")
		return ""
	}
	r, err := identity.ReceiptNumber(s)
	if err != nil {
		errs.add(field, "must be 3 letters and 10 digits, like IOE0912345678")
	}
	return r
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
	} else if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ev.At)); err != nil || t.Year() < 1900 || t.Year() > 2200 {
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
func (in partyInput) parse(prefix string, errs *fieldErrors) ParsedParty {
	var p ParsedParty
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
	switch lang := strings.ToLower(strings.TrimSpace(in.Language)); lang {
	case "", "en", "es":
		p.Language = lang
	default:
		errs.add(prefix+"language", `must be "en" or "es"`)
	}
	return p
}

func parseName(s, field string, errs *fieldErrors) string {
	if strings.TrimSpace(s) == "" {
		errs.add(field, "required")
		return ""
	}
	name, err := identity.Name(s)
	if err != nil {
		errs.add(field, "must contain letters, at most 200 characters")
	}
	return name
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

// The columns of a CSV import. Rows with the same receipt number, one after
// another, build one case; each row adds one party, one status event, or both.
var (
	csvRequired = []string{"receipt_number", "form_type", "office", "received_on",
		"role", "given_name", "family_name", "date_of_birth", "country_of_birth"}
	csvOptional = []string{"category", "status", "status_title", "status_at",
		"a_number", "email", "phone", "language"}
)

// CSVReader reads the cases of a CSV import.
type CSVReader struct {
	r       *csv.Reader
	col     map[string]int
	pending *csvRow // a row read ahead: the first of the next case
	eof     bool
	line    int // the last line read
}

// CSVCase is what CSVReader.Next returns: one case gathered from consecutive
// rows, and the rows that could not be used.
type CSVCase struct {
	Line     int         // the line of the case's first row
	Case     *ParsedCase // nil when no row of the case could be used
	Rejected []Rejection // rows left out, with the reason
}

// NewCSVReader reads the header row of r. The header must name the columns
// receipt_number, form_type, office, received_on, role, given_name,
// family_name, date_of_birth and country_of_birth, and may name category,
// status, status_title, status_at, a_number, email, phone and language, in
// any order. A physical line longer than MaxImportLine stops the import.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	cr := &CSVReader{r: csv.NewReader(&lineLimiter{r: r}), col: map[string]int{}}
	cr.r.ReuseRecord = true
	header, err := cr.r.Read()
	if err != nil {
		var perr *csv.ParseError
		switch {
		case err == io.EOF:
			return nil, lineError("the CSV file is empty: it needs a header row")
		case errors.As(err, &perr) && !errors.Is(err, errLineTooLong):
			return nil, lineError("CSV header: not valid CSV: " + perr.Err.Error())
		}
		return nil, csvFatal(err)
	}
	known := map[string]bool{}
	for _, c := range append(csvRequired, csvOptional...) {
		known[c] = true
	}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[name] {
			return nil, lineError(fmt.Sprintf("CSV header: unknown column %q; the columns are %s, %s",
				h, strings.Join(csvRequired, ", "), strings.Join(csvOptional, ", ")))
		}
		if _, dup := cr.col[name]; dup {
			return nil, lineError(fmt.Sprintf("CSV header: column %s appears twice", name))
		}
		cr.col[name] = i
	}
	for _, c := range csvRequired {
		if _, ok := cr.col[c]; !ok {
			return nil, lineError("CSV header: column " + c + " is missing")
		}
	}
	cr.r.FieldsPerRecord = len(header)
	cr.line = 1
	return cr, nil
}

// Line returns the last line read.
func (cr *CSVReader) Line() int { return cr.line }

// csvRow is one row, checked on its own.
type csvRow struct {
	line     int
	receipt  string
	hasCase  bool // the row gives form_type, office, received_on
	form     string
	category string
	office   string
	received time.Time
	event    *casegate.StatusEvent
	party    *ParsedParty
}

// Next returns the next case, or io.EOF after the last. Any other error is
// fatal: the file cannot be read further.
func (cr *CSVReader) Next() (CSVCase, error) {
	var out CSVCase
	var rows []*csvRow
	for {
		row, rej, err := cr.nextRow()
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
		if rej != nil {
			out.Rejected = append(out.Rejected, *rej)
			continue
		}
		if len(rows) > 0 && row.receipt != rows[0].receipt {
			cr.pending = row
			break
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		if len(out.Rejected) > 0 {
			out.Line = out.Rejected[0].Line
			return out, nil
		}
		return out, io.EOF
	}
	out.Line = rows[0].line
	out.Case, out.Rejected = gather(rows, out.Rejected)
	return out, nil
}

// nextRow reads and checks one row.
func (cr *CSVReader) nextRow() (*csvRow, *Rejection, error) {
	if row := cr.pending; row != nil {
		cr.pending = nil
		return row, nil, nil
	}
	if cr.eof {
		return nil, nil, io.EOF
	}
	var rec []string
	var line int
	for {
		var err error
		rec, err = cr.r.Read()
		var perr *csv.ParseError
		switch {
		case err == io.EOF:
			cr.eof = true
			return nil, nil, io.EOF
		case errors.As(err, &perr) && !errors.Is(err, errLineTooLong):
			cr.line = perr.Line
			return nil, &Rejection{Line: perr.StartLine, Error: "not valid CSV: " + perr.Err.Error()}, nil
		case err != nil:
			return nil, nil, csvFatal(err)
		}
		line, _ = cr.r.FieldPos(0)
		cr.line, _ = cr.r.FieldPos(len(rec) - 1)
		if anyText(rec...) { // skip rows of empty cells, as spreadsheets leave at the end
			break
		}
	}
	get := func(name string) string {
		if i, ok := cr.col[name]; ok {
			return rec[i]
		}
		return ""
	}
	var errs fieldErrors
	row := &csvRow{line: line}
	row.receipt = parseReceipt(get("receipt_number"), "receipt_number", &errs)
	if anyText(get("form_type"), get("category"), get("office"), get("received_on")) {
		row.hasCase = true
		row.form, row.category, row.office, row.received = parseCaseFields(
			get("form_type"), get("category"), get("office"), get("received_on"), "", &errs)
	}
	if anyText(get("status"), get("status_title"), get("status_at")) {
		ev, _ := eventInput{Status: get("status"), Title: get("status_title"), At: get("status_at")}.parse("", &errs)
		row.event = &ev
	}
	in := partyInput{Role: get("role"), GivenName: get("given_name"), FamilyName: get("family_name"),
		DateOfBirth: get("date_of_birth"), CountryOfBirth: get("country_of_birth"), ANumber: get("a_number"),
		Email: get("email"), Phone: get("phone"), Language: get("language")}
	if anyText(in.Role, in.GivenName, in.FamilyName, in.DateOfBirth, in.CountryOfBirth, in.ANumber, in.Email, in.Phone, in.Language) {
		p := in.parse("", &errs)
		p.row = line
		row.party = &p
	}
	if err := errs.err(); err != nil {
		return nil, &Rejection{Line: line, Error: err.(*casegate.Error).Message}, nil
	}
	return row, nil, nil
}

// gather builds one case from rows with the same receipt number. The first
// row that gives the case fields sets them; a later row may repeat them but
// not differ.
func gather(rows []*csvRow, rejected []Rejection) (*ParsedCase, []Rejection) {
	var first *csvRow
	for _, r := range rows {
		if r.hasCase {
			first = r
			break
		}
	}
	reject := func(r *csvRow, msg string) { rejected = append(rejected, Rejection{Line: r.line, Error: msg}) }
	if first == nil {
		for _, r := range rows {
			reject(r, "form_type, office and received_on: required in the first row of each case")
		}
		return nil, sortRejections(rejected)
	}
	pc := &ParsedCase{Case: casegate.Case{ReceiptNumber: first.receipt, FormType: first.form,
		Category: first.category, Office: first.office, ReceivedOn: first.received}}
	var used []*csvRow
	for _, r := range rows {
		if r.hasCase && r != first {
			if diff := caseDiff(first, r); diff != "" {
				reject(r, fmt.Sprintf("%s: differs from line %d of the same case", diff, first.line))
				continue
			}
		}
		if r.event != nil {
			pc.Case.History = append(pc.Case.History, *r.event)
		}
		if r.party != nil {
			pc.Parties = append(pc.Parties, *r.party)
		}
		used = append(used, r)
	}
	if len(pc.Parties) == 0 {
		for _, r := range used {
			reject(r, "parties: a case needs at least one party; give role and names in one of its rows")
		}
		return nil, sortRejections(rejected)
	}
	return pc, sortRejections(rejected)
}

// caseDiff names the first case field in which b differs from a, or "".
func caseDiff(a, b *csvRow) string {
	switch {
	case a.form != b.form:
		return "form_type"
	case a.category != b.category && b.category != "":
		return "category"
	case a.office != b.office:
		return "office"
	case !a.received.Equal(b.received):
		return "received_on"
	}
	return ""
}

func sortRejections(rs []Rejection) []Rejection {
	slices.SortStableFunc(rs, func(a, b Rejection) int { return a.Line - b.Line })
	return rs
}

func anyText(values ...string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

func csvFatal(err error) error {
	if errors.Is(err, errLineTooLong) {
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return lineError(fmt.Sprintf("line %d is longer than 1 MiB; the import stopped there", perr.Line))
		}
		return lineError("a line is longer than 1 MiB; the import stopped there")
	}
	return fmt.Errorf("portal: import: read CSV: %w", err)
}

// errLineTooLong stops a CSV import at a physical line over MaxImportLine.
var errLineTooLong = errors.New("line longer than 1 MiB")

// lineLimiter passes r through and fails once a line exceeds MaxImportLine.
type lineLimiter struct {
	r   io.Reader
	run int // bytes since the last newline
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
		} else if l.run++; l.run > MaxImportLine {
			return 0, errLineTooLong
		}
	}
	return n, err
}
