package portal

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/testenv"
)

// smsRefusals counts what the portal reports to casegate.Metrics.SMSRefused.
type smsRefusals struct {
	casegate.NopMetrics
	mu      sync.Mutex
	reasons map[string]int
	budget  map[string][2]int // share → the last spent and size reported
}

func (m *smsRefusals) SMSRefused(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reasons == nil {
		m.reasons = map[string]int{}
	}
	m.reasons[reason]++
}

func (m *smsRefusals) SMSBudget(share string, spent, size int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.budget == nil {
		m.budget = map[string][2]int{}
	}
	m.budget[share] = [2]int{spent, size}
}

func (m *smsRefusals) count(reason string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reasons[reason]
}

// pumpingRig is a portal over a fresh SQLite file with a clock the test
// moves, and people on file whose codes go by text.
type pumpingRig struct {
	t       *testing.T
	p       *Portal
	st      casegate.Store
	keys    *accesscode.Keyring
	now     time.Time
	metrics *smsRefusals
	logs    bytes.Buffer // the portal's log; only the test's goroutine writes it
	ip      int
	seen    int64 // the last delivery outbox returned
}

func newPumpingRig(t *testing.T, sms SMSLimits, people ...string) *pumpingRig {
	t.Helper()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	r := &pumpingRig{t: t, st: st, keys: keys, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), metrics: &smsRefusals{}}
	r.setLimits(sms)
	var lines []string
	for i, contact := range people {
		lines = append(lines, fmt.Sprintf(`{"receipt_number":"IOE%010d","form_type":"I-485","office":"NBC","received_on":"2025-03-14",`+
			`"history":[{"status":"received","at":"2025-03-14T10:00:00Z"}],"parties":[{"role":"applicant","given_name":"Ana","family_name":"P%d",`+
			`"date_of_birth":"1990-04-02","country_of_birth":"MX",%s}]}`, i, i, contact))
	}
	res, err := (&Importer{Store: st, Keys: r.keys}).Import(t.Context(), strings.NewReader(strings.Join(lines, "\n")), "jsonl", "test", nil)
	if err != nil || len(res.Rejected) != 0 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	return r
}

// setLimits replaces the portal with one using sms, on the same store.
func (r *pumpingRig) setLimits(sms SMSLimits) {
	r.t.Helper()
	l := DefaultLimits()
	l.SMS = sms
	p, err := New(Deps{Store: r.st, Keys: r.keys, Limits: l, Now: func() time.Time { return r.now }, Metrics: r.metrics,
		Logger: slog.New(slog.NewTextHandler(&r.logs, nil))})
	if err != nil {
		r.t.Fatal(err)
	}
	r.p = p
}

// request asks for a code by text for person i, from a fresh client IP, and
// checks the answer is the uniform one.
func (r *pumpingRig) request(i int) CodeIssued {
	r.t.Helper()
	r.ip++
	issued, err := r.p.RequestCode(context.Background(), CodeRequest{
		ReceiptNumber: fmt.Sprintf("IOE%010d", i), GivenName: "Ana", FamilyName: fmt.Sprintf("P%d", i),
		DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: "sms", Language: "es",
		ClientIP: fmt.Sprintf("192.0.2.%d", r.ip),
	})
	if err != nil || issued.RequestID == "" || !issued.ExpiresAt.Equal(r.now.Add(10*time.Minute)) {
		r.t.Fatalf("request %d: %+v, %v; want the uniform answer", i, issued, err)
	}
	return issued
}

// outbox returns the deliveries queued since it was last called.
func (r *pumpingRig) outbox() []casegate.Delivery {
	r.t.Helper()
	var all []casegate.Delivery
	err := r.st.View(context.Background(), func(tx casegate.Tx) error {
		var err error
		all, err = tx.Deliveries(context.Background(), casegate.DeliveryPending, 1000)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b casegate.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	var fresh []casegate.Delivery
	for _, d := range all {
		if d.ID > r.seen {
			fresh = append(fresh, d)
			r.seen = d.ID
		}
	}
	return fresh
}

// wantQueued checks the outbox holds exactly the given "channel to" pairs,
// in any order.
func (r *pumpingRig) wantQueued(what string, want ...string) {
	r.t.Helper()
	var got []string
	for _, d := range r.outbox() {
		got = append(got, string(d.Channel)+" "+d.Destination)
	}
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		r.t.Errorf("%s: queued [%s], want [%s]", what, strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// refusals returns the sms.refused audit events as "outcome country fallback template".
func (r *pumpingRig) refusals() []string {
	r.t.Helper()
	events, err := r.p.AuditEvents(context.Background(), 0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.Action == "sms.refused" {
			out = append(out, strings.Join([]string{e.Outcome, e.Details["country"], e.Details["fallback"], e.Details["template"]}, " "))
			for _, v := range e.Details {
				if strings.Contains(v, "555") {
					r.t.Errorf("the audit event shows the number: %v", e.Details)
				}
			}
		}
	}
	return out
}

func TestSMSCountryAllowList(t *testing.T) {
	limits := DefaultSMSLimits()
	limits.Countries = []string{"US"}
	r := newPumpingRig(t, limits,
		`"phone":"+12015550101"`,
		`"phone":"+525512345678","email":"ana1@example.com"`,
		`"phone":"+525512345679"`,
	)
	r.request(0)
	r.request(1)
	r.request(2)
	// A US number gets its text; a Mexican one with an email gets the code by
	// email; one without an email gets nothing, and the requester cannot tell.
	r.wantQueued("US only", "sms +12015550101", "email ana1@example.com")
	if got := r.refusals(); strings.Join(got, "; ") != "country MX email access_code; country MX none access_code" {
		t.Errorf("audit: %q", got)
	}
	if r.metrics.count(SMSRefusedCountry) != 2 {
		t.Errorf("metric counted %d country refusals, want 2", r.metrics.count(SMSRefusedCountry))
	}

	// Recovery is the operator's: allow Mexico, and texts go there too.
	limits.Countries = []string{"US", "MX"}
	r.setLimits(limits)
	r.now = r.now.Add(time.Hour)
	r.request(1)
	r.request(2)
	r.wantQueued("US and MX", "sms +525512345678", "sms +525512345679")

	limits.Countries = []string{AnyCountry}
	r.setLimits(limits)
	r.now = r.now.Add(time.Hour)
	r.request(2)
	r.wantQueued("any country", "sms +525512345679")
}

func TestSMSPrefixLimit(t *testing.T) {
	limits := DefaultSMSLimits()
	limits.PerPrefix = Rate{2, time.Hour} // one more every 30 minutes
	r := newPumpingRig(t, limits,
		`"phone":"+12015550101"`, `"phone":"+12015550102"`, `"phone":"+12015550103"`, // one area code
		`"phone":"+12125550104"`, // another
	)
	r.request(0)
	r.request(1)
	r.request(2)
	r.request(3)
	r.wantQueued("burst", "sms +12015550101", "sms +12015550102", "sms +12125550104")
	if got := r.refusals(); strings.Join(got, "; ") != "prefix_limit US none access_code" {
		t.Errorf("audit: %q", got)
	}
	if r.metrics.count(SMSRefusedPrefix) != 1 {
		t.Errorf("metric counted %d prefix refusals", r.metrics.count(SMSRefusedPrefix))
	}
	r.now = r.now.Add(29 * time.Minute)
	r.request(2)
	r.wantQueued("before the interval")
	r.now = r.now.Add(time.Minute)
	r.request(2)
	r.wantQueued("after the interval", "sms +12015550103")

	// With no national digits the prefix is the calling code: both area
	// codes share one limit.
	limits.PrefixDigits = 0
	r.setLimits(limits)
	r.now = r.now.Add(time.Hour)
	r.request(0)
	r.request(3)
	r.request(1)
	r.wantQueued("calling code only", "sms +12015550101", "sms +12125550104")
}

func TestSMSDailyBudget(t *testing.T) {
	limits := DefaultSMSLimits()
	limits.DailyBudget = 4
	// Two first codes a day, one more code, one notice; no contact changes by text.
	limits.Shares = BudgetShares{FirstCode: 50, Code: 25, Notice: 25}
	r := newPumpingRig(t, limits,
		`"phone":"+12015550101"`, `"phone":"+12125550102"`, `"phone":"+13055550103"`,
		`"phone":"+14155550104","email":"ana3@example.com"`,
		`"phone":"+16175550105"`,
	)
	for i := range 5 {
		r.request(i)
	}
	// Two first codes from the reserve, the third from the share of other
	// codes once the reserve is spent; then both are spent.
	r.wantQueued("budget spent", "sms +12015550101", "sms +12125550102", "sms +13055550103", "email ana3@example.com")
	if got := r.refusals(); strings.Join(got, "; ") != "daily_budget US email access_code; daily_budget US none access_code" {
		t.Errorf("audit: %q", got)
	}
	if r.metrics.count(SMSRefusedDailyBudget) != 2 {
		t.Errorf("metric counted %d budget refusals", r.metrics.count(SMSRefusedDailyBudget))
	}
	// A decoy by text spends nothing.
	r.ip++
	if _, err := r.p.RequestCode(context.Background(), CodeRequest{ReceiptNumber: "IOE0000000004", GivenName: "Nobody", FamilyName: "Here",
		DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: "sms", ClientIP: "198.51.100.1"}); err != nil {
		t.Fatal(err)
	}
	// The reserve refills one first code every 12 hours; a second code the
	// same day draws on the share of other codes, still spent.
	r.now = r.now.Add(12 * time.Hour)
	r.request(4)
	r.request(4)
	r.wantQueued("after 12 hours", "sms +16175550105")
}

func TestSMSLimitsOnContactChangeAndNotices(t *testing.T) {
	limits := DefaultSMSLimits()
	limits.Countries = []string{"US"}
	limits.DailyBudget = 10
	limits.Shares = BudgetShares{FirstCode: 60, Code: 10, Contact: 10, Notice: 20} // 1 contact change, 2 notices a day
	r := newPumpingRig(t, limits, `"email":"ana0@example.com","phone":"+12015550101"`, `"phone":"+12025550102"`)
	ctx := context.Background()
	s := casegate.Session{PartyID: 1, CreatedAt: r.now}

	// A new number abroad is refused plainly: the person is signed in.
	_, err := r.p.StartContactChange(ctx, s, "", "+52 55 1234 5678", "", "192.0.2.1")
	if e, ok := err.(*casegate.Error); !ok || e.Code != casegate.EInvalid || e.Fields["phone"].Key == "" {
		t.Fatalf("a number abroad: %v, want a field error", err)
	}
	r.wantQueued("no code abroad")

	// Subscribed by text and email: a status update spends the notices'
	// share, and when it is spent the text is dropped, not repeated by email.
	if _, err := r.p.SetSubscription(ctx, s, "IOE0000000000", true, true); err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{"biometrics_scheduled", "interview_scheduled"} {
		if _, _, err := r.p.PostStatusEvent(ctx, "IOE0000000000", StatusEventInput{Status: status}, "admin:test"); err != nil {
			t.Fatal(err)
		}
	}
	r.wantQueued("notices", "email ana0@example.com", "sms +12015550101", "email ana0@example.com", "sms +12015550101")
	if _, _, err := r.p.PostStatusEvent(ctx, "IOE0000000000", StatusEventInput{Status: "approved"}, "admin:test"); err != nil {
		t.Fatal(err)
	}
	r.wantQueued("budget spent", "email ana0@example.com")

	// The notices did not spend the contact changes' share.
	r.now = r.now.Add(time.Minute)
	s.CreatedAt = r.now
	if _, err := r.p.StartContactChange(ctx, s, "", "+1 201 555 0199", "", "192.0.2.1"); err != nil {
		t.Fatalf("a new number with the notices' share spent: %v", err)
	}
	r.wantQueued("code to the new number", "sms +12015550199")
	// With that share spent, the next new number is refused as rate limited.
	r.now = r.now.Add(time.Minute)
	s.CreatedAt = r.now
	_, err = r.p.StartContactChange(ctx, s, "", "+1 201 555 0198", "", "192.0.2.1")
	if e, ok := err.(*casegate.Error); !ok || e.Code != casegate.ERateLimited || e.RetryAfter <= 0 {
		t.Fatalf("share spent: %v, want rate_limited with a wait", err)
	}
	r.wantQueued("no code while spent")
	r.now = r.now.Add(24 * time.Hour)
	s.CreatedAt = r.now
	if _, err := r.p.StartContactChange(ctx, s, "", "+1 201 555 0198", "", "192.0.2.1"); err != nil {
		t.Fatalf("after the share refilled: %v", err)
	}
	r.wantQueued("code to the next number", "sms +12015550198")
	want := "country MX none contact_code; daily_budget US none status_update; daily_budget US none contact_code"
	if got := r.refusals(); strings.Join(got, "; ") != want {
		t.Errorf("audit: %q, want %q", got, want)
	}
}

func TestSMSLimitsValidate(t *testing.T) {
	good := []SMSLimits{DefaultSMSLimits(), {Countries: []string{AnyCountry}, PerPrefix: Rate{1, time.Second}, PerDestination: Rate{1, time.Second},
		ContactPerPerson: Rate{1, time.Second}, DailyBudget: 1, Shares: BudgetShares{FirstCode: 100}}}
	for _, l := range good {
		if err := l.validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
	for i, f := range []func(*SMSLimits){
		func(l *SMSLimits) { l.Countries = nil },
		func(l *SMSLimits) { l.Countries = []string{"us"} },
		func(l *SMSLimits) { l.Countries = []string{"XX"} },
		func(l *SMSLimits) { l.Countries = []string{"US", AnyCountry} },
		func(l *SMSLimits) { l.PrefixDigits = -1 },
		func(l *SMSLimits) { l.PrefixDigits = 9 },
		func(l *SMSLimits) { l.PerPrefix = Rate{0, time.Hour} },
		func(l *SMSLimits) { l.DailyBudget = 0 },
		func(l *SMSLimits) { l.PerDestination = Rate{1, 0} },
		func(l *SMSLimits) { l.ContactPerPerson = Rate{0, time.Hour} },
		func(l *SMSLimits) { l.Shares = BudgetShares{} },
		func(l *SMSLimits) { l.Shares.Notice++ },
		func(l *SMSLimits) { l.Shares = BudgetShares{FirstCode: 110, Code: -10} },
		func(l *SMSLimits) { l.Shares = BudgetShares{Code: 50, Notice: 50} }, // no reserve
	} {
		l := DefaultSMSLimits()
		f(&l)
		if l.validate() == nil {
			t.Errorf("case %d: accepted %+v", i, l)
		}
		full := DefaultLimits()
		full.SMS = l
		if full.Validate() == nil {
			t.Errorf("case %d: Limits.Validate accepted %+v", i, l)
		}
	}
}
