package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/portal"
)

// marker is, per message template, a text of the catalog that only that
// template's email carries, with no values to fill.
var marker = map[string]string{
	"access_code":     "msg.access_code.your_code",
	"contact_code":    "msg.contact_code.did_not_ask",
	"contact_changed": "msg.contact_changed.if_you",
	"lockout_notice":  "msg.lockout_notice.no_code",
	"status_update":   "msg.status_update.why",
}

// wantLanguage fails unless m is the template's email, to to, in lang.
func wantLanguage(t *testing.T, m smtptest.Mail, template, to, lang string) {
	t.Helper()
	other := map[string]string{"en": "es", "es": "en"}[lang]
	if len(m.To) != 1 || m.To[0] != to {
		t.Errorf("%s went to %v, want %s", template, m.To, to)
	}
	if !strings.Contains(m.Text, text(lang, marker[template])) || strings.Contains(m.Text, text(other, marker[template])) {
		t.Errorf("%s to %s is not in %s:\n%s", template, to, lang, m.Text)
	}
}

// TestMessagesSpeakTheRuleLanguage holds every message to the rule of
// docs/decisions.md, "Which language a message speaks": a message a person
// causes speaks the language they are using; a notice they did not cause
// speaks the party's language on file, which their own choices set (the
// language they signed in in, the language they switch to while signed in).
func TestMessagesSpeakTheRuleLanguage(t *testing.T) {
	ps := newPageStack(t, relaxed)
	ctx := context.Background()
	n := 0
	next := func() smtptest.Mail {
		t.Helper()
		n++
		msgs, err := ps.smtp.WaitFor(n, 10*time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", n, err)
		}
		return msgs[n-1]
	}
	status := func(code string) {
		t.Helper()
		if _, _, err := ps.portal.PostStatusEvent(ctx, "IOE0912345678", portal.StatusEventInput{Status: code}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	codeOf := func(m smtptest.Mail) string {
		t.Helper()
		c := codeInMail.FindStringSubmatch(m.Text)
		if c == nil {
			t.Fatalf("no code in:\n%s", m.Text)
		}
		return c[1]
	}
	// changeEmail changes the email to to and checks the code and the notice.
	changeEmail := func(from, to, lang string) {
		t.Helper()
		step, _ := ps.startChange(t, "email", to)
		c := next()
		wantLanguage(t, c, "contact_code", to, lang)
		wantRedirect(t, ps.confirm(t, step, codeOf(c)), "/dashboard?contact_changed=1")
		wantLanguage(t, next(), "contact_changed", from, lang)
	}

	// Jose's language on file is Spanish; he works in English. The code
	// he asks for speaks English, and signing in in English makes English
	// his language on file.
	ps.requestThroughPages(t, joseForm)
	code := next()
	wantLanguage(t, code, "access_code", "jose@example.com", "en")
	wantRedirect(t, ps.post(t, "/verify", url.Values{"code": {codeOf(code)}}), "/dashboard")

	// He changes his email in English: the code to the new address and the
	// notice to the old one both speak English.
	changeEmail("jose@example.com", "jose.new@example.com", "en")

	// He switches to Spanish: that is his language on file from now on.
	wantRedirect(t, ps.post(t, "/language", url.Values{"lang": {"es"}, "next": {"/dashboard"}}), "/dashboard")
	wantRedirect(t, ps.post(t, "/cases/IOE0912345678/subscription", url.Values{"email": {"1"}}), "/cases/IOE0912345678?subscribed=1")
	status("interview_scheduled")
	wantLanguage(t, next(), "status_update", "jose.new@example.com", "es")

	// An API client of his asking in English gets the code it caused in
	// English, whatever the language on file.
	tok := strings.TrimPrefix(ps.sessionCookie(t), sessionCookie+"=")
	resp, body := ps.do("POST", "/api/v1/me/contact", map[string]string{"email": "jose.api@example.com"},
		map[string]string{"Authorization": "Bearer " + tok, "Accept-Language": "en"})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("contact change by API: %d %s", resp.StatusCode, body)
	}
	wantLanguage(t, next(), "contact_code", "jose.api@example.com", "en")

	// Back to English while signed in: the next notice speaks English.
	wantRedirect(t, ps.post(t, "/language", url.Values{"lang": {"en"}, "next": {"/dashboard"}}), "/dashboard")
	status("approved")
	wantLanguage(t, next(), "status_update", "jose.new@example.com", "en")

	// And a person who changes the email after switching gets the code and
	// the notice in that language.
	wantRedirect(t, ps.post(t, "/language", url.Values{"lang": {"es"}, "next": {"/dashboard"}}), "/dashboard")
	changeEmail("jose.new@example.com", "jose.es@example.com", "es")

	// Someone working in English gets sign-in paused with wrong codes: the
	// codes they asked for speak English, the notice Jose's Spanish on file
	// (last: a locked party confirms no contact change).
	for i := range 10 {
		iss := ps.requestCode(jose)
		c := next()
		wantLanguage(t, c, "access_code", "jose.es@example.com", "en")
		if st, b := ps.redeem(iss.RequestID, wrongCode(t, codeOf(c))); st != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d %s", i, st, b)
		}
	}
	wantLanguage(t, next(), "lockout_notice", "jose.es@example.com", "es")
}
