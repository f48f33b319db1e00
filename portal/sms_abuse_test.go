package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// The SMS abuse points of the outside security review: texts to numbers
// that cannot receive them (premium-rate, toll-free, …), texts to one number
// from many parties, contact changes in bulk, and a daily budget an attacker
// could spend for everyone.

// session is a fresh sign-in of party id at the rig's now.
func (r *pumpingRig) session(id int64) casegate.Session {
	return casegate.Session{PartyID: id, CreatedAt: r.now}
}

// setPhone stores phone for party id directly, as a number stored before
// the rules on number types were would be.
func (r *pumpingRig) setPhone(id int64, phone string) {
	r.t.Helper()
	err := r.st.Update(context.Background(), func(tx casegate.Tx) error {
		p, err := tx.Party(context.Background(), id)
		if err != nil {
			return err
		}
		p.Phone = phone
		return tx.UpdateParty(context.Background(), p)
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// phoneOf reads the phone on file of the party on case i.
func (r *pumpingRig) phoneOf(receipt string) string {
	r.t.Helper()
	var phone string
	err := r.st.View(context.Background(), func(tx casegate.Tx) error {
		ps, err := tx.PartiesByReceipt(context.Background(), receipt)
		if err != nil || len(ps) != 1 {
			return fmt.Errorf("parties of %s: %d, %v", receipt, len(ps), err)
		}
		phone = ps[0].Phone
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return phone
}

// notTextable are numbers of every kind that cannot receive a text, as
// libphonenumber classifies them.
var notTextable = []struct{ kind, number string }{
	{"premium rate", "+19005550123"},
	{"toll free", "+18005550123"},
	{"toll free", "+1 888 555 0123"},
	{"landline", "+44 20 7946 0958"},
	{"VoIP", "+33 9 12 34 56 78"},
	{"shared cost", "+34 901 12 34 56"},
	{"UAN", "+44 55 1234 5678"},
	{"personal number", "+44 70 1123 4567"},
	{"pager", "+44 76 4012 3456"},
	{"voicemail", "+49 177 99 1234567"},
	{"no known range", "+1 555 555 0199"},
}

func TestContactChangeRefusesNumbersThatCannotReceiveTexts(t *testing.T) {
	r := newPumpingRig(t, DefaultSMSLimits(), `"email":"ana0@example.com","phone":"+12015550101"`)
	ctx := context.Background()
	for _, c := range notTextable {
		r.now = r.now.Add(3 * time.Minute)
		_, err := r.p.StartContactChange(ctx, r.session(1), "", c.number, "", "192.0.2.1")
		if e, ok := err.(*casegate.Error); !ok || e.Code != casegate.EInvalid || e.Fields["phone"].Key == "" {
			t.Errorf("%s %s: %v, want a field error on phone", c.kind, c.number, err)
		}
		r.wantQueued(c.kind + " " + c.number)
	}
	// A mobile number, and one the North American plan cannot tell from a
	// landline, get their code.
	for _, c := range []struct{ typed, e164 string }{{"+44 7911 123456", "+447911123456"}, {"+1 201 555 0199", "+12015550199"}} {
		r.now = r.now.Add(3 * time.Minute)
		if _, err := r.p.StartContactChange(ctx, r.session(1), "", c.typed, "", "192.0.2.1"); err != nil {
			t.Errorf("%s: %v", c.typed, err)
		}
		r.wantQueued(c.typed, "sms "+c.e164)
	}
}

func TestStoredNumberThatCannotReceiveTextsIsNeverTexted(t *testing.T) {
	r := newPumpingRig(t, DefaultSMSLimits(),
		`"email":"ana0@example.com","phone":"+12015550100"`,
		`"phone":"+12015550101"`,
	)
	// Numbers stored before the rule.
	r.setPhone(1, "+19005550123")
	r.setPhone(2, "+18005550123")
	r.request(0)
	r.request(1)
	// The code goes by email where there is one, and nowhere else otherwise.
	r.wantQueued("codes", "email ana0@example.com")
	if got, want := strings.Join(r.refusals(), "; "), "number_type US email access_code; number_type US none access_code"; got != want {
		t.Errorf("audit: %q, want %q", got, want)
	}
	// A status update by text is dropped; the email copy goes.
	ctx := context.Background()
	if _, err := r.p.SetSubscription(ctx, r.session(1), "IOE0000000000", true, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.p.PostStatusEvent(ctx, "IOE0000000000", StatusEventInput{Status: "biometrics_scheduled"}, "admin:test"); err != nil {
		t.Fatal(err)
	}
	r.wantQueued("status update", "email ana0@example.com")
}

func TestImportKeepsTheCaseButNotAPhoneThatCannotReceiveTexts(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			r := newPumpingRig(t, DefaultSMSLimits())
			people := []string{
				`"email":"ana0@example.com","phone":"+1 900 555 0123"`,
				`"phone":"+18005550123"`,
				`"phone":"+12015550123"`,
			}
			var body string
			if format == "jsonl" {
				var lines []string
				for i, contact := range people {
					lines = append(lines, fmt.Sprintf(`{"receipt_number":"IOE%010d","form_type":"I-485","office":"NBC","received_on":"2025-03-14",`+
						`"parties":[{"role":"applicant","given_name":"Ana","family_name":"P%d","date_of_birth":"1990-04-02","country_of_birth":"MX",%s}]}`, i, i, contact))
				}
				body = strings.Join(lines, "\n")
			} else {
				body = "receipt_number,form_type,office,received_on,role,given_name,family_name,date_of_birth,country_of_birth,email,phone\n" +
					"IOE0000000000,I-485,NBC,2025-03-14,applicant,Ana,P0,1990-04-02,MX,ana0@example.com,+1 900 555 0123\n" +
					"IOE0000000001,I-485,NBC,2025-03-14,applicant,Ana,P1,1990-04-02,MX,,+18005550123\n" +
					"IOE0000000002,I-485,NBC,2025-03-14,applicant,Ana,P2,1990-04-02,MX,,+12015550123\n"
			}
			res, err := (&Importer{Store: r.st, Keys: r.keys}).Import(context.Background(), strings.NewReader(body), format, "test", nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Created != 3 || len(res.Rejected) != 0 {
				t.Fatalf("import: %+v; want every case loaded", res)
			}
			for receipt, want := range map[string]string{"IOE0000000000": "", "IOE0000000001": "", "IOE0000000002": "+12015550123"} {
				if got := r.phoneOf(receipt); got != want {
					t.Errorf("%s: phone on file %q, want %q", receipt, got, want)
				}
			}
			// The operator is told on which line, and why.
			js, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			var told struct {
				Warnings []struct {
					Line    int    `json:"line"`
					Warning string `json:"warning"`
				} `json:"warnings"`
			}
			if err := json.Unmarshal(js, &told); err != nil {
				t.Fatal(err)
			}
			first := 1
			if format == "csv" {
				first = 2 // after the header
			}
			if len(told.Warnings) != 2 || told.Warnings[0].Line != first || told.Warnings[1].Line != first+1 ||
				!strings.Contains(told.Warnings[0].Warning, "phone") || !strings.Contains(told.Warnings[0].Warning, "premium-rate") ||
				!strings.Contains(told.Warnings[1].Warning, "toll-free") || strings.Contains(string(js), "555") {
				t.Errorf("warnings: %s", js)
			}
		})
	}
}

func TestSMSDestinationLimitAcrossParties(t *testing.T) {
	// Two people on two cases share one phone.
	r := newPumpingRig(t, DefaultSMSLimits(), `"phone":"+12015550101"`, `"phone":"+12015550101","email":"ana1@example.com"`)
	var want []string
	for i := range 6 {
		r.now = r.now.Add(3 * time.Minute)
		if i < 5 {
			r.request(0)
			want = append(want, "sms +12015550101")
		}
		r.request(1)
		want = append(want, "sms +12015550101")
	}
	// The eleventh text to the number in a day goes by email instead.
	want[len(want)-1] = "email ana1@example.com"
	r.wantQueued("one number, two people", want...)
	if got := strings.Join(r.refusals(), "; "); got != "destination_limit US email access_code" {
		t.Errorf("audit: %q", got)
	}
	if r.metrics.count("destination_limit") != 1 {
		t.Errorf("metric counted %d destination refusals", r.metrics.count("destination_limit"))
	}
	// The allowance refills through the day: one more after 2.4 hours.
	r.now = r.now.Add(2*time.Hour + 24*time.Minute)
	r.request(0)
	r.request(1)
	r.wantQueued("after 2.4 hours", "sms +12015550101", "email ana1@example.com")
}

func TestContactChangeTextsPerPersonPerDay(t *testing.T) {
	r := newPumpingRig(t, DefaultSMSLimits(), `"email":"ana0@example.com","phone":"+12015550101"`)
	ctx := context.Background()
	start := r.now
	for i := range 3 {
		r.now = start.Add(time.Duration(i) * time.Hour)
		number := fmt.Sprintf("+1201555015%d", i)
		if _, err := r.p.StartContactChange(ctx, r.session(1), "", number, "", "192.0.2.1"); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		r.wantQueued(number, "sms "+number)
	}
	// The fourth new number of the day is refused, plainly: the person is signed in.
	r.now = start.Add(3 * time.Hour)
	_, err := r.p.StartContactChange(ctx, r.session(1), "", "+12015550159", "", "192.0.2.1")
	e, ok := err.(*casegate.Error)
	if !ok || e.Code != casegate.ERateLimited || e.RetryAfter != 5*time.Hour {
		t.Fatalf("a fourth number: %v, want rate_limited for 5h", err)
	}
	r.wantQueued("the fourth number")
	// Changing the email is not a text, and is not held back.
	if _, err := r.p.StartContactChange(ctx, r.session(1), "ana.new@example.com", "", "", "192.0.2.1"); err != nil {
		t.Fatalf("an email change: %v", err)
	}
	r.wantQueued("an email change", "email ana.new@example.com")
	r.now = start.Add(8 * time.Hour)
	if _, err := r.p.StartContactChange(ctx, r.session(1), "", "+12015550159", "", "192.0.2.1"); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	r.wantQueued("after the wait", "sms +12015550159")
}

// TestSMSBudgetCannotBeStarvedByAnAttacker is the review's scenario: with a
// budget of 10 texts a day, an attacker who can pass for two people (their
// own case and a victim's) does everything that sends a text — codes,
// wrong codes until a lock notice goes out, contact changes — and then five
// people who can be reached only by text, and who had no code today, ask
// for theirs.
func TestSMSBudgetCannotBeStarvedByAnAttacker(t *testing.T) {
	limits := DefaultSMSLimits()
	limits.DailyBudget = 10
	people := []string{
		`"phone":"+12015550100"`,                            // 0: the attacker's own case, phone only
		`"phone":"+12015550177","email":"ana1@example.com"`, // 1: a victim the attacker can pass for
	}
	for i := range 5 {
		people = append(people, fmt.Sprintf(`"phone":"+1201555020%d"`, i)) // 2–6: phone only
	}
	for i := range 5 {
		people = append(people, fmt.Sprintf(`"phone":"+1201555021%d","email":"ana%d@example.com"`, i, 7+i)) // 7–11
	}
	r := newPumpingRig(t, limits, people...)
	ctx := context.Background()

	// The attack, over an hour: every code the per-person limits allow for
	// both identities, ten wrong codes on the attacker's own, three contact
	// changes.
	var own []CodeIssued
	for range 10 {
		r.now = r.now.Add(3 * time.Minute)
		own = append(own, r.request(0))
		r.request(1)
	}
	for i := range 10 {
		wrong, err := accesscode.Generate(accesscode.DefaultLength)
		if err != nil {
			t.Fatal(err)
		}
		id := own[len(own)-1-i/5].RequestID
		if _, err := r.p.Redeem(ctx, id, wrong, fmt.Sprintf("198.51.100.%d", i)); err == nil {
			t.Fatal("a random code signed in")
		}
	}
	for i := range 3 {
		r.now = r.now.Add(3 * time.Minute)
		r.p.StartContactChange(ctx, r.session(1), "", fmt.Sprintf("+1201555030%d", i), "", "192.0.2.1") // refused or not
	}
	texts, byTemplate := 0, map[string]int{}
	for _, d := range r.outbox() {
		if d.Channel == casegate.ChannelSMS {
			texts++
			byTemplate[d.Template]++
		}
	}
	t.Logf("the attacker had %d texts sent: %v", texts, byTemplate)
	// Two first codes (one per person they pass for), and one text from
	// each other share: the rest of the attack was refused.
	if want := map[string]int{casegate.TemplateAccessCode: 3, casegate.TemplateLockoutNotice: 1, casegate.TemplateContactCode: 1}; fmt.Sprint(byTemplate) != fmt.Sprint(want) {
		t.Errorf("the attacker's texts: %v, want %v", byTemplate, want)
	}

	// Everyone else who had no code today.
	r.now = r.now.Add(time.Minute)
	for i := 2; i < 12; i++ {
		r.request(i)
	}
	got := map[string]bool{}
	for _, d := range r.outbox() {
		got[string(d.Channel)+" "+d.Destination] = true
	}
	for i := range 5 {
		if number := fmt.Sprintf("+1201555020%d", i); !got["sms "+number] {
			t.Errorf("%s, reachable only by text, got no code", number)
		}
	}
	// Those who have an email get their code by email once the reserve is spent.
	for i := range 5 {
		if !got[fmt.Sprintf("sms +1201555021%d", i)] && !got[fmt.Sprintf("email ana%d@example.com", 7+i)] {
			t.Errorf("person %d got no code by text or email", 7+i)
		}
	}
	t.Logf("then: %d deliveries for 10 people, %v", len(got), got)
	if texts+5 > limits.DailyBudget {
		t.Errorf("%d texts for the attacker and 5 for the others: over the budget of %d", texts, limits.DailyBudget)
	}
}

// recordingTx records the rate calls made through it, and the values read
// and written.
type recordingTx struct {
	casegate.Tx
	calls       []string
	read, wrote map[string]time.Time
}

func (r *recordingTx) RateTAT(ctx context.Context, key string) (time.Time, error) {
	r.calls = append(r.calls, "RateTAT")
	tat, err := r.Tx.RateTAT(ctx, key)
	r.read[key] = tat
	return tat, err
}

func (r *recordingTx) SetRateTAT(ctx context.Context, key string, tat time.Time) error {
	r.calls = append(r.calls, "SetRateTAT")
	r.wrote[key] = tat
	return r.Tx.SetRateTAT(ctx, key, tat)
}

func (r *recordingTx) DeleteRate(ctx context.Context, key string) error {
	r.calls = append(r.calls, "DeleteRate")
	return r.Tx.DeleteRate(ctx, key)
}

// TestDecoyTextCountsLikeARealOne holds the SMS limits to the rule of
// anti-enumeration: a decoy's code by text reads and writes the same rate
// rows, as many and in the same order, as a real code's, whether the real
// one is admitted or refused (its country, its kind of number, a spent
// budget), and the decoy writes back every row as it read it.
func TestDecoyTextCountsLikeARealOne(t *testing.T) {
	limits := DefaultSMSLimits()
	limits.Countries = []string{"US"}
	limits.DailyBudget = 2
	r := newPumpingRig(t, limits, `"phone":"+12015550101"`)
	ctx := context.Background()
	run := func(what string, f func(tx casegate.Tx) error) *recordingTx {
		t.Helper()
		var rec *recordingTx
		err := r.st.Update(ctx, func(tx casegate.Tx) error {
			rec = &recordingTx{Tx: tx, read: map[string]time.Time{}, wrote: map[string]time.Time{}}
			return f(rec)
		})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return rec
	}
	text := func(dest string) func(tx casegate.Tx) error {
		return func(tx casegate.Tx) error {
			_, err := r.p.admitSMS(ctx, tx, &casegate.Delivery{PartyID: 1, Channel: casegate.ChannelSMS, Destination: dest, Template: casegate.TemplateAccessCode}, r.now)
			return err
		}
	}
	decoy := func() []string {
		t.Helper()
		rec := run("decoy", func(tx casegate.Tx) error { return r.p.shadowSMS(ctx, tx) })
		for key, tat := range rec.wrote {
			if was := rec.read[key]; !tat.Equal(was) && !(was.IsZero() && tat.Equal(time.Unix(0, 0))) {
				t.Errorf("the decoy wrote %v over %v", tat, was)
			}
		}
		return rec.calls
	}

	want := decoy()
	if len(want) == 0 {
		t.Fatal("a decoy's text does no work")
	}
	for _, c := range []struct{ what, dest string }{
		{"admitted", "+12015550101"},
		{"a premium-rate number", "+19005550123"},
		{"a country not allowed", "+525512345678"},
		{"a number that cannot be read", "+1"},
		{"admitted again", "+12015550101"}, // from the share of other codes
		{"the budget spent", "+12015550101"},
	} {
		if got := run(c.what, text(c.dest)).calls; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: %v\ndecoy: %v", c.what, got, want)
		}
		decoy()
	}
}

func TestBudgetShareSizes(t *testing.T) {
	for _, c := range []struct {
		shares BudgetShares
		budget int
		want   map[string]int
	}{
		{DefaultBudgetShares(), 1000, map[string]int{ShareFirstCode: 600, ShareCode: 150, ShareContact: 100, ShareNotice: 150}},
		{DefaultBudgetShares(), 10, map[string]int{ShareFirstCode: 7, ShareCode: 1, ShareContact: 1, ShareNotice: 1}},
		{DefaultBudgetShares(), 1, map[string]int{ShareFirstCode: 1, ShareCode: 1, ShareContact: 1, ShareNotice: 1}}, // at least one each
		{DefaultBudgetShares(), 99, map[string]int{ShareFirstCode: 62, ShareCode: 14, ShareContact: 9, ShareNotice: 14}},
		{BudgetShares{FirstCode: 100}, 10, map[string]int{ShareFirstCode: 10}},
		{BudgetShares{FirstCode: 50, Code: 25, Notice: 25}, 4, map[string]int{ShareFirstCode: 2, ShareCode: 1, ShareNotice: 1}},
	} {
		if got := c.shares.sizes(c.budget); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v of %d: %v, want %v", c.shares, c.budget, got, c.want)
		}
	}
}

// TestSMSBudgetSpendIsToldOncePerMark: operators see each share's spend in
// the gauge at every text, and in the log when it crosses 50, 80 and 100 %
// of the share, once a day however often it goes back and forth.
func TestSMSBudgetSpendIsToldOncePerMark(t *testing.T) {
	limits := DefaultSMSLimits()
	limits.DailyBudget = 10
	limits.Shares = BudgetShares{FirstCode: 100} // 10 first codes, nothing else
	var people []string
	for i := range 21 {
		people = append(people, fmt.Sprintf(`"phone":"+120155502%02d"`, i))
	}
	r := newPumpingRig(t, limits, people...)
	marks := func() []string {
		var out []string
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if strings.Contains(line, "SMS budget share spent past") {
				out = append(out, line[strings.Index(line, "level="):])
			}
		}
		return out
	}
	for i := range 4 {
		r.request(i)
	}
	if got := marks(); len(got) != 0 {
		t.Errorf("4 of 10: %q", got)
	}
	if got := r.metrics.budget[ShareFirstCode]; got != [2]int{4, 10} {
		t.Errorf("gauge: %v, want 4 of 10", got)
	}
	for i := 4; i < 12; i++ {
		r.request(i)
	}
	want := []string{
		`level=INFO msg="SMS budget share spent past 50%" share=first_code percent=50 spent=5 size=10`,
		`level=WARN msg="SMS budget share spent past 80%" share=first_code percent=80 spent=8 size=10`,
		`level=WARN msg="SMS budget share spent past 100%" share=first_code percent=100 spent=10 size=10`,
	}
	if got := marks(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Refilled by three and spent again the same day: no more lines.
	r.now = r.now.Add(3 * 144 * time.Minute)
	for i := 12; i < 16; i++ {
		r.request(i)
	}
	if got := marks(); len(got) != 3 {
		t.Errorf("the same day: %d lines, want still 3", len(got))
	}
	// The next day, a crossing is told again.
	r.now = r.now.Add(24 * time.Hour)
	for i := 16; i < 21; i++ {
		r.request(i)
	}
	if got := marks(); len(got) != 4 || !strings.Contains(got[3], "percent=50") {
		t.Errorf("the next day: %q", got)
	}
	spend, err := r.p.SMSBudgetSpend(context.Background())
	if err != nil || fmt.Sprint(spend) != "[{first_code 5 10} {code 0 0} {contact 0 0} {notice 0 0}]" {
		t.Errorf("spend: %v, %v", spend, err)
	}
	if strings.Contains(r.logs.String(), "555") {
		t.Errorf("the log shows a number:\n%s", r.logs.String())
	}
}

func TestVoIPNumbersOnlyWhereAllowed(t *testing.T) {
	ctx := context.Background()
	voip := DefaultSMSLimits()
	voip.AllowVoIP = true
	for _, allow := range []bool{false, true} {
		limits := DefaultSMSLimits()
		if allow {
			limits = voip
		}
		r := newPumpingRig(t, limits, `"email":"ana0@example.com","phone":"+12015550101"`)
		_, err := r.p.StartContactChange(ctx, r.session(1), "", "+33 9 12 34 56 78", "", "192.0.2.1")
		if e, ok := err.(*casegate.Error); allow && err != nil || !allow && (!ok || e.Fields["phone"].Key != "sms.refused_voip") {
			t.Errorf("allowed %v: a VoIP number: %v", allow, err)
		}
		if allow {
			r.wantQueued("VoIP allowed", "sms +33912345678")
		}
		// Service numbers stay refused.
		r.now = r.now.Add(3 * time.Minute)
		if _, err := r.p.StartContactChange(ctx, r.session(1), "", "+19005550123", "", "192.0.2.1"); err == nil {
			t.Errorf("allowed %v: a premium-rate number was let through", allow)
		}
		// The worker's last look follows the same setting.
		d := casegate.Delivery{Channel: casegate.ChannelSMS, Destination: "+33912345678"}
		if got, want := r.p.RefuseSMS(d), map[bool]string{false: "number_type: voip", true: ""}[allow]; got != want {
			t.Errorf("allowed %v: RefuseSMS = %q, want %q", allow, got, want)
		}
		// And so does the import.
		line := `{"receipt_number":"IOE0000000009","form_type":"I-485","office":"NBC","received_on":"2025-03-14",` +
			`"parties":[{"role":"applicant","given_name":"Ana","family_name":"V","date_of_birth":"1990-04-02","country_of_birth":"FR","phone":"+33912345678"}]}`
		res, err := (&Importer{Store: r.st, Keys: r.keys, AllowVoIP: allow}).Import(ctx, strings.NewReader(line), "jsonl", "test", nil)
		if err != nil || res.Created != 1 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if phone := r.phoneOf("IOE0000000009"); allow != (phone == "+33912345678") ||
			!allow && (len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Warning, "CASEGATE_SMS_ALLOW_VOIP")) {
			t.Errorf("allowed %v: imported phone %q, warnings %+v", allow, phone, res.Warnings)
		}
	}
}
