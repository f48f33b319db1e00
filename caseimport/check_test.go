package caseimport

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// reason is the message an operator is shown for err.
func reason(err error) string {
	if e, ok := casegate.AsError(err); ok {
		return e.Message
	}
	return err.Error()
}

// checkCanonical fails when an accepted case holds a value that is not in
// canonical form.
func checkCanonical(t *testing.T, pc Case) {
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

func TestPartyField(t *testing.T) {
	for _, tc := range []struct {
		i     int
		field string
		want  string
	}{
		{0, "phone", "parties[0].phone"},
		{15, "email", "parties[15].email"}, // the last of the prefixes made once
		{16, "email", "parties[16].email"},
		{1000, "role", "parties[1000].role"},
	} {
		if got := PartyField(tc.i, tc.field); got != tc.want {
			t.Errorf("PartyField(%d, %q) = %q, want %q", tc.i, tc.field, got, tc.want)
		}
	}
}
