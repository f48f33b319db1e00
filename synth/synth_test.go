package synth

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testGen() *Generator { return New(Options{Seed: 42, Now: testNow}) }

func TestCaseIsDeterministicAndIndependentOfOrder(t *testing.T) {
	g1, g2 := testGen(), testGen()
	forward := make([]ImportCase, 300)
	for i := range forward {
		forward[i] = g1.Case(i)
	}
	for i := len(forward) - 1; i >= 0; i-- {
		if got := g2.Case(i); !equalJSON(t, got, forward[i]) {
			t.Fatalf("case %d differs when generated in another order", i)
		}
	}
	other := New(Options{Seed: 43, Now: testNow})
	same := 0
	for i := range 100 {
		if equalJSON(t, other.Case(i), forward[i]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of 100 cases are the same under another seed", same)
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	opts := Options{Seed: 7, Now: testNow}
	if err := Write(&a, 2000, opts, nil); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, 2000, opts, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes with the same options differ")
	}
	if n := bytes.Count(a.Bytes(), []byte("\n")); n != 2000 {
		t.Fatalf("wrote %d lines, want 2000", n)
	}
}

func TestWriteReportsProgress(t *testing.T) {
	var calls []int
	if err := Write(&bytes.Buffer{}, 25_000, Options{Seed: 1, Now: testNow}, func(done int) { calls = append(calls, done) }); err != nil {
		t.Fatal(err)
	}
	if want := []int{10_000, 20_000, 25_000}; !slices.Equal(calls, want) {
		t.Fatalf("progress calls %v, want %v", calls, want)
	}
	if err := Write(&bytes.Buffer{}, -1, Options{}, nil); err == nil {
		t.Fatal("Write accepted a negative count")
	}
}

func TestReceiptsAndANumbersAreUnique(t *testing.T) {
	g := testGen()
	receipts := make(map[string]int, 100_000)
	type who struct{ given, family, dob string }
	people := map[string]who{}
	for i := range 100_000 {
		c := g.Case(i)
		if j, dup := receipts[c.ReceiptNumber]; dup {
			t.Fatalf("cases %d and %d share receipt %s", j, i, c.ReceiptNumber)
		}
		receipts[c.ReceiptNumber] = i
		for _, p := range c.Parties {
			if p.ANumber == "" {
				continue
			}
			w := who{p.GivenName, p.FamilyName, p.DateOfBirth}
			if prev, ok := people[p.ANumber]; ok && prev != w {
				t.Fatalf("A-Number %s names %v and %v", p.ANumber, prev, w)
			}
			people[p.ANumber] = w
		}
	}
}

var (
	receiptRE = regexp.MustCompile(`^(IOE|EAC|WAC|LIN|SRC|MSC|NBC|YSC)[0-9]{10}$`)
	aNumberRE = regexp.MustCompile(`^A[0-9]{9}$`)
	emailRE   = regexp.MustCompile(`^[a-z0-9.]+@example\.(com|org|net)$`)
	phoneRE   = regexp.MustCompile(`^(\+1[2-9][0-9]{2}55501[0-9]{2}|\+52555555[0-9]{4})$`)
	dateRE    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

var knownStatuses = []string{"received", "fee_received", "biometrics_scheduled", "biometrics_completed",
	"interview_scheduled", "evidence_requested", "response_received", "approved", "card_produced",
	"card_mailed", "denied", "withdrawn", "transferred", "document_mailed", "oath_ceremony_scheduled"}

func TestCasesAreWellFormed(t *testing.T) {
	g := testGen()
	earliest := testNow.AddDate(-3, 0, -1)
	for i := range 20_000 {
		c := g.Case(i)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d (%s): "+format, append([]any{i, c.ReceiptNumber}, args...)...)
		}
		if !receiptRE.MatchString(c.ReceiptNumber) {
			fail("bad receipt")
		}
		if !slices.Contains(formTableCodes(), c.FormType) || c.Office == "" {
			fail("form %q office %q", c.FormType, c.Office)
		}
		received, err := time.Parse(time.DateOnly, c.ReceivedOn)
		if err != nil || received.Before(earliest) || !received.Before(testNow) {
			fail("received on %q", c.ReceivedOn)
		}
		if len(c.History) == 0 || c.History[0].Status != "received" {
			fail("history does not start with received: %v", c.History)
		}
		var prev time.Time
		for _, e := range c.History {
			at, err := time.Parse(time.RFC3339, e.At)
			if err != nil || !at.After(prev) || at.After(testNow) || at.Before(received) {
				fail("event %v out of order or out of range", e)
			}
			if !slices.Contains(knownStatuses, e.Status) {
				fail("unknown status %q", e.Status)
			}
			prev = at
		}
		if done := completion(c); done != "" {
			at, _ := time.Parse(time.RFC3339, done)
			if days := at.Sub(received).Hours() / 24; days < 30 || days > 18*31 {
				fail("completed after %.0f days", days)
			}
		}
		if len(c.Parties) == 0 {
			fail("no parties")
		}
		for _, p := range c.Parties {
			if p.GivenName == "" || p.FamilyName == "" || p.CountryOfBirth == "" || len(p.CountryOfBirth) != 2 {
				fail("party %+v", p)
			}
			if !dateRE.MatchString(p.DateOfBirth) || p.DateOfBirth < "1940-01-01" || p.DateOfBirth > "2006-12-31" {
				fail("date of birth %q", p.DateOfBirth)
			}
			if p.ANumber != "" && !aNumberRE.MatchString(p.ANumber) {
				fail("A-Number %q", p.ANumber)
			}
			if p.Email == "" && p.Phone == "" {
				fail("party without contact")
			}
			if p.Email != "" && !emailRE.MatchString(p.Email) {
				fail("email %q", p.Email)
			}
			if p.Phone != "" && !phoneRE.MatchString(p.Phone) {
				fail("phone %q", p.Phone)
			}
			if p.Language != "en" && p.Language != "es" {
				fail("language %q", p.Language)
			}
		}
	}
}

// completion returns the time of the case's terminal event, or "".
func completion(c ImportCase) string {
	for _, e := range c.History {
		if slices.Contains(CompletedStatuses, e.Status) {
			return e.At
		}
	}
	return ""
}

func TestDistributions(t *testing.T) {
	g := testGen()
	const n = 20_000
	var parties, spanish, emailOnly, phoneOnly, applicants, applicantsA, represented, completed, family int
	var cyrillic, accented, hyphen, apostrophe, twoFamily int
	forms := map[string]int{}
	for i := range n {
		c := g.Case(i)
		forms[c.FormType]++
		if completion(c) != "" {
			completed++
		}
		roles := map[string]bool{}
		for _, p := range c.Parties {
			roles[p.Role] = true
			parties++
			if p.Language == "es" {
				spanish++
			}
			switch {
			case p.Phone == "":
				emailOnly++
			case p.Email == "":
				phoneOnly++
			}
			if p.Role == "applicant" {
				applicants++
				if p.ANumber != "" {
					applicantsA++
				}
			}
			name := p.GivenName + " " + p.FamilyName
			if strings.ContainsFunc(name, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) {
				cyrillic++
			}
			if strings.ContainsAny(name, "áéíóúñÁÉÍÓÚÑãçêôýąćęłńśźżđơưạảấầ") {
				accented++
			}
			if strings.Contains(name, "-") {
				hyphen++
			}
			if strings.Contains(name, "'") {
				apostrophe++
			}
			if p.CountryOfBirth == "MX" && strings.Contains(p.FamilyName, " ") {
				twoFamily++
			}
		}
		if roles["representative"] {
			represented++
		}
		if roles["petitioner"] && roles["beneficiary"] {
			family++
		}
	}
	share := func(k, of int) float64 { return float64(k) / float64(of) }
	for _, c := range []struct {
		name     string
		got      float64
		lo, high float64
	}{
		{"parties preferring Spanish", share(spanish, parties), 0.30, 0.40},
		{"parties with only an email", share(emailOnly, parties), 0.08, 0.12},
		{"parties with only a phone", share(phoneOnly, parties), 0.08, 0.12},
		{"applicants with an A-Number", share(applicantsA, applicants), 0.65, 0.75},
		{"cases with a representative", share(represented, n), 0.27, 0.33},
		{"completed cases", share(completed, n), 0.40, 0.50},
		{"family cases with petitioner and beneficiary", share(family, n), 0.10, 0.30},
	} {
		t.Logf("%s: %.3f", c.name, c.got)
		if c.got < c.lo || c.got > c.high {
			t.Errorf("%s: %.3f, want between %.2f and %.2f", c.name, c.got, c.lo, c.high)
		}
	}
	for name, k := range map[string]int{"Cyrillic": cyrillic, "accented": accented, "hyphenated": hyphen,
		"apostrophe": apostrophe, "two family names from Mexico": twoFamily} {
		if k < n/200 {
			t.Errorf("only %d names %s in %d cases", k, name, n)
		}
	}
	for _, f := range forms {
		if f < n/50 {
			t.Errorf("form counts too uneven: %v", forms)
			break
		}
	}
	if len(forms) != len(formTableCodes()) {
		t.Errorf("forms used %v, want all of %v", forms, formTableCodes())
	}
}

func formTableCodes() []string {
	var codes []string
	for _, f := range forms {
		codes = append(codes, f.code)
	}
	return codes
}

func TestBundlesShareTheApplicant(t *testing.T) {
	g := testGen()
	found := 0
	for block := range 200 {
		cs := []ImportCase{g.Case(block*10 + 7), g.Case(block*10 + 8), g.Case(block*10 + 9)}
		if cs[0].FormType != "I-485" || cs[1].FormType != "I-765" || cs[2].FormType != "I-131" {
			continue
		}
		a := cs[0].Parties[0]
		if cs[1].Parties[0] != a || cs[2].Parties[0] != a || cs[1].ReceivedOn != cs[0].ReceivedOn || a.ANumber == "" {
			continue // forms drawn independently can look like a bundle
		}
		found++
	}
	if found < 30 {
		t.Fatalf("%d bundles of I-485, I-765 and I-131 in 200 blocks, want about 60", found)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	g := testGen()
	cases := []ImportCase{{
		ReceiptNumber: "IOE0912345678", FormType: `a"b\c<d>&e`, Office: "x\n\t\r\x01\u2028\u2029é",
		ReceivedOn: "bad \xff utf8", History: []ImportEvent{{Status: "s", Title: "t", At: "a"}},
	}, {ReceiptNumber: "x", Parties: []ImportParty{{Role: "applicant"}}}}
	for i := range 2000 {
		cases = append(cases, g.Case(i))
	}
	for i, c := range cases {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSON(nil, &c); !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestASCIIFold(t *testing.T) {
	for in, want := range map[string]string{
		"José": "jose", "Łukasz": "lukasz", "Nguyễn": "nguyen", "Đặng": "dang", "O'Connor": "oconnor",
		"Дмитрий": "dmitrii", "Шевченко": "shevchenko", "Mary-Kate": "marykate", "Ma. Teresa": "materesa",
	} {
		if got := asciiFold(in); got != want {
			t.Errorf("asciiFold(%q) = %q, want %q", in, got, want)
		}
	}
}

func equalJSON(t *testing.T, a, b ImportCase) bool {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func BenchmarkWrite(b *testing.B) {
	opts := Options{Seed: 1, Now: testNow}
	b.ReportAllocs()
	b.ResetTimer()
	if err := Write(discard{}, b.N, opts, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestOfficesCoverEveryOfficeOfTheCases: the office catalog names every
// office a generated case is filed at, once, with fictional contacts.
func TestOfficesCoverEveryOfficeOfTheCases(t *testing.T) {
	catalog := map[string]ImportOffice{}
	for _, o := range Offices() {
		if _, dup := catalog[o.Code]; dup {
			t.Errorf("office %s twice", o.Code)
		}
		if o.Name == "" || !strings.HasPrefix(o.URL, "https://offices.example.org/") || !strings.HasPrefix(o.Phone, "+1 800 555 01") {
			t.Errorf("office %+v: want a name, a page at example.org and a 555-01xx number", o)
		}
		catalog[o.Code] = o
	}
	g := testGen()
	for i := range 5000 {
		if c := g.Case(i); catalog[c.Office].Code == "" {
			t.Fatalf("case %d is filed at %q, which the office catalog lacks", i, c.Office)
		}
	}
}
