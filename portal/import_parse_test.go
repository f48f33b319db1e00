package portal

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// designLine is the example of DESIGN §12.
const designLine = `{"receipt_number":"IOE0912345678","form_type":"I-485","category":"Family-based",
 "office":"NBC","received_on":"2025-03-14",
 "history":[{"status":"received","at":"2025-03-14T10:00:00Z"}],
 "parties":[{"role":"applicant","given_name":"José","family_name":"García López",
  "date_of_birth":"1990-04-02","country_of_birth":"MX","a_number":"A012345678",
  "email":"jose@example.com","phone":"+15555550123","language":"es"}]}`

func TestParseJSONLineDesignExample(t *testing.T) {
	got, err := ParseJSONLine([]byte(strings.ReplaceAll(designLine, "\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	want := ParsedCase{
		Case: casegate.Case{
			ReceiptNumber: "IOE0912345678", FormType: "I-485", Category: "Family-based", Office: "NBC",
			ReceivedOn: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC),
			History:    []casegate.StatusEvent{{Status: "received", At: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)}},
		},
		Parties: []ParsedParty{{
			Role: casegate.RoleApplicant, GivenName: "José", FamilyName: "García López",
			DateOfBirth: "1990-04-02", CountryOfBirth: "MX", ANumber: "A012345678",
			Email: "jose@example.com", Phone: "+15555550123", Language: "es",
			PhoneKind: identity.PhoneUnknown, // the design's example is in no assigned range
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseJSONLineCanonicalises(t *testing.T) {
	line := `{"receipt_number":" ioe-0912345678 ","form_type":" i-130 ","office":"  Los   Angeles ",
		"received_on":"03/14/2025",
		"history":[{"status":" Approved ","title":"  Decision   made ","at":"2025-03-14T05:00:00.1234567-05:00"}],
		"parties":[{"role":"Beneficiary","given_name":"  María   José ","family_name":"Núñez",
		"date_of_birth":"4/2/1990","country_of_birth":"Mexico","a_number":"12345678",
		"email":" Maria@Example.COM ","phone":"+1 (555) 555-0123","language":"ES"}]}`
	got, err := ParseJSONLine([]byte(strings.ReplaceAll(line, "\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	c, p := got.Case, got.Parties[0]
	for _, f := range []struct{ name, got, want string }{
		{"receipt", c.ReceiptNumber, "IOE0912345678"},
		{"form", c.FormType, "I-130"},
		{"office", c.Office, "Los Angeles"},
		{"received", c.ReceivedOn.Format(time.RFC3339), "2025-03-14T00:00:00Z"},
		{"status", c.History[0].Status, "approved"},
		{"title", c.History[0].Title, "Decision made"},
		{"at", c.History[0].At.Format(time.RFC3339Nano), "2025-03-14T10:00:00.123456Z"},
		{"role", string(p.Role), "beneficiary"},
		{"given", p.GivenName, "María José"},
		{"dob", p.DateOfBirth, "1990-04-02"},
		{"country", p.CountryOfBirth, "MX"},
		{"a_number", p.ANumber, "A012345678"},
		{"email", p.Email, "Maria@example.com"},
		{"phone", p.Phone, "+15555550123"},
		{"language", p.Language, "es"},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if got.Case.Category != "" {
		t.Errorf("category = %q, want empty", got.Case.Category)
	}
}

// withParty returns a good line whose only party has the given JSON members
// in place of the default ones.
func withParty(members string) string {
	return `{"receipt_number":"IOE0912345678","form_type":"I-485","office":"NBC","received_on":"2025-03-14",` +
		`"parties":[{` + members + `}]}`
}

const goodParty = `"role":"applicant","given_name":"Ana","family_name":"Ruiz","date_of_birth":"1990-04-02","country_of_birth":"MX"`

func TestParseJSONLineRejects(t *testing.T) {
	long := strings.Repeat("a", 201)
	for _, tc := range []struct {
		name, line string
		want       []string // substrings of the reason
	}{
		{"missing receipt", `{"form_type":"I-485","office":"NBC","received_on":"2025-03-14","parties":[{` + goodParty + `,"email":"a@example.com"}]}`,
			[]string{"receipt_number: required"}},
		{"bad receipt", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), "IOE0912345678", "IOE09123", 1),
			[]string{"receipt_number: must be 3 letters and 10 digits"}},
		{"missing form, office, date", `{"receipt_number":"IOE0912345678","parties":[{` + goodParty + `,"email":"a@example.com"}]}`,
			[]string{"form_type: required", "office: required", "received_on: required"}},
		{"bad form", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), "I-485", "I_485!", 1),
			[]string{"form_type: must be"}},
		{"impossible date", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), "2025-03-14", "2025-02-30", 1),
			[]string{"received_on: must be a real date"}},
		{"office too long", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), `"NBC"`, `"`+long+`"`, 1),
			[]string{"office: at most 200"}},
		{"control character in category", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), `"office"`, `"category":"a\u0007b","office"`, 1),
			[]string{"category: must be printable"}},
		{"bad status and time", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), `"parties"`,
			`"history":[{"status":"in-review","at":"2025-03-14 10:00"},{"status":"`+strings.Repeat("x", 41)+`","at":"2025-03-14T10:00:00Z"},{"at":"2025-03-14T10:00:00Z"}],"parties"`, 1),
			[]string{"history[0].status: must be a code", "history[0].at: must be a time in RFC 3339", "history[1].status: must be a code", "history[2].status: required"}},
		{"no parties", `{"receipt_number":"IOE0912345678","form_type":"I-485","office":"NBC","received_on":"2025-03-14","parties":[]}`,
			[]string{"parties: a case needs at least one party"}},
		{"bad role", withParty(strings.Replace(goodParty, "applicant", "lawyer", 1) + `,"email":"a@example.com"`),
			[]string{"parties[0].role: must be applicant, petitioner, beneficiary or representative"}},
		{"blank names", withParty(strings.NewReplacer(`"Ana"`, `"   "`, `"Ruiz"`, `"--"`).Replace(goodParty) + `,"email":"a@example.com"`),
			[]string{"parties[0].given_name: required", "parties[0].family_name: must contain letters"}},
		{"name too long", withParty(strings.Replace(goodParty, `"Ana"`, `"`+long+`"`, 1) + `,"email":"a@example.com"`),
			[]string{"parties[0].given_name: must contain letters, at most 200"}},
		{"bad identity", withParty(strings.NewReplacer("1990-04-02", "1990-13-02", `"MX"`, `"Atlantis"`).Replace(goodParty) + `,"a_number":"A12","email":"a@example.com"`),
			[]string{"parties[0].date_of_birth: must be a real date", "parties[0].country_of_birth: must be a country", "parties[0].a_number: must be the letter A"}},
		{"bad contact", withParty(goodParty + `,"email":"not an email","phone":"call me"`),
			[]string{"parties[0].email: must be an email", "parties[0].phone: must be a phone"}},
		{"line separator in email", withParty(goodParty + `,"email":"ana\u2028@example.com"`), []string{"parties[0].email: must not hold invisible"}},
		{"next line after email", withParty(goodParty + `,"email":"ana@example.com\u0085"`), []string{"parties[0].email: must not hold invisible"}},
		{"right-to-left override in email", withParty(goodParty + `,"email":"ana@\u202eelpmaxe.com"`), []string{"parties[0].email: must not hold invisible"}},
		{"zero-width space in email", withParty(goodParty + `,"email":"an\u200ba@example.com"`), []string{"parties[0].email: must not hold invisible"}},
		{"byte order mark before email", withParty(goodParty + `,"email":"\ufeffana@example.com"`), []string{"parties[0].email: must not hold invisible"}},
		{"email domain not a host name", withParty(goodParty + `,"email":"ana@exa_mple.com"`), []string{"parties[0].email: must be an email"}},
		{"no contact", withParty(goodParty + `,"email":" ","phone":""`),
			[]string{"parties[0].email: a party needs an email or a phone"}},
		{"bad language", withParty(goodParty + `,"email":"a@example.com","language":"fr"`),
			[]string{`parties[0].language: must be "en" or "es"`}},
		{"unknown field", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), `"office"`, `"priority":1,"office"`, 1),
			[]string{"priority: unknown field"}},
		{"unknown party field", withParty(goodParty + `,"email":"a@example.com","ssn":"123"`),
			[]string{"ssn: unknown field"}},
		{"number for a string", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), `"IOE0912345678"`, `912345678`, 1),
			[]string{"receipt_number: must be a string, not a JSON number"}},
		{"object for a list", `{"receipt_number":"IOE0912345678","form_type":"I-485","office":"NBC","received_on":"2025-03-14","parties":{}}`,
			[]string{"parties: must be a list"}},
		{"string for an event", strings.Replace(withParty(goodParty+`,"email":"a@example.com"`), `"parties"`, `"history":["received"],"parties"`, 1),
			[]string{"history: must be an object"}},
		{"truncated", withParty(goodParty)[:60], []string{"cut off"}},
		{"syntax error", `{"receipt_number" "IOE0912345678"}`, []string{"not valid JSON at byte"}},
		{"two objects", withParty(goodParty+`,"email":"a@example.com"`) + ` {}`, []string{"more after the JSON object"}},
		{"an array", `[1,2]`, []string{"must be one JSON object"}},
		{"null", `null`, []string{"must be one JSON object"}},
		{"invalid UTF-8", withParty(strings.Replace(goodParty, "Ana", "An\xffa", 1) + `,"email":"a@example.com"`), []string{"not valid UTF-8"}},
		{"too long", `{"receipt_number":"` + strings.Repeat("1", MaxImportLine) + `"}`, []string{"longer than 1 MiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSONLine([]byte(tc.line))
			if err == nil {
				t.Fatal("accepted")
			}
			if casegate.ErrorCodeOf(err) != casegate.EInvalid {
				t.Errorf("code %s, want %s", casegate.ErrorCodeOf(err), casegate.EInvalid)
			}
			msg := importReason(err)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("reason %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestParseJSONLineLimitsReasons(t *testing.T) {
	var parties []string
	for range 20 {
		parties = append(parties, `{"role":"x"}`)
	}
	line := `{"receipt_number":"IOE0912345678","form_type":"I-485","office":"NBC","received_on":"2025-03-14","parties":[` +
		strings.Join(parties, ",") + `]}`
	_, err := ParseJSONLine([]byte(line))
	if msg := importReason(err); !strings.Contains(msg, "more") || strings.Count(msg, ";") != maxFieldErrors {
		t.Fatalf("reason not cut to %d fields: %q", maxFieldErrors, msg)
	}
}

// checkCanonical fails when an accepted case holds a value that is not in
// canonical form.
func checkCanonical(t *testing.T, pc ParsedCase) {
	t.Helper()
	same := func(field, v string, canon func(string) (string, error)) {
		t.Helper()
		if got, err := canon(v); err != nil || got != v {
			t.Fatalf("%s %q is not canonical (%q, %v)", field, v, got, err)
		}
	}
	c := pc.Case
	same("receipt", c.ReceiptNumber, identity.ReceiptNumber)
	if c.FormType == "" || c.FormType != strings.ToUpper(c.FormType) || c.Office == "" {
		t.Fatalf("form %q office %q", c.FormType, c.Office)
	}
	if !c.ReceivedOn.Equal(c.ReceivedOn.Truncate(24*time.Hour)) || c.ReceivedOn.Location() != time.UTC {
		t.Fatalf("received %v is not a UTC date", c.ReceivedOn)
	}
	for _, e := range c.History {
		if !isStatusCode(e.Status) || e.At.Location() != time.UTC || e.At.IsZero() || e.At.Nanosecond()%1000 != 0 {
			t.Fatalf("event %+v", e)
		}
	}
	if len(pc.Parties) == 0 {
		t.Fatal("no parties")
	}
	for _, p := range pc.Parties {
		if !p.Role.Valid() || (p.Email == "" && p.Phone == "") {
			t.Fatalf("party %+v", p)
		}
		same("given name", p.GivenName, identity.Name)
		same("family name", p.FamilyName, identity.Name)
		same("date of birth", p.DateOfBirth, identity.Date)
		same("country", p.CountryOfBirth, identity.Country)
		for _, opt := range []struct {
			name, v string
			canon   func(string) (string, error)
		}{{"A-Number", p.ANumber, identity.ANumber}, {"email", p.Email, identity.Email}, {"phone", p.Phone, identity.Phone}} {
			if opt.v != "" {
				same(opt.name, opt.v, opt.canon)
			}
		}
		for _, r := range p.Email {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("email %q holds %U", p.Email, r)
			}
		}
		if p.Language != "" && p.Language != "en" && p.Language != "es" {
			t.Fatalf("language %q", p.Language)
		}
	}
}

func FuzzParseJSONLine(f *testing.F) {
	f.Add([]byte(strings.ReplaceAll(designLine, "\n", "")))
	f.Add([]byte(withParty(goodParty + `,"email":"a@example.com"`)))
	f.Add([]byte(withParty(goodParty + `,"email":"a\u2028@b\u200b.com"`)))
	f.Add([]byte(withParty(goodParty + `,"email":"josé@Bücher.DE"`)))
	f.Add([]byte(withParty(goodParty + `,"phone":"+52 55 5555 0101","a_number":"a-1234567"`)))
	f.Add([]byte(`{"receipt_number":null,"parties":[null]}`))
	f.Add([]byte(`{"history":[{"status":"x","at":"2025-01-01T00:00:00+14:00"}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		pc, err := ParseJSONLine(line)
		if err != nil {
			if casegate.ErrorCodeOf(err) != casegate.EInvalid || importReason(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		checkCanonical(t, pc)
	})
}

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
		6: "at: required",
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
	data := csvHeader + strings.Repeat("x", MaxImportLine+10) + "\n"
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
