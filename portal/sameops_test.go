package portal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store"
)

// The people of the same-operations tests, one case each; receipt numbers
// IOE000000000N with N their index.
var sameOpsPeople = []string{
	`"email":"ana@example.com"`,                           // 0: email only
	`"phone":"+12015550101"`,                              // 1: phone only
	`"email":"locked@example.com","phone":"+12015550102"`, // 2: locked
	`"phone":"+12015550103"`,                              // 3: no contact where texts cannot be sent
	`"email":"limit@example.com"`,                         // 4: had her one code of the day
	`"email":"both@example.com","phone":"+12015550105"`,   // 5: both
}

// sameOpsRig is a portal over a fresh SQLite file with a clock the test moves.
type sameOpsRig struct {
	t   *testing.T
	p   *Portal
	st  casegate.Store
	now time.Time
	ip  int
}

// newSameOpsRig makes the rig; a person gets codesPerDay codes a day.
func newSameOpsRig(t *testing.T, codesPerDay int) *sameOpsRig {
	t.Helper()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	r := &sameOpsRig{t: t, st: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	var lines []string
	for i, contact := range sameOpsPeople {
		if contact != "" {
			contact = "," + contact
		}
		lines = append(lines, fmt.Sprintf(`{"receipt_number":"IOE%010d","form_type":"I-485","office":"NBC","received_on":"2025-03-14",`+
			`"parties":[{"role":"applicant","given_name":"Ana","family_name":"P%d","date_of_birth":"1990-04-02","country_of_birth":"MX"%s}]}`, i, i, contact))
	}
	// Two parties with one identity on one case.
	lines = append(lines, `{"receipt_number":"IOE0000000099","form_type":"I-485","office":"NBC","received_on":"2025-03-14","parties":[`+
		`{"role":"applicant","given_name":"Ana","family_name":"P99","date_of_birth":"1990-04-02","country_of_birth":"MX","email":"a@example.com","a_number":"A123456788"},`+
		`{"role":"beneficiary","given_name":"Ana","family_name":"P99","date_of_birth":"1990-04-02","country_of_birth":"MX","email":"b@example.com","a_number":"A123456789"}]}`)
	if res, err := (&Importer{Store: st, Keys: keys}).Import(t.Context(), strings.NewReader(strings.Join(lines, "\n")), "jsonl", "test", nil); err != nil || len(res.Rejected) != 0 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	l := DefaultLimits()
	l.CodesPerParty = Rate{N: codesPerDay, Per: 24 * time.Hour}
	l.RequestsPerIdentifier = Rate{N: 100, Per: 10 * time.Minute}
	p, err := New(Deps{Store: st, Keys: keys, Limits: l, Now: func() time.Time { return r.now }})
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	// Person 2 locked; person 4 past her codes of the day.
	r.lock(2)
	for range codesPerDay {
		r.request(4, "email")
	}
	return r
}

// lock locks person i for an hour.
func (r *sameOpsRig) lock(i int) {
	r.t.Helper()
	err := r.st.Update(context.Background(), func(tx casegate.Tx) error {
		ps, err := tx.PartiesByReceipt(context.Background(), fmt.Sprintf("IOE%010d", i))
		if err != nil {
			return err
		}
		ps[0].LockedUntil = r.now.Add(time.Hour)
		return tx.UpdateParty(context.Background(), ps[0])
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// codeRequest is a request for person i's code by channel.
func (r *sameOpsRig) codeRequest(i int, channel string) CodeRequest {
	r.ip++
	return CodeRequest{
		ReceiptNumber: fmt.Sprintf("IOE%010d", i), GivenName: "Ana", FamilyName: fmt.Sprintf("P%d", i),
		DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: channel, Language: "en",
		ClientIP: fmt.Sprintf("192.0.2.%d", r.ip),
	}
}

// request asks for person i's code and returns the request id.
func (r *sameOpsRig) request(i int, channel string) string {
	r.t.Helper()
	issued, err := r.p.RequestCode(context.Background(), r.codeRequest(i, channel))
	if err != nil {
		r.t.Fatalf("request %d: %v", i, err)
	}
	return issued.RequestID
}

// lastOutcome is the outcome of the last audit event.
func (r *sameOpsRig) lastOutcome() string {
	r.t.Helper()
	es, err := r.p.AuditEvents(context.Background(), 0, 1000)
	if err != nil || len(es) == 0 {
		r.t.Fatalf("audit events: %v", err)
	}
	return es[len(es)-1].Outcome
}

// traced runs fn and returns the statements the store ran for it.
func traced(fn func(ctx context.Context)) []string {
	var ops []string
	fn(store.WithStatementTrace(context.Background(), func(q string) { ops = append(ops, strings.Join(strings.Fields(q), " ")) }))
	return ops
}

// sameOps fails t unless got is want, naming the first difference.
func sameOps(t *testing.T, what string, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s: statement %d of %d differs from the decoy's (%d):\n  got  %.160s\n  want %.160s", what, i+1, len(got), len(want), g, w)
			return
		}
	}
	if len(want) == 0 {
		t.Errorf("%s: no statements traced", what)
	}
}

func TestRequestOutcomesRunTheSameStatements(t *testing.T) {
	var r *sameOpsRig
	for _, channel := range []string{"email", "sms"} {
		r = newSameOpsRig(t, 1) // each person's one code of the day still to come
		decoy := traced(func(ctx context.Context) {
			if _, err := r.p.RequestCode(ctx, r.codeRequest(77, channel)); err != nil { // no such case
				t.Fatal(err)
			}
		})
		for _, c := range []struct {
			name    string
			person  int
			outcome string
		}{
			{"matched, email on file", 0, "issued"},
			{"matched, phone on file", 1, "issued"},
			{"matched, both on file", 5, "issued"},
			{"locked", 2, "locked"},
			{"past the daily code limit", 4, "party_limit"},
			{"two parties with one identity", 99, "ambiguous"},
		} {
			got := traced(func(ctx context.Context) {
				if _, err := r.p.RequestCode(ctx, r.codeRequest(c.person, channel)); err != nil {
					t.Fatal(err)
				}
			})
			if o := r.lastOutcome(); o != c.outcome {
				t.Fatalf("%s by %s: audited as %q, want %q", c.name, channel, o, c.outcome)
			}
			sameOps(t, c.name+" by "+channel, got, decoy)
		}
	}
	// Where only email can be sent, a person with only a phone on file gets
	// no code, with the statements of a decoy.
	r = newSameOpsRig(t, 1)
	emailOnly, err := New(Deps{Store: r.st, Keys: r.p.keys, Limits: r.p.limits, Now: r.p.now, Channels: []casegate.Channel{casegate.ChannelEmail}})
	if err != nil {
		t.Fatal(err)
	}
	decoy := traced(func(ctx context.Context) {
		if _, err := emailOnly.RequestCode(ctx, r.codeRequest(77, "sms")); err != nil {
			t.Fatal(err)
		}
	})
	for _, person := range []int{0, 3} {
		got := traced(func(ctx context.Context) {
			if _, err := emailOnly.RequestCode(ctx, r.codeRequest(person, "sms")); err != nil {
				t.Fatal(err)
			}
		})
		if o, want := r.lastOutcome(), map[int]string{0: "issued", 3: "no_contact"}[person]; o != want {
			t.Fatalf("person %d where only email can be sent: audited as %q, want %q", person, o, want)
		}
		sameOps(t, fmt.Sprintf("person %d where only email can be sent", person), got, decoy)
	}
}

func TestResendRunsTheSameStatements(t *testing.T) {
	r := newSameOpsRig(t, 10)
	for _, channel := range []string{"email", "sms"} {
		ids := map[string]string{
			"decoy": r.request(77, channel), "email on file": r.request(0, channel),
			"phone on file": r.request(1, channel), "both on file": r.request(5, channel),
		}
		r.now = r.now.Add(time.Minute) // past the first cooldown
		var decoy []string
		for _, name := range []string{"decoy", "email on file", "phone on file", "both on file"} {
			got := traced(func(ctx context.Context) {
				if _, err := r.p.Resend(ctx, ids[name], "198.51.100.7"); err != nil {
					t.Fatalf("resend %s: %v", name, err)
				}
			})
			if o := r.lastOutcome(); o != "resent" {
				t.Fatalf("resend %s by %s: audited as %q, want resent", name, channel, o)
			}
			if name == "decoy" {
				decoy = got
				continue
			}
			sameOps(t, "resend to "+name+" by "+channel, got, decoy)
		}
		r.now = r.now.Add(24 * time.Hour) // a new day of codes per person
	}
}

func TestWrongCodeRunsTheSameStatements(t *testing.T) {
	r := newSameOpsRig(t, 10)
	ids := map[string]string{"decoy": r.request(77, "email"), "real": r.request(0, "email"), "both": r.request(5, "sms")}
	wrong, err := accesscode.Generate(accesscode.DefaultLength)
	if err != nil {
		t.Fatal(err)
	}
	var decoy []string
	for _, name := range []string{"decoy", "real", "both"} {
		got := traced(func(ctx context.Context) {
			_, err := r.p.Redeem(ctx, ids[name], wrong, "198.51.100.8")
			if casegate.ErrorCodeOf(err) != casegate.ECodeIncorrect {
				t.Fatalf("redeem %s with a wrong code: %v, want %s", name, err, casegate.ECodeIncorrect)
			}
		})
		if name == "decoy" {
			decoy = got
			continue
		}
		sameOps(t, "a wrong code on a "+name+" challenge", got, decoy)
	}
	// The locked person's challenge, asked for before the lock, answers a
	// wrong code like a decoy, with the same statements.
	id := r.request(5, "email")
	r.lock(5)
	got := traced(func(ctx context.Context) {
		if _, err := r.p.Redeem(ctx, id, wrong, "198.51.100.8"); casegate.ErrorCodeOf(err) != casegate.ECodeIncorrect {
			t.Fatalf("redeem for a locked person: %v", err)
		}
	})
	sameOps(t, "a wrong code for a locked person", got, decoy)
}
