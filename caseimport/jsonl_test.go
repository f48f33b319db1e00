package caseimport

import (
	"reflect"
	"strings"
	"testing"
	"time"

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
	want := Case{
		Case: casegate.Case{
			ReceiptNumber: "IOE0912345678", FormType: "I-485", Category: "Family-based", Office: "NBC",
			ReceivedOn: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC),
			History:    []casegate.StatusEvent{{Status: "received", At: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)}},
		},
		Parties: []Party{{
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
		{"bad language", withParty(goodParty + `,"email":"a@example.com","language":"tlh"`),
			[]string{`parties[0].language: must be one of en`}},
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
		{"too long", `{"receipt_number":"` + strings.Repeat("1", MaxLine) + `"}`, []string{"longer than 1 MiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSONLine([]byte(tc.line))
			if err == nil {
				t.Fatal("accepted")
			}
			if casegate.ErrorCodeOf(err) != casegate.EInvalid {
				t.Errorf("code %s, want %s", casegate.ErrorCodeOf(err), casegate.EInvalid)
			}
			msg := reason(err)
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
	if msg := reason(err); !strings.Contains(msg, "more") || strings.Count(msg, ";") != maxFieldErrors {
		t.Fatalf("reason not cut to %d fields: %q", maxFieldErrors, msg)
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
			if casegate.ErrorCodeOf(err) != casegate.EInvalid || reason(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		checkCanonical(t, pc)
	})
}
