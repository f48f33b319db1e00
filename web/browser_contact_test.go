package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
)

// signInJose takes Jose through the request form and the code from the
// mailbox (read in a second tab, returned) to the dashboard.
func signInJose(b *browserTab) *browserTab {
	b.t.Helper()
	b.open("/request", "request")
	b.fillRequest(josePerson)
	b.click("#request-submit", "verify")
	mail := b.sibling()
	code := mail.readCode(josePerson.email, 1)
	b.typeInto("#code", code)
	b.click("#verify-submit", "dashboard")
	b.wantPath("/dashboard", "dashboard")
	return mail
}

// mailTexts opens the demo mailbox in this tab and returns the texts of the
// messages to to, newest first.
func (b *browserTab) mailTexts(to string) []string {
	b.t.Helper()
	b.navigate("/dev/mailbox")
	var msgs []struct{ To, Text string }
	b.eval(`[...document.querySelectorAll('article.message')].map(a => ({
		To: (a.querySelector('.message-to') || {}).textContent || '',
		Text: (a.querySelector('pre.message-text') || {}).textContent || ''}))`, &msgs)
	var out []string
	for _, m := range msgs {
		if m.To == to {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestBrowserContactChange changes Jose's email address through the pages,
// mistakes included: the code arrives at the new address, the notice at the
// old one, and the dashboard shows the new address masked.
func TestBrowserContactChange(t *testing.T) {
	const newEmail = "jose.new@example.org"
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})
	mail := signInJose(b)

	b.click("a#change-contact", "contact")
	b.wantPath("/contact", "contact")
	for _, sel := range []string{
		`form#email-form input#new_email[name="email"][type="email"][autocomplete="email"]`,
		`form#phone-form input#new_phone[name="phone"][type="tel"][autocomplete="tel"]`,
		"#current-email", "#current-phone",
	} {
		b.mustHave(sel, "contact")
	}

	b.click("#email-submit", "contact-empty")
	b.checkFieldErrors("contact-empty", "new_email")
	b.typeInto("#new_email", "jose at example")
	b.click("#email-submit", "contact-bad-email")
	b.checkFieldErrors("contact-bad-email", "new_email")
	if v := b.value("#new_email"); v != "jose at example" {
		t.Errorf("#new_email = %q after the error, want what was typed", v)
	}
	b.click("#phone-submit", "contact-empty-phone")
	b.checkFieldErrors("contact-empty-phone", "new_phone")

	b.typeInto("#new_email", newEmail)
	b.click("#email-submit", "contact-confirm")
	b.mustHave(`form#contact-confirm-form input#contact_code[name="code"][autocomplete="one-time-code"]`, "contact-confirm")
	if txt := b.text("#contact-sent-to"); !strings.Contains(txt, newEmail) {
		t.Errorf("#contact-sent-to %q does not name the new address", txt)
	}
	code := mail.readCode(newEmail, 1)

	b.typeInto("#contact_code", typoOf(t, code))
	b.click("#contact-confirm-submit", "contact-confirm-typo")
	b.checkFieldErrors("contact-confirm-typo", "contact_code")
	b.typeInto("#contact_code", accesscode.Display(wrongCode(t, code)))
	b.click("#contact-confirm-submit", "contact-confirm-wrong")
	b.checkFieldErrors("contact-confirm-wrong", "contact_code")
	if msg := b.text("#contact_code-error"); !strings.Contains(msg, "4") {
		t.Errorf("#contact_code-error %q, want 4 attempts left", msg)
	}

	b.typeInto("#contact_code", code)
	b.click("#contact-confirm-submit", "dashboard-changed")
	b.wantPath("/dashboard?contact_changed=1", "dashboard after the change")
	b.mustHave("#contact-changed-notice", "dashboard after the change")
	if e := b.text("#contact-email"); e != "j•••@example.org" {
		t.Errorf("#contact-email %q, want the new address masked", e)
	}

	// The old address got the notice, without a code.
	var old []string
	if !testenv.Eventually(15*time.Second, func() bool { old = mail.mailTexts(josePerson.email); return len(old) == 2 }) {
		t.Fatalf("%d messages to the old address, want the sign-in code and the notice", len(old))
	}
	if codeInMail.MatchString(old[0]) {
		t.Errorf("the notice to the old address carries a code")
	}
	mail.check("mailbox-notice")
}

// TestBrowserContactReauth meets the page that asks to sign in again, in
// Spanish: here the window after sign-in is a nanosecond, so it is always over.
func TestBrowserContactReauth(t *testing.T) {
	s := newBrowserStack(t, func(l *portal.Limits) { l.Reauth = time.Nanosecond })
	b := openTab(t, s.url, tabOptions{})
	b.open("/", "home")
	b.opts.lang = "es"
	b.click(`form.language-switch button[name=lang][value="es"]`, "home-es")
	signInJose(b)
	b.open("/contact", "contact")
	b.typeInto("#new_email", "jose.new@example.org")
	b.click("#email-submit", "reauth")
	b.mustHave("#reauth-required", "reauth")
	b.click("#reauth-signout", "signed-out")
	b.wantPath("/?signed_out=1", "signed out")
}
