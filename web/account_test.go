package web_test

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// ana is the fixture's representative on jose's case.
var ana = map[string]string{"receipt_number": "IOE0912345678", "given_name": "Ana", "family_name": "Smith",
	"date_of_birth": "1975-01-01", "country_of_birth": "United States", "channel": "email"}

func TestContactChangeEndToEnd(t *testing.T) {
	s := newStack(t, relaxed)
	// José signs in in Spanish, which makes Spanish his language on file.
	joseES := maps.Clone(jose)
	joseES["language"] = "es"
	token := s.signIn(joseES, 1)
	resp, body := s.do("POST", "/api/v1/me/contact", map[string]string{"email": "Jose.New@Example.org"}, bearerH(token))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	var change struct {
		ChangeID string `json:"change_id"`
	}
	mustJSON(t, body, &change)
	mail, code := s.waitCode(2)
	// José reads Spanish: the message is in Spanish, with the never-share warning.
	if mail.To[0] != "Jose.New@example.org" || !strings.Contains(mail.Text, "Ingréselo solo en https://status.casegate.test") {
		t.Fatalf("the confirmation code went to %v:\n%s", mail.To, mail.Text)
	}
	// Another party cannot use this change, and a wrong code is counted.
	anaToken := s.signIn(ana, 3)
	if resp, body := s.do("POST", "/api/v1/me/contact/"+change.ChangeID+"/confirm", map[string]string{"code": code}, bearerH(anaToken)); resp.StatusCode != http.StatusGone {
		t.Fatalf("another party confirming: %d %s, want 410", resp.StatusCode, body)
	}
	if resp, body := s.do("POST", "/api/v1/me/contact/"+change.ChangeID+"/confirm", map[string]string{"code": wrongCode(t, code)}, bearerH(token)); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"attempts_remaining":3`) { // the refused attempt above counted too
		t.Fatalf("wrong code: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do("POST", "/api/v1/me/contact/"+change.ChangeID+"/confirm", map[string]string{"code": code}, bearerH(token))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"email":"J•••@example.org"`) {
		t.Fatalf("confirm: %d %s", resp.StatusCode, body)
	}
	msgs, err := s.smtp.WaitFor(4, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	notice := msgs[3]
	if notice.To[0] != "jose@example.com" || !strings.Contains(notice.Subject, "Se cambió") || codeInMail.MatchString(notice.Text) {
		t.Fatalf("notice to the old address: to %v, subject %q:\n%s", notice.To, notice.Subject, notice.Text)
	}
	// The next code goes to the new address; the representative's contact is untouched.
	s.signIn(jose, 5)
	if to := s.smtp.Messages()[4].To[0]; to != "Jose.New@example.org" {
		t.Fatalf("next sign-in code went to %s", to)
	}
	_, body = s.do("GET", "/api/v1/me", nil, bearerH(anaToken))
	if !strings.Contains(string(body), `"email":"a•••@lawfirm.example.com"`) {
		t.Fatalf("the representative's contact changed: %s", body)
	}
}

// TestContactChangeRefusesInvisibleCharacters sends the five characters of
// the security review (and two more) inside and at the end of a new address,
// through the API and the contact page: each is refused on the email field
// with a message naming the problem, in English and Spanish, and nothing is
// sent anywhere.
func TestContactChangeRefusesInvisibleCharacters(t *testing.T) {
	s := newStack(t, relaxed)
	token := s.signIn(jose, 1)
	queued := s.deliveries(t)
	var tried int
	for _, ch := range []string{"\u2028", "\u0085", "\u202e", "\u200b", "\ufeff", "\u2029", "\u00ad"} {
		for _, addr := range []string{"jose.new" + ch + "@example.org", "jose.new@example.org" + ch, "jose.new@exa" + ch + "mple.org"} {
			tried++
			resp, body := s.do("POST", "/api/v1/me/contact", map[string]string{"email": addr}, bearerH(token))
			var p struct {
				Errors map[string]string `json:"errors"`
			}
			mustJSON(t, body, &p)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(p.Errors["email"], "invisible characters") {
				t.Errorf("contact change to %q: %d %s, want 400 naming invisible characters on email", addr, resp.StatusCode, body)
			}
		}
	}
	resp, body := s.do("POST", "/api/v1/me/contact", map[string]string{"email": "jose.new\u2028@example.org"},
		map[string]string{"Authorization": "Bearer " + token, "Accept-Language": "es"})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "caracteres invisibles") {
		t.Errorf("in Spanish: %d %s", resp.StatusCode, body)
	}
	if n := s.deliveries(t) - queued; n != 0 {
		t.Errorf("%d messages queued for %d refused addresses", n, tried)
	}
}

// deliveries counts the outbox rows in every status.
func (s *stack) deliveries(t *testing.T) int {
	t.Helper()
	n := 0
	err := s.store.View(t.Context(), func(tx casegate.Tx) error {
		for _, st := range []casegate.DeliveryStatus{casegate.DeliveryPending, casegate.DeliverySent, casegate.DeliveryFailed, casegate.DeliveryCancelled} {
			c, err := tx.CountDeliveries(t.Context(), st)
			if err != nil {
				return err
			}
			n += c
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestContactChangeNeedsARecentSignIn(t *testing.T) {
	s := newStack(t, relaxed)
	token := s.signIn(jose, 1)
	for range 21 {
		s.clock.Advance(time.Minute) // active all along, so the session stays alive
		s.do("GET", "/api/v1/me", nil, bearerH(token))
	}
	resp, body := s.do("POST", "/api/v1/me/contact", map[string]string{"phone": "+15555550999"}, bearerH(token))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "reauthentication_required") {
		t.Fatalf("21 minutes after sign-in: %d %s, want 403 reauthentication_required", resp.StatusCode, body)
	}
	for i, bad := range []map[string]string{{"email": "not-an-address"}, {"email": "a@example.com", "phone": "+15555550999"}, {}} {
		fresh := s.signIn(jose, i+2)
		resp, body := s.do("POST", "/api/v1/me/contact", bad, bearerH(fresh))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("contact change %v: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
}

// TestContactChangeToANumberThatCannotReceiveTexts is the review's point:
// a signed-in person gave a premium-rate or toll-free number, and a
// confirmation text went to it.
func TestContactChangeToANumberThatCannotReceiveTexts(t *testing.T) {
	s := newStack(t, relaxed)
	for i, number := range []string{"+19005550123", "+1 800 555 0123"} {
		token := s.signIn(jose, i+1)
		resp, body := s.do("POST", "/api/v1/me/contact", map[string]string{"phone": number}, bearerH(token))
		var problem struct {
			Code   string            `json:"code"`
			Errors map[string]string `json:"errors"`
		}
		mustJSON(t, body, &problem)
		if resp.StatusCode != http.StatusBadRequest || problem.Code != "invalid_request" || problem.Errors["phone"] == "" {
			t.Errorf("%s: %d %s, want 400 with a field error on phone", number, resp.StatusCode, body)
		}
	}
	var texts int
	err := s.store.View(t.Context(), func(tx casegate.Tx) error {
		for _, status := range []casegate.DeliveryStatus{casegate.DeliveryPending, casegate.DeliverySent, casegate.DeliveryFailed} {
			ds, err := tx.Deliveries(t.Context(), status, 100)
			if err != nil {
				return err
			}
			for _, d := range ds {
				if d.Channel == casegate.ChannelSMS {
					texts++
				}
			}
		}
		return nil
	})
	if err != nil || texts != 0 {
		t.Errorf("%d texts queued (%v), want none", texts, err)
	}
}

func TestStatusEventNotifiesExactlyTheSubscribers(t *testing.T) {
	s := newStack(t, relaxed)
	admin, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	// José signs in in Spanish, which keeps Spanish his language on file.
	joseES := maps.Clone(jose)
	joseES["language"] = "es"
	jt := s.signIn(joseES, 1)
	at := s.signIn(ana, 2)
	if resp, body := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", map[string]bool{"email": true, "sms": false}, bearerH(jt)); resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %d %s", resp.StatusCode, body)
	}
	// Ana has no phone on file: subscribing to text messages is refused.
	if resp, body := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", map[string]bool{"email": false, "sms": true}, bearerH(at)); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("sms without a phone: %d %s", resp.StatusCode, body)
	}
	// Nobody subscribes to a case they are not linked to.
	if resp, _ := s.do("PUT", "/api/v1/cases/EAC2190012345/subscription", map[string]bool{"email": true}, bearerH(jt)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("subscribing to another's case: %d", resp.StatusCode)
	}
	post := func(status string, want int) {
		t.Helper()
		resp, body := s.do("POST", "/admin/v1/cases/IOE0912345678/events", map[string]string{"status": status, "at": s.clock.Now().Format(time.RFC3339)}, bearerH(admin))
		if resp.StatusCode != want {
			t.Fatalf("post event: %d %s, want %d", resp.StatusCode, body, want)
		}
	}
	post("interview_scheduled", http.StatusCreated)
	msgs, err := s.smtp.WaitFor(3, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// José's language on file is Spanish: the notice is in Spanish and names only the receipt and status.
	n := msgs[2]
	if n.To[0] != "jose@example.com" || !strings.Contains(n.Subject, "IOE0912345678") || !strings.Contains(n.Text, "Entrevista programada") || strings.Contains(n.Text, "García") {
		t.Fatalf("notification to %v %q:\n%s", n.To, n.Subject, n.Text)
	}
	post("interview_scheduled", http.StatusOK) // the same event again: nothing new
	s.settle()
	if got := len(s.smtp.Messages()); got != 3 {
		t.Fatalf("%d messages after posting the same event twice, want 3", got)
	}
	s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", map[string]bool{"email": true}, bearerH(at))
	s.clock.Advance(time.Minute)
	post("approved", http.StatusCreated)
	msgs, err = s.smtp.WaitFor(5, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.settle()
	got := map[string]int{}
	for _, m := range s.smtp.Messages()[3:] {
		got[m.To[0]]++
	}
	if len(got) != 2 || got["jose@example.com"] != 1 || got["ana@lawfirm.example.com"] != 1 {
		t.Fatalf("notifications of the second event: %v, want one each to José and Ana", got)
	}
	// The case shows the subscription and the new status.
	_, body := s.do("GET", "/api/v1/cases/IOE0912345678", nil, bearerH(jt))
	if !strings.Contains(string(body), `"subscription":{"email":true,"sms":false}`) || !strings.Contains(string(body), `"status":"approved"`) || !strings.Contains(string(body), `"completed":true`) {
		t.Fatalf("case: %s", body)
	}
}

func TestProcessingTimesAPIAndMetrics(t *testing.T) {
	s := newStack(t, relaxed)
	admin, _ := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	s.do("POST", "/admin/v1/cases/IOE0912345678/events", map[string]string{"status": "approved", "at": s.clock.Now().Format(time.RFC3339)}, bearerH(admin))
	resp, body := s.do("POST", "/admin/v1/processing-times/recompute", nil, bearerH(admin))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("recompute: %d %s", resp.StatusCode, body)
	}
	// One case finished: I-485 is listed, with too few cases for a figure.
	resp, body = s.do("GET", "/api/v1/processing-times?form=I-485&office=NBC", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `{"form_type":"I-485","scope":"form","enough_cases":false,"data_as_of":`) ||
		strings.Contains(string(body), `"cases":`) || !strings.Contains(string(body), `"method"`) {
		t.Fatalf("processing times: %d %s", resp.StatusCode, body)
	}
	s.signIn(jose, 1)
	s.requestCode(stranger)
	if resp, _ := s.do("GET", "/metrics", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token: %d, want 401", resp.StatusCode)
	}
	want := []string{
		`casegate_codes_requested_total{outcome="issued"} 1`,
		`casegate_codes_requested_total{outcome="no_match"} 1`,
		`casegate_codes_redeemed_total{outcome="ok"} 1`,
		`casegate_deliveries_total{channel="email",outcome="sent",template="access_code"} 1`,
		`casegate_http_requests_total{method="POST",route="POST /api/v1/access-codes",status="202"} 2`,
		`casegate_delivery_queue_depth 0`,
	}
	// The worker records a delivery just after the server took it: allow it a moment.
	var text string
	if testenv.Eventually(5*time.Second, func() bool {
		resp, body = s.do("GET", "/metrics", nil, bearerH(admin))
		text = string(body)
		missing := 0
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing++
			}
		}
		return resp.StatusCode == http.StatusOK && missing == 0
	}) {
		return
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	t.Fatalf("/metrics: %d\n%s", resp.StatusCode, grepLines(text, "casegate_"))
}

// TestProcessingTimesAPIWithholdsSmallGroups publishes two groups of 10
// cases beside a group of one and a form of two: the API lists the groups of
// 10 and every form's whole-form figure, withheld for the form of two, and
// nothing of the group of one but its case in its form's count.
func TestProcessingTimesAPIWithholdsSmallGroups(t *testing.T) {
	s := newStack(t)
	done := finishedDay(s.clock.Now)
	publishTimes(t, s.store, s.portal, s.clock.Now, finishedCases("WAC", "I-485", "Employment-based", "TSC", done, 900)+
		finishedCases("MSC", "N-400", "", "NBC", done, 200, 210))
	timesForJose(t, s.store, s.portal, s.clock.Now, 3)
	type entry struct {
		FormType    string `json:"form_type"`
		Scope       string `json:"scope"`
		Category    string `json:"category"`
		Office      string `json:"office"`
		EnoughCases bool   `json:"enough_cases"`
		MedianDays  *int   `json:"median_days"`
		Cases       *int   `json:"cases"`
	}
	list := func(query string) []string {
		t.Helper()
		resp, body := s.do("GET", "/api/v1/processing-times"+query, nil, nil)
		var b struct {
			ProcessingTimes []entry `json:"processing_times"`
		}
		mustJSON(t, body, &b)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", query, resp.StatusCode, body)
		}
		var out []string
		for _, e := range b.ProcessingTimes {
			desc := fmt.Sprintf("%s %s %s/%s", e.FormType, e.Scope, e.Category, e.Office)
			switch {
			case e.EnoughCases && e.Cases != nil && e.MedianDays != nil:
				desc += fmt.Sprintf(" %d cases", *e.Cases)
			case !e.EnoughCases && e.Cases == nil && e.MedianDays == nil:
				desc += " not enough"
			default:
				t.Errorf("%s: %+v has figures that do not match enough_cases", query, e)
			}
			out = append(out, desc)
		}
		return out
	}
	all := []string{"I-485 form / 11 cases", "I-485 group Family-based/NBC 10 cases", "I-765 form / 10 cases", "I-765 group /MSC 10 cases", "N-400 form / not enough"}
	for query, want := range map[string][]string{
		"":                        all,
		"?form=n-400":             {"N-400 form / not enough"},
		"?office=TSC":             {"I-485 form / 11 cases", "I-765 form / 10 cases", "N-400 form / not enough"},
		"?form=I-485&office=TSC":  {"I-485 form / 11 cases"},
		"?form=I-485&office=nbc":  {"I-485 form / 11 cases", "I-485 group Family-based/NBC 10 cases"},
		"?form=I-130&office=NBC":  nil,
		"?form=%00&office=%E2%80": nil,
	} {
		if got := list(query); strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("%q: %q, want %q", query, got, want)
		}
	}
}

// grepLines keeps the lines of text that start with prefix and contain any of
// the words (every such line when none are given).
func grepLines(text, prefix string, words ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		keep := len(words) == 0
		for _, w := range words {
			keep = keep || strings.Contains(l, w)
		}
		if keep {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSMSBudgetGauge: operators see what the texts spend of each share of
// the daily budget.
func TestSMSBudgetGauge(t *testing.T) {
	s := newStack(t, relaxed)
	admin, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	byText := map[string]string{}
	for k, v := range jose {
		byText[k] = v
	}
	byText["channel"] = "sms"
	s.requestCode(byText)
	_, body := s.do("GET", "/metrics", nil, bearerH(admin))
	for _, w := range []string{
		`casegate_sms_budget_spent{share="first_code"} 1`,
		`casegate_sms_budget_size{share="first_code"} 600`,
	} {
		if !strings.Contains(string(body), w) {
			t.Errorf("/metrics lacks %s:\n%s", w, grepLines(string(body), "casegate_sms"))
		}
	}
}
