package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

// enumCases are the people of the enumeration test, each a match that must
// still get no code: one locked, one without a contact, one past the codes a
// person may get in a day, and two with the same identity on one case.
const enumCases = `{"receipt_number":"LIN2190011111","form_type":"I-130","office":"NBC","received_on":"2025-02-01","parties":[{"role":"applicant","given_name":"Lena","family_name":"Locked","date_of_birth":"1980-01-01","country_of_birth":"DE","email":"lena@example.com"}]}
{"receipt_number":"LIN2190022222","form_type":"I-130","office":"NBC","received_on":"2025-02-01","parties":[{"role":"applicant","given_name":"Nora","family_name":"Nocontact","date_of_birth":"1981-02-02","country_of_birth":"DE","email":"nora@example.com"}]}
{"receipt_number":"LIN2190033333","form_type":"I-130","office":"NBC","received_on":"2025-02-01","parties":[{"role":"applicant","given_name":"Pia","family_name":"Limit","date_of_birth":"1982-03-03","country_of_birth":"DE","email":"pia@example.com"}]}
{"receipt_number":"LIN2190044444","form_type":"I-130","office":"NBC","received_on":"2025-02-01","parties":[{"role":"petitioner","given_name":"Ada","family_name":"Twin","date_of_birth":"1983-04-04","country_of_birth":"DE","a_number":"A100000001","email":"ada1@example.com"},{"role":"beneficiary","given_name":"Ada","family_name":"Twin","date_of_birth":"1983-04-04","country_of_birth":"DE","a_number":"A100000002","email":"ada2@example.com"}]}
`

// enumPerson is the code request of one of enumCases.
func enumPerson(receipt, given, family, dob string) map[string]string {
	return map[string]string{"receipt_number": receipt, "given_name": given, "family_name": family,
		"date_of_birth": dob, "country_of_birth": "Germany", "channel": "email", "language": "en"}
}

// TestRequestOutcomesLookAlike compares, request by request, each outcome
// that matches a person but sends no code with a request for a receipt
// number that does not exist, 500 pairs each, interleaved: the status, every header but Date, the body's
// members and the form of their values, and the median time to answer
// (DESIGN §7: within 2 ms or 15 %). The audit log shows each request took the
// path it was meant to.
func TestRequestOutcomesLookAlike(t *testing.T) {
	s := newStack(t, relaxed, func(l *portal.Limits) { l.CodesPerParty = portal.Rate{N: 1, Per: 24 * time.Hour} })
	res, err := s.portal.Importer().Import(t.Context(), strings.NewReader(enumCases), "jsonl", "test", nil)
	if err != nil || res.Created != 4 || len(res.Rejected) > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	setParty(t, s, "LIN2190011111", func(p *casegate.Party) { p.LockedUntil = s.clock.Now().Add(24 * time.Hour) })
	setParty(t, s, "LIN2190022222", func(p *casegate.Party) { p.Email, p.Phone = "", "" })
	pia := enumPerson("LIN2190033333", "Pia", "Limit", "1982-03-03")
	s.requestCode(pia) // the one code Pia may get today
	s.waitCode(1)

	variants := []struct {
		outcome string
		who     map[string]string
	}{
		{"locked", enumPerson("LIN2190011111", "Lena", "Locked", "1980-01-01")},
		{"no_contact", enumPerson("LIN2190022222", "Nora", "Nocontact", "1981-02-02")},
		{"party_limit", pia},
		{"ambiguous", enumPerson("LIN2190044444", "Ada", "Twin", "1983-04-04")},
	}
	const n = 500 // per outcome, as in DESIGN §7
	for _, v := range variants {
		t.Run(v.outcome, func(t *testing.T) {
			before := s.auditOutcomes(t, "code.request")
			var special, unknown []time.Duration
			for i := range n + 10 {
				nobody := maps.Clone(v.who)
				nobody["receipt_number"] = fmt.Sprintf("LIN29%08d", i)
				var a, b timedAnswer
				if i%2 == 0 {
					a, b = s.timedRequest(t, v.who), s.timedRequest(t, nobody)
				} else {
					b, a = s.timedRequest(t, nobody), s.timedRequest(t, v.who)
				}
				sameAnswer(t, a, b)
				if i >= 10 { // warm-up
					special, unknown = append(special, a.took), append(unknown, b.took)
				}
			}
			after := s.auditOutcomes(t, "code.request")
			if got := after[v.outcome] - before[v.outcome]; got != n+10 {
				t.Errorf("%d requests took the %s path, want %d", got, v.outcome, n+10)
			}
			if got := after["no_match"] - before["no_match"]; got != n+10 {
				t.Errorf("%d requests took the no_match path, want %d", got, n+10)
			}
			ms, mu := median(special), median(unknown)
			diff := max(ms-mu, mu-ms)
			allowed := max(2*time.Millisecond, time.Duration(0.15*float64(min(ms, mu))))
			t.Logf("median %s %v, unknown %v, difference %v, allowed %v", v.outcome, ms, mu, diff, allowed)
			if diff > allowed {
				t.Errorf("medians differ by %v, more than %v", diff, allowed)
			}
		})
	}
	s.settle()
	if n := len(s.smtp.Messages()); n != 1 {
		t.Errorf("%d messages sent, want only Pia's first code", n)
	}
}

// setParty changes the one party of the case receipt in the store.
func setParty(t *testing.T, s *stack, receipt string, change func(*casegate.Party)) {
	t.Helper()
	err := s.store.Update(t.Context(), func(tx casegate.Tx) error {
		ps, err := tx.PartiesByReceipt(t.Context(), receipt)
		if err != nil || len(ps) != 1 {
			return fmt.Errorf("%s: %d parties, %v", receipt, len(ps), err)
		}
		change(&ps[0])
		return tx.UpdateParty(t.Context(), ps[0])
	})
	if err != nil {
		t.Fatal(err)
	}
}

// auditOutcomes counts the outcomes of the audit events with action.
func (s *stack) auditOutcomes(t *testing.T, action string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range s.auditAll(t) {
		if e.Action == action {
			out[e.Outcome]++
		}
	}
	return out
}

// timedAnswer is one answer to a code request and how long it took.
type timedAnswer struct {
	status int
	header http.Header
	body   map[string]any
	took   time.Duration
}

func (s *stack) timedRequest(t *testing.T, who map[string]string) timedAnswer {
	t.Helper()
	start := time.Now()
	resp, body := s.do("POST", "/api/v1/access-codes", who, nil)
	took := time.Since(start)
	a := timedAnswer{status: resp.StatusCode, header: resp.Header, took: took}
	if err := json.Unmarshal(body, &a.body); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
	}
	return a
}

var requestIDForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

// sameAnswer fails unless a and b are alike in all but the request id.
func sameAnswer(t *testing.T, a, b timedAnswer) {
	t.Helper()
	if a.status != http.StatusAccepted || b.status != http.StatusAccepted {
		t.Fatalf("statuses %d and %d, want 202 both", a.status, b.status)
	}
	names := func(h http.Header) []string {
		return slices.Sorted(maps.Keys(h))
	}
	if an, bn := names(a.header), names(b.header); !slices.Equal(an, bn) {
		t.Fatalf("headers differ: %v / %v", an, bn)
	}
	for name := range a.header {
		switch name {
		case "Date":
		case "X-Request-Id": // every request has its own, made alike
			for _, id := range []string{a.header.Get(name), b.header.Get(name)} {
				if len(id) != 26 || !casegate.ValidRequestID(id) {
					t.Fatalf("X-Request-ID %q is not a fresh ID", id)
				}
			}
		default:
			if !slices.Equal(a.header[name], b.header[name]) {
				t.Fatalf("header %s: %q / %q", name, a.header[name], b.header[name])
			}
		}
	}
	if ak, bk := slices.Sorted(maps.Keys(a.body)), slices.Sorted(maps.Keys(b.body)); !slices.Equal(ak, bk) {
		t.Fatalf("body members differ: %v / %v", ak, bk)
	}
	for k, v := range a.body {
		if k == "request_id" {
			for _, id := range []any{v, b.body[k]} {
				if s, _ := id.(string); !requestIDForm.MatchString(s) {
					t.Fatalf("request_id %v is not 32 hex digits", id)
				}
			}
			continue
		}
		if v != b.body[k] {
			t.Fatalf("%s: %v / %v", k, v, b.body[k])
		}
	}
}
