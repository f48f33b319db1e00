package caseimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/casegate/casegate"
)

// The columns of a CSV import. Rows with the same receipt number, one after
// another, build one case; each row adds one party, one status event, or both.
var (
	csvRequired = []string{"receipt_number", "form_type", "office", "received_on",
		"role", "given_name", "family_name", "date_of_birth", "country_of_birth"}
	csvOptional = []string{"category", "status", "status_title", "status_at",
		"a_number", "email", "phone", "language"}
)

// csvColumnOf names the column of each field whose column is named
// otherwise, so that a CSV row's errors name its columns.
var csvColumnOf = map[string]string{"title": "status_title", "at": "status_at"}

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
	Case     *Case       // nil when no row of the case could be used
	Rejected []Rejection // rows left out, with the reason
}

// NewCSVReader reads the header row of r. The header must name the columns
// receipt_number, form_type, office, received_on, role, given_name,
// family_name, date_of_birth and country_of_birth, and may name category,
// status, status_title, status_at, a_number, email, phone and language, in
// any order. A physical line longer than MaxLine stops the import.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	cr := &CSVReader{r: csv.NewReader(&lineLimiter{r: r, limit: MaxLine}), col: map[string]int{}}
	cr.r.ReuseRecord = true
	header, err := cr.r.Read()
	if err != nil {
		var perr *csv.ParseError
		switch {
		case err == io.EOF:
			return nil, lineError("the CSV file is empty: it needs a header row")
		case errors.As(err, &perr) && !errors.Is(err, ErrLineTooLong):
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
	party    *Party
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
		case errors.As(err, &perr) && !errors.Is(err, ErrLineTooLong):
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
	errs := fieldErrors{names: csvColumnOf}
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
		p.Row = line
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
func gather(rows []*csvRow, rejected []Rejection) (*Case, []Rejection) {
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
	pc := &Case{Case: casegate.Case{ReceiptNumber: first.receipt, FormType: first.form,
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
	if errors.Is(err, ErrLineTooLong) {
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return lineError(fmt.Sprintf("line %d is longer than 1 MiB; the import stopped there", perr.Line))
		}
		return lineError("a line is longer than 1 MiB; the import stopped there")
	}
	return fmt.Errorf("caseimport: read CSV: %w", err)
}
