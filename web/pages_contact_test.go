package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/casegate/casegate/web"
)

// startChange posts the email or phone form of /contact and expects the
// confirm step; it returns the page and the change id in it.
func (ps *pageStack) startChange(t testing.TB, field, value string) (answer, string) {
	t.Helper()
	p := ps.post(t, "/contact", url.Values{field: {value}})
	if p.status() != http.StatusOK {
		t.Fatalf("POST /contact %s=%q: %d, want the confirm step", field, value, p.status())
	}
	id := p.doc.Find(`form#contact-confirm-form input[type="hidden"][name="change_id"]`).AttrOr("value", "")
	if id == "" {
		t.Fatalf("the confirm step has no change_id")
	}
	return p, id
}

// confirm posts code with the hidden fields of the confirm step, as the form does.
func (ps *pageStack) confirm(t testing.TB, step answer, code string) answer {
	t.Helper()
	form := url.Values{}
	step.doc.Find(`form#contact-confirm-form input[type="hidden"]`).Each(func(_ int, in *goquery.Selection) {
		form.Set(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	form.Set("code", code)
	return ps.post(t, "/contact/confirm", form)
}

// mailTo waits for the n-th message of the stack and checks it went to to.
func (ps *pageStack) mailTo(t testing.TB, n int, to string) (text string, code string) {
	t.Helper()
	msgs, err := ps.smtp.WaitFor(n, 10*time.Second)
	if err != nil {
		t.Fatalf("waiting for message %d: %v", n, err)
	}
	m := msgs[n-1]
	if len(m.To) != 1 || m.To[0] != to {
		t.Fatalf("message %d went to %v, want %s", n, m.To, to)
	}
	if match := codeInMail.FindStringSubmatch(m.Text); match != nil {
		code = match[1]
	}
	return m.Text, code
}

func TestContactChangeThroughPages(t *testing.T) {
	ps := newPageStack(t)
	dash := ps.signInThroughPages(t, joseForm, 1)
	if dash.doc.Find(`a#change-contact[href="/contact"]`).Length() != 1 {
		t.Errorf("the dashboard has no a#change-contact link to /contact")
	}
	if dash.doc.Find("#contact-changed-notice").Length() != 0 {
		t.Errorf("#contact-changed-notice shows unasked")
	}

	page := ps.get(t, "/contact")
	checkLayout(t, page, "en")
	if cc := page.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/contact Cache-Control %q", cc)
	}
	if e, p := page.doc.Find("#current-email").Text(), page.doc.Find("#current-phone").Text(); e != "j•••@example.com" || p != "•••• 0123" {
		t.Errorf("current contacts %q and %q, want them masked", e, p)
	}
	for _, sel := range []string{
		`form#email-form[method="post"][action="/contact"] input#new_email[name="email"][type="email"][autocomplete="email"]`,
		`form#phone-form[method="post"][action="/contact"] input#new_phone[name="phone"][type="tel"][autocomplete="tel"]`,
		"form#email-form button[type=submit]", "form#phone-form button[type=submit]", "form#signout-form",
	} {
		if page.doc.Find(sel).Length() != 1 {
			t.Errorf("/contact: no %s", sel)
		}
	}
	page.doc.Find("main input:not([type=hidden])").Each(func(_ int, in *goquery.Selection) {
		if id := in.AttrOr("id", ""); page.doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("/contact: #%s has no label", id)
		}
	})
	if w := page.doc.Find("#reauth-window").Text(); !strings.Contains(w, "20 minutes") {
		t.Errorf("/contact does not say how long changes are possible: %q", w)
	}

	// The code goes to the NEW address, never to the old one.
	step, _ := ps.startChange(t, "email", "  Jose.New@Example.ORG ")
	checkLayout(t, step, "en")
	if cc := step.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("confirm step Cache-Control %q", cc)
	}
	for _, sel := range []string{`form#contact-confirm-form[method="post"][action="/contact/confirm"]`,
		`input#contact_code[name="code"][autocomplete="one-time-code"]`, "button#contact-confirm-submit", "#time-left time[datetime]"} {
		if step.doc.Find(sel).Length() != 1 {
			t.Errorf("confirm step: no %s", sel)
		}
	}
	if s := step.doc.Find("#contact-sent-to").Text(); !strings.Contains(s, "new email address, Jose.New@Example.ORG") {
		t.Errorf("#contact-sent-to %q does not name the new address", s)
	}
	_, code := ps.mailTo(t, 2, "Jose.New@example.org")
	if code == "" {
		t.Fatal("no code in the message to the new address")
	}

	// A wrong code first, then the right one.
	wrong := ps.confirm(t, step, wrongCode(t, code))
	if wrong.status() != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d, want 401", wrong.status())
	}
	checkFieldErrors(t, wrong, "contact_code")
	if msg := wrong.doc.Find("#contact_code-error").Text(); !strings.Contains(msg, "4 attempts left") {
		t.Errorf("#contact_code-error %q does not say how many attempts are left", msg)
	}
	if s := wrong.doc.Find("#contact-sent-to").Text(); !strings.Contains(s, "Jose.New@Example.ORG") {
		t.Errorf("after an error the page forgot where the code went: %q", s)
	}
	wantRedirect(t, ps.confirm(t, wrong, code), "/dashboard?contact_changed=1")

	// The notice goes to the OLD address, in Jose's language on file (English
	// since he signed in in English), and carries no code.
	notice, noticeCode := ps.mailTo(t, 3, "jose@example.com")
	if noticeCode != "" || !strings.Contains(notice, "The email address on your account") {
		t.Errorf("the notice to the old address: %q", notice)
	}

	done := ps.get(t, "/dashboard?contact_changed=1")
	checkLayout(t, done, "en")
	if n := done.doc.Find(`#contact-changed-notice[role="status"]`); n.Length() != 1 || !strings.Contains(n.Text(), "old email address") {
		t.Errorf("#contact-changed-notice %q", n.Text())
	}
	if e := done.doc.Find("#contact-email").Text(); e != "J•••@example.org" {
		t.Errorf("#contact-email %q after the change, want the new address masked", e)
	}
	if next := done.doc.Find(`form.language-switch input[name="next"]`).AttrOr("value", ""); next != "/dashboard" {
		t.Errorf("the language switch returns to %q, bringing the notice back", next)
	}

	// The used code does not work twice.
	again := ps.confirm(t, step, code)
	if again.status() != http.StatusGone {
		t.Errorf("the code a second time: %d, want 410", again.status())
	}
	checkFieldErrors(t, again, "contact_code")

	// Signing in again sends the code to the new address.
	fresh := ps.newBrowser(t)
	ps.browser = fresh
	ps.requestThroughPages(t, joseForm)
	ps.mailTo(t, 4, "Jose.New@example.org")
}

func TestContactFormErrors(t *testing.T) {
	ps := newPageStack(t, relaxed)
	ps.signInThroughPages(t, joseForm, 1)
	cases := []struct {
		name       string
		form       url.Values
		field, msg string
	}{
		{"empty email form", url.Values{"email": {" "}}, "new_email", "Enter your new email address"},
		{"empty phone form", url.Values{"phone": {""}}, "new_phone", "Enter your new phone number"},
		{"bad email", url.Values{"email": {"jose at example"}}, "new_email", "name@example.com"},
		{"bad phone", url.Values{"phone": {"555-0123"}}, "new_phone", "plus sign"},
		{"same email", url.Values{"email": {"jose@EXAMPLE.com"}}, "new_email", "already the one on file"},
		{"same phone", url.Values{"phone": {"+1 (201) 555-0123"}}, "new_phone", "already the one on file"},
		{"both", url.Values{"email": {"a@example.com"}, "phone": {"+15555550199"}}, "new_email", "one at a time"},
		{"line separator in email", url.Values{"email": {"jose.new\u2028@example.org"}}, "new_email", "invisible characters"},
		{"zero-width space after email", url.Values{"email": {"jose.new@example.org\u200b"}}, "new_email", "invisible characters"},
		{"right-to-left override in email", url.Values{"email": {"jose.new@\u202eelpmaxe.org"}}, "new_email", "invisible characters"},
		{"premium-rate phone", url.Values{"phone": {"+1 900 555 0123"}}, "new_phone", "premium-rate"},
		{"landline", url.Values{"phone": {"+44 20 7946 0958"}}, "new_phone", "landline"},
		{"VoIP phone", url.Values{"phone": {"+33 9 12 34 56 78"}}, "new_phone", "VoIP"},
		{"phone in no known range", url.Values{"phone": {"+1 555 555 0199"}}, "new_phone", "cannot tell"},
	}
	english := map[string]string{}
	for _, lang := range []string{"en", "es"} {
		ps.setLang(t, lang)
		for _, c := range cases {
			t.Run(lang+"/"+c.name, func(t *testing.T) {
				p := ps.post(t, "/contact", c.form)
				if p.status() != http.StatusBadRequest {
					t.Errorf("%d, want 400", p.status())
				}
				checkLayout(t, p, lang)
				checkFieldErrors(t, p, c.field)
				msg := p.doc.Find("#" + c.field + "-error").Text()
				if lang == "en" && !strings.Contains(msg, c.msg) {
					t.Errorf("message %q lacks %q", msg, c.msg)
				}
				if lang == "es" && msg == english[c.name] {
					t.Errorf("the message is not in Spanish: %q", msg)
				}
				english[c.name] = msg
				typed := strings.TrimSpace(c.form.Get(strings.TrimPrefix(c.field, "new_")))
				if got := p.doc.Find("#"+c.field).AttrOr("value", ""); got != typed {
					t.Errorf("#%s = %q after the error, want what was typed, %q", c.field, got, typed)
				}
				if p.doc.Find("#contact-confirm-form").Length() != 0 {
					t.Errorf("an error leads to the confirm step")
				}
			})
		}
	}
	if n := len(ps.smtp.Messages()); n != 1 {
		t.Errorf("%d messages after refused changes, want only the sign-in code", n)
	}

	// A phone change: the confirm step speaks of a text message to the new number.
	ps.setLang(t, "en")
	step, _ := ps.startChange(t, "phone", "+44 7911 123456")
	if s := step.doc.Find("#contact-sent-to").Text(); !strings.Contains(s, "text message to your new phone number, +44 7911 123456") {
		t.Errorf("#contact-sent-to %q", s)
	}
}

func TestContactConfirmErrors(t *testing.T) {
	ps := newPageStack(t)
	ps.signInThroughPages(t, joseForm, 1)
	step, _ := ps.startChange(t, "email", "new@example.net")
	_, code := ps.mailTo(t, 2, "new@example.net")
	raw := strings.ReplaceAll(code, "-", "")
	cases := []struct {
		name, code string
		status     int
		msg        string
	}{
		{"empty", "", http.StatusBadRequest, "Enter the code"},
		{"too short", "ABC", http.StatusUnprocessableEntity, "too short or too long"},
		{"typo", typoOf(t, code), http.StatusUnprocessableEntity, "typo"},
		{"wrong", wrongCode(t, code), http.StatusUnauthorized, "4 attempts left"},
		{"wrong again", wrongCode(t, code), http.StatusUnauthorized, "3 attempts left"},
	}
	for _, c := range cases {
		p := ps.confirm(t, step, c.code)
		if p.status() != c.status {
			t.Errorf("%s: %d, want %d", c.name, p.status(), c.status)
		}
		checkFieldErrors(t, p, "contact_code")
		if msg := p.doc.Find("#contact_code-error").Text(); !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %q lacks %q", c.name, msg, c.msg)
		}
		if v := p.doc.Find("#contact_code").AttrOr("value", ""); v != "" {
			t.Errorf("%s: the code box keeps %q", c.name, v)
		}
		if p.doc.Find(`a#contact-restart[href="/contact"]`).Length() != 1 {
			t.Errorf("%s: no way to start again", c.name)
		}
	}

	// Expired: the right code after its 10 minutes.
	ps.clock.Advance(11 * time.Minute)
	late := ps.confirm(t, step, raw)
	if late.status() != http.StatusGone {
		t.Errorf("an expired code: %d, want 410", late.status())
	}
	checkFieldErrors(t, late, "contact_code")
	if msg := late.doc.Find("#contact_code-error").Text(); !strings.Contains(msg, "expired") {
		t.Errorf("expired: %q", msg)
	}
	if p := ps.get(t, "/dashboard"); p.doc.Find("#contact-email").Text() != "j•••@example.com" {
		t.Errorf("a refused confirmation changed the address")
	}

	// A change id that is not this person's (or not at all) changes nothing.
	p := ps.post(t, "/contact/confirm", url.Values{"change_id": {"not-a-change"}, "code": {raw}})
	if p.status() == http.StatusSeeOther || p.doc.Find("#contact_code-error").Length() != 1 {
		t.Errorf("an unknown change id: %d", p.status())
	}
	wantRedirect(t, ps.post(t, "/contact/confirm", url.Values{"code": {raw}}), "/contact")
}

func TestContactReauthRequired(t *testing.T) {
	ps := newPageStack(t)
	ps.signInThroughPages(t, joseForm, 1)
	ps.clock.Advance(10 * time.Minute)
	step, _ := ps.startChange(t, "email", "later@example.net")
	_, code := ps.mailTo(t, 2, "later@example.net")

	// 21 minutes after signing in (the session kept alive): too late.
	ps.clock.Advance(11 * time.Minute)
	for name, p := range map[string]answer{
		"confirm": ps.confirm(t, step, code),
		"start":   ps.post(t, "/contact", url.Values{"email": {"other@example.net"}}),
	} {
		if p.status() != http.StatusForbidden {
			t.Errorf("%s after 21 minutes: %d, want 403", name, p.status())
		}
		checkLayout(t, p, "en")
		if cc := p.resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
		if txt := p.doc.Find("#reauth-required").Text(); !strings.Contains(txt, "20 minutes") {
			t.Errorf("%s: #reauth-required %q does not explain the 20 minutes", name, txt)
		}
		if p.doc.Find(`form#reauth-form[method="post"][action="/signout"] button#reauth-signout`).Length() != 1 {
			t.Errorf("%s: no sign-out-and-sign-in-again button", name)
		}
	}
	if p := ps.get(t, "/dashboard"); p.doc.Find("#contact-email").Text() != "j•••@example.com" {
		t.Errorf("the late confirmation changed the address")
	}
	if n := len(ps.smtp.Messages()); n != 2 {
		t.Errorf("%d messages, want 2: a late start sends no code", n)
	}
	wantRedirect(t, ps.post(t, "/signout", url.Values{}), "/?signed_out=1")

	// Signed in again, the change works.
	ps.signInThroughPages(t, joseForm, 3)
	step, _ = ps.startChange(t, "email", "later@example.net")
	_, code = ps.mailTo(t, 4, "later@example.net")
	wantRedirect(t, ps.confirm(t, step, code), "/dashboard?contact_changed=1")
}

func TestContactNeedsSignIn(t *testing.T) {
	ps := newPageStack(t)
	wantRedirect(t, ps.get(t, "/contact"), "/request")
	wantRedirect(t, ps.post(t, "/contact", url.Values{"email": {"x@example.com"}}), "/request")
	wantRedirect(t, ps.post(t, "/contact/confirm", url.Values{"change_id": {"x"}, "code": {"ABCDE-FGHJK"}}), "/request")
	wantRedirect(t, ps.post(t, "/cases/IOE0912345678/subscription", url.Values{"email": {"1"}}), "/request")
}

// TestContactMessagesHaveSpanish checks the portal's one contact message
// the page tests cannot provoke (their stack sends text messages) is translated.
func TestContactMessagesHaveSpanish(t *testing.T) {
	if m := "contact.no_sms"; !web.HasTranslation("es", m) {
		t.Errorf("no Spanish for %q", m)
	}
}
