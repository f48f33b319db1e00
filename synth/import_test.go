package synth_test

import (
	"testing"
	"time"

	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/synth"
)

// TestCasesPassTheImporter checks every generated case against the import's
// own parser, and that the parser keeps the generated values as they are:
// synth writes canonical values.
func TestCasesPassTheImporter(t *testing.T) {
	g := synth.New(synth.Options{Seed: 11, Now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)})
	var buf []byte
	for i := range 20_000 {
		c := g.Case(i)
		buf = synth.AppendJSON(buf[:0], &c)
		pc, err := caseimport.ParseJSONLine(buf)
		if err != nil {
			t.Fatalf("case %d rejected: %v\n%s", i, err, buf)
		}
		if pc.Case.ReceiptNumber != c.ReceiptNumber || pc.Case.FormType != c.FormType ||
			pc.Case.ReceivedOn.Format(time.DateOnly) != c.ReceivedOn || len(pc.Case.History) != len(c.History) {
			t.Fatalf("case %d changed by parsing: %+v", i, pc.Case)
		}
		for k, p := range pc.Parties {
			want := c.Parties[k]
			if p.GivenName != want.GivenName || p.FamilyName != want.FamilyName || p.DateOfBirth != want.DateOfBirth ||
				p.CountryOfBirth != want.CountryOfBirth || p.ANumber != want.ANumber || p.Email != want.Email ||
				p.Phone != want.Phone || p.Language != want.Language || string(p.Role) != want.Role {
				t.Fatalf("case %d party %d changed by parsing:\n got %+v\nwant %+v", i, k, p, want)
			}
		}
	}
}
