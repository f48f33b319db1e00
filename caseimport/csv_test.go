package caseimport

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/casegate/casegate"
)

const csvHeader = "receipt_number,form_type,category,office,received_on,status,status_at,role,given_name,family_name,date_of_birth,country_of_birth,a_number,email,phone,language\n"

func readAllCSV(t *testing.T, data string) ([]CSVCase, error) {
	t.Helper()
	cr, err := NewCSVReader(strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []CSVCase
	for {
		cc, err := cr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, cc)
	}
}

func TestCSVReaderGathersRowsOfACase(t *testing.T) {
	data := csvHeader +
		"IOE0912345678,I-485,Family-based,NBC,2025-03-14,received,2025-03-14T10:00:00Z,applicant,José,García López,1990-04-02,MX,A012345678,jose@example.com,+15555550123,es\n" +
		"IOE0912345678,,,,,fee_received,2025-03-15T10:00:00Z,,,,,,,,,\n" +
		"ioe0912345678,I-485,,NBC,2025-03-14,,,petitioner,Ana,García,1970-01-01,US,,,+15555550124,\n" +
		",,,,,,,,,,,,,,,\n" +
		"EAC2190012345,I-130,,VSC,2024-01-02,,,beneficiary,\"Li, Wei\",Wang,1985-07-07,CN,,wei@example.org,,\n"
	got, err := readAllCSV(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d cases, want 2", len(got))
	}
	first := got[0]
	if first.Line != 2 || len(first.Rejected) != 0 || first.Case == nil {
		t.Fatalf("first case %+v", first)
	}
	c := first.Case
	if c.Case.FormType != "I-485" || c.Case.Category != "Family-based" || len(c.Case.History) != 2 || len(c.Parties) != 2 {
		t.Fatalf("first case gathered wrong: %+v", c)
	}
	if c.Parties[1].Role != casegate.RolePetitioner || c.Parties[1].Phone != "+15555550124" {
		t.Fatalf("second party %+v", c.Parties[1])
	}
	if got[1].Line != 6 || got[1].Case.Case.ReceiptNumber != "EAC2190012345" || got[1].Case.Parties[0].GivenName != "Li, Wei" {
		t.Fatalf("second case %+v", got[1])
	}
}

func TestCSVReaderRejectsRows(t *testing.T) {
	data := csvHeader +
		"IOE0912345678,I-485,,NBC,2025-03-14,received,2025-03-14T10:00:00Z,applicant,Ana,Ruiz,1990-04-02,MX,,ana@example.com,,\n" + // 2 ok
		"IOE0912345678,I-485,,NBC,2025-03-14,,,applicant,Bea,Ruiz,1990-04-02,MX,,bad-email,,\n" + // 3 bad email
		"IOE0912345678,I-485,,NBC,2025-03-14,,,applicant,Bob,Ruiz,1990-04-02,MX,,bob\u200b@example.com,,\n" + // 4 invisible in email
		"IOE0912345678,I-130,,NBC,2025-03-14,,,beneficiary,Cid,Ruiz,1991-04-02,MX,,cid@example.com,,\n" + // 5 form differs
		"IOE0912345678,,,,,approved,,,,,,,,,,\n" + // 6 status without time
		"IOE0912345678,,,,,,,applicant,Dan,Ruiz,1990-04-02\n" + // 7 wrong number of fields
		"EAC2190012345,,,,,received,2025-03-14T10:00:00Z,applicant,Eva,Ruiz,1990-04-02,MX,,eva@example.com,,\n" + // 8 no case fields
		"WAC2190012345,I-90,,NBC,2025-03-14,received,2025-03-14T10:00:00Z,,,,,,,,,\n" + // 9 no party
		"LIN2190012345,I-90,,NBC,2025-03-14,received,2025-03-14T10:00:00Z,applicant,Fay,Ruiz,1990-04-02,MX,,fay@example.com,,\n" // 10 ok
	got, err := readAllCSV(t, data)
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	rejected := map[int]string{}
	for _, cc := range got {
		if cc.Case != nil {
			loaded = append(loaded, cc.Case.Case.ReceiptNumber)
			if cc.Case.Case.ReceiptNumber == "IOE0912345678" && (len(cc.Case.Parties) != 1 || len(cc.Case.Case.History) != 1) {
				t.Errorf("IOE case kept rows it should not: %+v", cc.Case)
			}
		}
		for _, r := range cc.Rejected {
			rejected[r.Line] = r.Error
		}
	}
	if want := []string{"IOE0912345678", "LIN2190012345"}; !reflect.DeepEqual(loaded, want) {
		t.Errorf("loaded %v, want %v", loaded, want)
	}
	for line, want := range map[int]string{
		3: "email: must be an email",
		4: "email: must not hold invisible",
		5: "form_type: differs from line 2",
		6: "status_at: required",
		7: "not valid CSV: wrong number of fields",
		8: "form_type, office and received_on: required",
		9: "parties: a case needs at least one party",
	} {
		if !strings.Contains(rejected[line], want) {
			t.Errorf("line %d: reason %q does not say %q", line, rejected[line], want)
		}
	}
	if len(rejected) != 7 {
		t.Errorf("rejected %v, want lines 3 to 9", rejected)
	}
}

// TestCSVErrorsNameTheColumn: a CSV row's reasons name the column as the
// header does (status_at, status_title), not the JSON field of the event
// (at, title), which no column is called.
func TestCSVErrorsNameTheColumn(t *testing.T) {
	const header = "receipt_number,form_type,office,received_on,status,status_title,status_at,role,given_name,family_name,date_of_birth,country_of_birth,email\n"
	const party = "applicant,Ana,García,1970-01-01,US,ana@example.com"
	for _, tc := range []struct{ row, want string }{
		{"IOE0912345678,I-485,NBC,2025-03-14,received,,yesterday," + party, "status_at: must be a time in RFC 3339 form"},
		{"IOE0912345678,I-485,NBC,2025-03-14,received,,2025-03-14T9:00:00Z," + party, "status_at: must be a time in RFC 3339 form"},
		{"IOE0912345678,I-485,NBC,2025-03-14,received,,," + party, "status_at: required"},
		{"IOE0912345678,I-485,NBC,2025-03-14,custom,\"a\x01b\",2025-03-14T10:00:00Z," + party, "status_title: must be printable text"},
		{"IOE0912345678,I-485,NBC,2025-03-14,Not A Code,,2025-03-14T10:00:00Z," + party, "status: must be a code"},
		{"IOE0912345678,I-485,NBC,2025-03-14,received,,2025-03-14T10:00:00Z,applicant,Ana,García,1970-13-01,US,ana@example.com", "date_of_birth: must be a real date"},
	} {
		ccs, err := readAllCSV(t, header+tc.row+"\n")
		if err != nil {
			t.Fatalf("%s: %v", tc.row, err)
		}
		if len(ccs) != 1 || len(ccs[0].Rejected) != 1 {
			t.Fatalf("%s: read %+v, want one rejected row", tc.row, ccs)
		}
		if got := ccs[0].Rejected[0].Error; !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: reason %q, want it to begin %q", tc.row, got, tc.want)
		}
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "empty"},
		{"receipt_number,form_type\n", "column office is missing"},
		{strings.Replace(csvHeader, "language", "ssn", 1), `unknown column "ssn"`},
		{strings.Replace(csvHeader, "language", "email", 1), "appears twice"},
	} {
		_, err := NewCSVReader(strings.NewReader(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("header %q: error %v, want %q", tc.data, err, tc.want)
		}
	}
	// A byte-order mark and upper-case names are fine; optional columns may be left out.
	if _, err := NewCSVReader(strings.NewReader("\ufeffRECEIPT_NUMBER,form_type,office,received_on,role,given_name,family_name,date_of_birth,country_of_birth,phone\n")); err != nil {
		t.Errorf("header with BOM: %v", err)
	}
}

func TestCSVStopsAtAnOverlongLine(t *testing.T) {
	data := csvHeader + strings.Repeat("x", MaxLine+10) + "\n"
	_, err := readAllCSV(t, data)
	if err == nil || !strings.Contains(err.Error(), "longer than 1 MiB") {
		t.Fatalf("error %v, want one about the long line", err)
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte(csvHeader +
		"IOE0912345678,I-485,Family-based,NBC,2025-03-14,received,2025-03-14T10:00:00Z,applicant,José,García López,1990-04-02,MX,A012345678,jose@example.com,+15555550123,es\n" +
		"IOE0912345678,,,,,fee_received,2025-03-15T10:00:00Z,,,,,,,,,\n"))
	f.Add([]byte("receipt_number,form_type,office,received_on,role,given_name,family_name,date_of_birth,country_of_birth,phone\n" +
		"EAC2190012345,I-130,VSC,04/02/2024,petitioner,\"Ana \"\"A\"\"\",Ruiz,1990-04-02,Mexico,+1 555 555 0101\r\n"))
	f.Add([]byte(csvHeader + "\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr, err := NewCSVReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		prevLine := 0
		for range 10_000 {
			cc, err := cr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return
			}
			if cc.Case == nil && len(cc.Rejected) == 0 {
				t.Fatal("Next returned nothing")
			}
			for _, r := range cc.Rejected {
				if r.Line < 2 || r.Error == "" {
					t.Fatalf("rejection %+v", r)
				}
			}
			if cc.Case != nil {
				checkCanonical(t, *cc.Case)
				if cc.Line <= prevLine-1 {
					t.Fatalf("case at line %d after line %d", cc.Line, prevLine)
				}
				prevLine = cc.Line
			}
		}
		t.Fatal("Next did not reach the end")
	})
}
