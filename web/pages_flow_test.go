package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

// joseForm is the fixture's applicant as a person fills in the request form.
var joseForm = url.Values{
	"receipt_number": {"IOE-091-234-5678"}, "a_number": {""}, "given_name": {"Jose"}, "family_name": {"Garcia Lopez"},
	"dob_month": {"4"}, "dob_day": {"2"}, "dob_year": {"1990"}, "country_of_birth": {"MX"}, "channel": {"email"},
}

// flowCookieOf returns the flow cookie a response sets, if any.
func flowCookieOf(p answer) *http.Cookie {
	for _, c := range p.resp.Cookies() {
		if c.Name == "casegate_flow" {
			return c
		}
	}
	return nil
}

// requestThroughPages submits form and returns the verify page it leads to,
// with the flow cookie that was set.
func (ps *pageStack) requestThroughPages(t testing.TB, form url.Values) (answer, *http.Cookie) {
	t.Helper()
	p := ps.post(t, "/request", form)
	wantRedirect(t, p, "/verify")
	flow := flowCookieOf(p)
	if flow == nil {
		t.Fatal("no flow cookie after a code request")
	}
	return ps.get(t, "/verify"), flow
}

// signInThroughPages runs request, mail and verify for form (the n-th
// message) and returns the dashboard.
func (ps *pageStack) signInThroughPages(t testing.TB, form url.Values, n int) answer {
	t.Helper()
	ps.requestThroughPages(t, form)
	_, code := ps.waitCode(n)
	wantRedirect(t, ps.post(t, "/verify", url.Values{"code": {code}}), "/dashboard")
	return ps.get(t, "/dashboard")
}

func TestSignInThroughPages(t *testing.T) {
	ps := newPageStack(t)
	verify, flow := ps.requestThroughPages(t, joseForm)
	if !flow.HttpOnly || !flow.Secure || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/" || flow.MaxAge <= 0 || flow.MaxAge > 3600 {
		t.Errorf("flow cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/, short-lived", flow)
	}
	// The cookie lasts as long as the portal keeps the request open to a
	// resend: the code lifetime × (sends + 1), an hour by default.
	if flow.MaxAge < 3600-60 {
		t.Errorf("flow cookie lasts %d s, want the request's hour: an expired code must stay resendable from the pages", flow.MaxAge)
	}
	checkLayout(t, verify, "en")
	if cc := verify.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/verify Cache-Control %q", cc)
	}
	left := verify.doc.Find("#time-left time")
	if at, err := time.Parse(time.RFC3339, left.AttrOr("datetime", "")); err != nil || at.Sub(ps.clock.Now()) != 10*time.Minute {
		t.Errorf("#time-left time datetime %q, want the expiry 10 minutes ahead", left.AttrOr("datetime", ""))
	}
	for _, sel := range []string{`form#verify-form[method="post"][action="/verify"]`, `input#code[name="code"][autocomplete="one-time-code"]`,
		"button#verify-submit", `form#resend-form[method="post"][action="/verify/resend"]`, "button#resend-submit"} {
		if verify.doc.Find(sel).Length() != 1 {
			t.Errorf("verify: no %s", sel)
		}
	}
	help := strings.ToLower(verify.doc.Find("#help").Text())
	for _, want := range []string{"spam", "spelling", "receipt number exactly as it is printed"} {
		if !strings.Contains(help, want) {
			t.Errorf("#help does not mention %q", want)
		}
	}
	// Without a script nothing counts down, so the page says when, as a
	// clock time; the script turns the button into the countdown.
	at := ps.clock.Now().Add(30 * time.Second).UTC()
	if b := verify.doc.Find("#resend-at").Text(); !strings.Contains(b, at.Format("15:04")+" UTC") {
		t.Errorf("#resend-at says %q during the cooldown, want the time the wait ends, %s UTC", b, at.Format("15:04"))
	}
	if until := verify.doc.Find("#resend-submit").AttrOr("data-until", ""); until != at.Format(time.RFC3339) {
		t.Errorf("the resend button's countdown runs to %q, want %s", until, at.Format(time.RFC3339))
	}

	// A wrong code: the summary, the field message with attempts left, the box emptied.
	_, code := ps.waitCode(1)
	wrong := ps.post(t, "/verify", url.Values{"code": {wrongCode(t, code)}})
	if wrong.status() != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d, want 401", wrong.status())
	}
	checkFieldErrors(t, wrong, "code")
	if msg := wrong.doc.Find("#code-error").Text(); !strings.Contains(msg, "4 attempts left") {
		t.Errorf("#code-error %q does not say how many attempts are left", msg)
	}
	if v := wrong.doc.Find("#code").AttrOr("value", ""); v != "" {
		t.Errorf("the code box keeps %q after an error", v)
	}

	// The right code signs in, with the session cookie the API sets.
	ok := ps.post(t, "/verify", url.Values{"code": {code}})
	wantRedirect(t, ok, "/dashboard")
	var sess *http.Cookie
	for _, c := range ok.resp.Cookies() {
		if c.Name == "__Host-casegate_session" {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" {
		t.Fatalf("session cookie %+v", sess)
	}
	if f := flowCookieOf(ok); f == nil || f.MaxAge >= 0 {
		t.Errorf("the flow cookie was not cleared after sign-in: %+v", f)
	}

	dash := ps.get(t, "/dashboard")
	checkLayout(t, dash, "en")
	if cc := dash.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/dashboard Cache-Control %q", cc)
	}
	if dash.doc.Find(`form#signout-form[method="post"][action="/signout"] button#signout`).Length() != 1 {
		t.Errorf("no sign-out form on the dashboard")
	}
	if e, p := dash.doc.Find("#contact-email").Text(), dash.doc.Find("#contact-phone").Text(); e != "j•••@example.com" || p != "•••• 0123" {
		t.Errorf("contacts %q and %q, want them masked", e, p)
	}
	cases := dash.doc.Find("ul#cases > li.case")
	if cases.Length() != 1 || cases.Find(`a.case-link[href="/cases/IOE0912345678"]`).Length() != 1 ||
		strings.TrimSpace(cases.Find(".case-status").Text()) != "Status: Biometrics appointment scheduled" {
		t.Errorf("cases: %d, link %q, status %q", cases.Length(), cases.Find("a.case-link").AttrOr("href", ""), cases.Find(".case-status").Text())
	}

	one := ps.get(t, "/cases/IOE0912345678")
	checkLayout(t, one, "en")
	if cc := one.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/cases Cache-Control %q", cc)
	}
	if h := one.doc.Find("h1").Text(); !strings.Contains(h, "IOE0912345678") {
		t.Errorf("h1 %q lacks the receipt number", h)
	}
	events := one.doc.Find("ol#timeline > li.event")
	if events.Length() != 2 || events.First().Find(".event-title").Text() != "Biometrics appointment scheduled" ||
		events.Last().Find(".event-title").Text() != "Case received" || events.First().Find("time[datetime]").Length() != 1 {
		t.Errorf("timeline: %d events, first %q", events.Length(), events.First().Text())
	}
	if p := ps.get(t, "/cases/EAC2190012345"); p.status() != http.StatusNotFound {
		t.Errorf("someone else's case: %d, want 404", p.status())
	}

	// Spanish, signed in.
	ps.setLang(t, "es")
	es := ps.get(t, "/cases/IOE0912345678")
	checkLayout(t, es, "es")
	if got := es.doc.Find("ol#timeline > li.event .event-title").First().Text(); got != "Cita de datos biométricos programada" {
		t.Errorf("Spanish status %q", got)
	}
	checkLayout(t, ps.get(t, "/dashboard"), "es")

	// Sign out: the session ends on the server, the cookie goes.
	out := ps.post(t, "/signout", url.Values{})
	wantRedirect(t, out, "/?signed_out=1")
	if resp, _ := ps.do("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer " + sess.Value}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session still works after sign-out: %d", resp.StatusCode)
	}
	if ps.get(t, "/?signed_out=1").doc.Find("#signed-out-notice").Length() != 1 {
		t.Errorf("no #signed-out-notice")
	}
	wantRedirect(t, ps.get(t, "/dashboard"), "/request")
	wantRedirect(t, ps.get(t, "/cases/IOE0912345678"), "/request")
}

func TestResendThroughPages(t *testing.T) {
	ps := newPageStack(t)
	ps.requestThroughPages(t, joseForm)
	_, first := ps.waitCode(1) // a code replaced before it is sent is never sent
	early := ps.post(t, "/verify/resend", url.Values{})
	if early.status() != http.StatusTooManyRequests || early.resp.Header.Get("Retry-After") != "30" {
		t.Errorf("resend in the cooldown: %d, Retry-After %q; want 429 and 30", early.status(), early.resp.Header.Get("Retry-After"))
	}
	if early.doc.Find(`#error-summary a[href="#resend-submit"]`).Length() != 1 || early.doc.Find("#verify-form").Length() != 1 {
		t.Errorf("resend in the cooldown does not show the verify page with the error")
	}
	ps.clock.Advance(31 * time.Second)
	wantRedirect(t, ps.post(t, "/verify/resend", url.Values{}), "/verify?resent=1")
	again := ps.get(t, "/verify?resent=1")
	if again.doc.Find("#resend-notice").Length() != 1 {
		t.Errorf("no #resend-notice after a resend")
	}
	at := ps.clock.Now().Add(60 * time.Second).UTC()
	if b := again.doc.Find("#resend-at").Text(); !strings.Contains(b, at.Format("15:04")+" UTC") ||
		again.doc.Find("#resend-submit").AttrOr("data-until", "") != at.Format(time.RFC3339) {
		t.Errorf("#resend-at %q, want the doubled cooldown, to %s UTC", b, at.Format("15:04"))
	}
	_, second := ps.waitCode(2)
	if p := ps.post(t, "/verify", url.Values{"code": {first}}); p.status() == http.StatusSeeOther {
		t.Fatalf("the replaced code still signs in")
	}
	wantRedirect(t, ps.post(t, "/verify", url.Values{"code": {second}}), "/dashboard")
}

func TestRequestFormErrorsKeepWhatWasTyped(t *testing.T) {
	ps := newPageStack(t, relaxed)
	empty := ps.post(t, "/request", url.Values{})
	if empty.status() != http.StatusBadRequest {
		t.Errorf("empty form: %d, want 400", empty.status())
	}
	checkLayout(t, empty, "en")
	checkFieldErrors(t, empty, "receipt_number", "given_name", "family_name", "dob_month", "country_of_birth")
	if cc := empty.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("a re-rendered form with personal data: Cache-Control %q", cc)
	}

	cases := []struct {
		name  string
		edit  map[string]string
		field string
		want  string // part of the field's message
	}{
		{"impossible date", map[string]string{"dob_month": "2", "dob_day": "30"}, "dob_month", "real date"},
		{"half a date", map[string]string{"dob_day": ""}, "dob_month", "real date"},
		{"unknown country", map[string]string{"country_of_birth": "ZZ"}, "country_of_birth", "from the list"},
		{"bad receipt", map[string]string{"receipt_number": "IOE12"}, "receipt_number", "3 letters and 10 numbers"},
		{"both identifiers", map[string]string{"a_number": "A012345678"}, "receipt_number", "not both"},
		{"bad A-Number", map[string]string{"receipt_number": "", "a_number": "A12"}, "a_number", "7 to 9"},
		{"tampered channel", map[string]string{"channel": "pigeon"}, "channel-email", "email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range joseForm {
				form[k] = v
			}
			form.Set("given_name", `José "Pepe"`)
			for k, v := range c.edit {
				form.Set(k, v)
			}
			p := ps.post(t, "/request", form)
			checkFieldErrors(t, p, c.field)
			if msg := p.doc.Find("#" + c.field + "-error").Text(); !strings.Contains(msg, c.want) {
				t.Errorf("message %q lacks %q", msg, c.want)
			}
			for _, id := range []string{"receipt_number", "a_number", "given_name", "family_name", "dob_month", "dob_day", "dob_year"} {
				if got := p.doc.Find("#"+id).AttrOr("value", ""); got != strings.TrimSpace(form.Get(id)) {
					t.Errorf("#%s = %q after the error, want what was typed, %q", id, got, form.Get(id))
				}
			}
			if c.field != "country_of_birth" && p.doc.Find(`#country_of_birth option[selected]`).AttrOr("value", "") != "MX" {
				t.Errorf("the chosen country was lost")
			}
			if n := len(ps.smtp.Messages()); n != 0 {
				t.Errorf("%d messages sent for an invalid form", n)
			}
		})
	}

	ps.setLang(t, "es")
	es := ps.post(t, "/request", url.Values{"given_name": {"Ana"}})
	checkLayout(t, es, "es")
	checkFieldErrors(t, es, "receipt_number", "family_name", "dob_month", "country_of_birth")
	if msg := es.doc.Find("#family_name-error").Text(); !strings.Contains(msg, "Escriba su apellido") {
		t.Errorf("Spanish field message %q", msg)
	}
	if h := es.doc.Find("#error-summary h2").Text(); h != "Hay un problema" {
		t.Errorf("Spanish summary heading %q", h)
	}
}

func TestRateLimitedRequestRendersThe429Page(t *testing.T) {
	ps := newPageStack(t, func(l *portal.Limits) { l.RequestsPerIP = portal.Rate{N: 1, Per: time.Hour} })
	ps.requestThroughPages(t, joseForm)
	p := ps.post(t, "/request", joseForm)
	if p.status() != http.StatusTooManyRequests {
		t.Fatalf("second request: %d, want 429", p.status())
	}
	checkLayout(t, p, "en")
	secs := p.resp.Header.Get("Retry-After")
	if secs == "" || p.doc.Find("#retry-after").Length() != 1 || !strings.Contains(p.doc.Find("#retry-after").Text(), "minutes") {
		t.Errorf("429 page: Retry-After %q, #retry-after %q", secs, p.doc.Find("#retry-after").Text())
	}
}

func TestMailboxPageAndJSON(t *testing.T) {
	ps := newPageStack(t)
	ps.mailbox.Send(context.Background(), casegateMessage("a@example.com", "Your code", "code <script>alert(1)</script>"))
	ps.mailbox.Send(context.Background(), casegateMessage("+15555550123", "", "second"))
	p := ps.get(t, "/dev/mailbox")
	checkLayout(t, p, "en")
	msgs := p.doc.Find("article.message")
	if msgs.Length() != 2 || msgs.First().Find(".message-to").Text() != "+15555550123" ||
		msgs.Last().Find("pre.message-text").Text() != "code <script>alert(1)</script>" || msgs.Last().Find(".message-subject").Text() != "Your code" {
		t.Errorf("mailbox page: %d messages, newest to %q", msgs.Length(), msgs.First().Find(".message-to").Text())
	}
	if strings.Contains(string(p.body), "<script>alert") {
		t.Errorf("the mailbox page holds an unescaped script")
	}
	api := ps.send(t, ps.browser, "GET", "/dev/mailbox", nil, map[string]string{"Accept": ""})
	if ct := api.resp.Header.Get("Content-Type"); ct != "application/json" || !strings.Contains(string(api.body), `"messages"`) {
		t.Errorf("mailbox without Accept: %s %s", ct, api.body)
	}
	var box struct {
		Messages []map[string]any `json:"messages"`
	}
	mustJSON(t, api.body, &box)
	if len(box.Messages) != 2 || box.Messages[0]["to"] != "+15555550123" || box.Messages[0]["text"] != "second" ||
		box.Messages[1]["subject"] != "Your code" || box.Messages[1]["channel"] != "email" {
		t.Errorf("mailbox JSON %s: want snake_case keys to, text, subject, channel", api.body)
	}
}

func casegateMessage(to, subject, text string) casegate.Message {
	ch := casegate.ChannelEmail
	if subject == "" {
		ch = casegate.ChannelSMS
	}
	return casegate.Message{Channel: ch, To: to, Subject: subject, Text: text}
}

func TestServerErrorPageHidesInternals(t *testing.T) {
	ps := newPageStack(t)
	ps.store.Close()
	p := ps.post(t, "/request", joseForm)
	if p.status() != http.StatusInternalServerError {
		t.Fatalf("request with the database closed: %d, want 500", p.status())
	}
	checkLayout(t, p, "en")
	text := strings.ToLower(p.doc.Find("main").Text())
	for _, leak := range []string{"sql", "database", "closed", "portal:", "store"} {
		if strings.Contains(text, leak) {
			t.Errorf("the 500 page mentions %q: %s", leak, text)
		}
	}
	if !strings.Contains(ps.logs.String(), `"msg":"internal error"`) {
		t.Errorf("the internal error was not logged")
	}
}
