package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
)

func TestBrowserFlowEnglish(t *testing.T) { browserFlow(t, "en") }
func TestBrowserFlowSpanish(t *testing.T) { browserFlow(t, "es") }
func TestBrowserFlowFrench(t *testing.T)  { browserFlow(t, "fr") }
func TestBrowserFlowChinese(t *testing.T) { browserFlow(t, "zh-Hans") }
func TestBrowserFlowArabic(t *testing.T)  { browserFlow(t, "ar") }

// browserFlow is the whole way in, as a person takes it with a mouse: home,
// the request form (first with mistakes), the code from the mailbox in a
// second tab, a mistyped code, a wrong code, the right code, the dashboard, a
// case, sign-out, and the back button; then a second request ended by five
// wrong codes, and the one way out its page offers. Every state is checked
// (axe-core among the checks) in lang.
func browserFlow(t *testing.T, lang string) {
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})

	b.open("/", "home")
	for _, sel := range []string{"#phishing-warning", `a#start-request[href="/request"]`, "a#processing-times-link"} {
		b.mustHave(sel, "home")
	}
	b.click("a#processing-times-link", "processing-times")
	b.wantPath("/processing-times", "processing times")
	for _, sel := range []string{`form#processing-times-form[method="get"] select#form`, "form#processing-times-form select#office"} {
		b.mustHave(sel, "processing times")
	}
	if !b.exists("#choose-form") && !b.exists("#no-data") {
		t.Errorf("/processing-times shows neither #choose-form nor #no-data")
	}
	b.open("/", "home-again")
	if lang != "en" {
		b.opts.lang = lang
		b.click(`form.language-switch button[name=lang][value="`+lang+`"]`, "home-"+lang)
		b.wantPath("/", "home in "+lang)
	}
	b.click("a#start-request", "request")
	b.wantPath("/request", "request")

	b.click("#request-submit", "request-empty")
	b.checkFieldErrors("request-empty", "receipt_number")

	b.fillRequest(josePerson)
	b.click("#request-submit", "verify")
	b.wantPath("/verify", "verify")
	b.checkVerifyPage()

	mail := b.sibling()
	code := mail.readCode(josePerson.email, 1)

	bad := typoOf(t, code)
	b.typeInto("#code", bad)
	b.click("#verify-submit", "verify-typo")
	b.checkFieldErrors("verify-typo", "code")
	typoMsg := b.text("#code-error")

	b.typeInto("#code", accesscode.Display(wrongCode(t, code)))
	b.click("#verify-submit", "verify-wrong")
	b.checkFieldErrors("verify-wrong", "code")
	wrongMsg := b.text("#code-error")
	if wrongMsg == typoMsg {
		t.Errorf("a mistyped code and a wrong code both say %q; the typo needs its own message", wrongMsg)
	}
	if !regexp.MustCompile(`\b4\b`).MatchString(wrongMsg) {
		t.Errorf("#code-error after the first wrong code (the typo must not count) = %q, want 4 attempts left", wrongMsg)
	}

	b.typeInto("#code", code)
	b.click("#verify-submit", "dashboard")
	b.wantPath("/dashboard", "dashboard")
	b.checkDashboard(josePerson)

	b.click(`a.case-link[href="/cases/IOE0912345678"]`, "case")
	b.wantPath("/cases/IOE0912345678", "case")
	b.checkCase("IOE0912345678", 2)

	b.click("#signout", "signed-out")
	b.wantPath("/?signed_out=1", "signed out")
	b.mustHave("#signed-out-notice", "signed out")

	// Back to the case page, then to the dashboard: neither may show again,
	// not even from the browser's back/forward cache.
	b.checkSignedOut("after sign-out and the back button", b.back("back-after-signout"))
	b.checkSignedOut("after sign-out and the back button twice", b.back("back-again-after-signout"))
	b.open("/dashboard", "dashboard-after-signout")
	b.wantPath("/request", "dashboard after sign-out")

	// A second request, ended by five wrong codes: the page offers only a
	// new request.
	endByWrongCodes(t, b, mail, 2)
}

// TestBrowserNoJavaScript takes the whole way in with the page's JavaScript
// off, a resend included: too soon first, then after the cooldown, after
// which the first code no longer works.
func TestBrowserNoJavaScript(t *testing.T) {
	const cooldown = 2 * time.Second
	s := newBrowserStack(t, func(l *portal.Limits) { l.ResendBase = cooldown })
	b := openTab(t, s.url, tabOptions{noJS: true})
	b.open("/request", "request")
	b.fillRequest(josePerson)
	b.click("#request-submit", "verify")
	b.wantPath("/verify", "verify")
	sent := time.Now()
	b.checkVerifyPage()
	if txt := b.text("#time-left"); txt == "" {
		t.Errorf("#time-left is empty without JavaScript; it should say the time in the page itself")
	}
	mail := b.sibling()
	first := mail.readCode(josePerson.email, 1)

	if resp := b.click("#resend-submit", "resend-too-soon"); resp.Status != http.StatusTooManyRequests {
		t.Errorf("resend before the cooldown: status %d, want 429", resp.Status)
	}
	b.mustHave(`#error-summary a[href="#resend-submit"]`, "resend too soon")
	// A real wait: the server and the page both count the cooldown on the
	// wall clock (a person's browser cannot share a fake one).
	time.Sleep(time.Until(sent.Add(cooldown + 200*time.Millisecond)))
	b.click("#resend-submit", "resent")
	b.wantPath("/verify?resent=1", "resent")
	b.mustHave("#resend-notice", "resent")
	code := mail.readCode(josePerson.email, 2)
	if code == first {
		t.Fatalf("the resend sent the same code again")
	}

	b.typeInto("#code", first)
	b.click("#verify-submit", "verify-old-code")
	b.checkFieldErrors("verify-old-code", "code")
	b.typeInto("#code", code)
	b.click("#verify-submit", "dashboard")
	b.wantPath("/dashboard", "dashboard")
	b.checkDashboard(josePerson)
	b.click(`a.case-link[href="/cases/IOE0912345678"]`, "case")
	b.checkCase("IOE0912345678", 2)
	b.click("#signout", "signed-out")
	b.wantPath("/?signed_out=1", "signed out")
	b.mustHave("#signed-out-notice", "signed out")
}

// fillRequest fills the request form for p: text by key presses, the
// country from its list, the code by email.
func (b *browserTab) fillRequest(p formPerson) {
	b.t.Helper()
	b.mustHave("form#request-form", "request")
	b.typeInto("#receipt_number", p.receipt)
	b.typeInto("#given_name", p.given)
	b.typeInto("#family_name", p.family)
	b.typeInto("#dob_month", strconv.Itoa(p.month))
	b.typeInto("#dob_day", strconv.Itoa(p.day))
	b.typeInto("#dob_year", strconv.Itoa(p.year))
	b.run(chromedp.SetValue("select#country_of_birth", p.country, chromedp.ByQuery))
	if got := b.value("select#country_of_birth"); got != p.country {
		b.t.Fatalf("select#country_of_birth has no option %q (got %q)", p.country, got)
	}
	b.run(chromedp.Click("#channel-email", chromedp.ByQuery, chromedp.NodeVisible))
}

// readCode opens the demo mailbox in this tab, waits for the nth message to
// to, and returns the code the newest one carries, as a person reads it.
func (b *browserTab) readCode(to string, nth int) string {
	b.t.Helper()
	var texts []string // newest first
	arrived := testenv.Eventually(15*time.Second, func() bool {
		b.navigate("/dev/mailbox")
		var msgs []struct{ To, Text string }
		b.eval(`[...document.querySelectorAll('article.message')].map(a => ({
			To: (a.querySelector('.message-to') || {}).textContent || '',
			Text: (a.querySelector('pre.message-text') || {}).textContent || ''}))`, &msgs)
		texts = nil
		for _, m := range msgs {
			if strings.Contains(m.To, to) {
				texts = append(texts, m.Text)
			}
		}
		return len(texts) >= nth
	})
	if !arrived {
		b.check("mailbox-waiting")
		b.t.Fatalf("%d messages to %s in /dev/mailbox (article.message .message-to) after 15 s, want %d", len(texts), to, nth)
	}
	b.check("mailbox")
	match := codeInMail.FindStringSubmatch(texts[0])
	if match == nil {
		b.t.Fatalf("the newest message to %s carries no code", to)
	}
	return match[1]
}

// typoOf changes the first symbol of code to another of the alphabet: the
// check symbol must catch it.
func typoOf(t *testing.T, code string) string {
	t.Helper()
	raw := strings.ReplaceAll(code, "-", "")
	i := strings.IndexByte(accesscode.Alphabet, raw[0])
	out := string(accesscode.Alphabet[(i+1)%len(accesscode.Alphabet)]) + raw[1:]
	if accesscode.Valid(out) {
		t.Fatalf("the typo %s of %s passes the check symbol", out, code)
	}
	return accesscode.Display(out)
}

// checkFieldErrors checks the error pattern of docs/pages.md on page name:
// the summary at the top of main linking to each field in error, and the
// field marked and described by its message. want must be among them.
func (b *browserTab) checkFieldErrors(name, want string) {
	b.t.Helper()
	b.mustHave(`main #error-summary[role="alert"][tabindex="-1"]`, name)
	var links []string
	b.eval(`[...document.querySelectorAll('#error-summary ul li a')].map(a => a.getAttribute('href'))`, &links)
	found := false
	for _, href := range links {
		id, ok := strings.CutPrefix(href, "#")
		if !ok {
			b.t.Errorf("page %s: error summary link %q is not to a field", name, href)
			continue
		}
		found = found || id == want
		field := fmt.Sprintf("#%s", id)
		if !b.exists(field) {
			b.t.Errorf("page %s: error summary links to %s, which is not on the page", name, href)
			continue
		}
		if b.attr(field, "aria-invalid") != "true" {
			b.t.Errorf("page %s: %s lacks aria-invalid=\"true\"", name, field)
		}
		if !strings.Contains(" "+b.attr(field, "aria-describedby")+" ", " "+id+"-error ") {
			b.t.Errorf("page %s: %s aria-describedby=%q, want it to name %s-error", name, field, b.attr(field, "aria-describedby"), id)
		}
		if b.text(fmt.Sprintf("#%s-error.field-error", id)) == "" {
			b.t.Errorf("page %s: no message in #%s-error.field-error", name, id)
		}
	}
	if !found {
		b.t.Errorf("page %s: error summary links %v, want one to #%s", name, links, want)
	}
}

// checkVerifyPage checks the parts of /verify that docs/pages.md fixes.
func (b *browserTab) checkVerifyPage() {
	b.t.Helper()
	for _, sel := range []string{
		"form#verify-form", `form#verify-form input#code[name="code"][autocomplete="one-time-code"]`, "#verify-submit",
		`form#resend-form[action="/verify/resend"]`, "button#resend-submit", "#help", "#time-left time[datetime]",
	} {
		b.mustHave(sel, "verify")
	}
	at, err := time.Parse(time.RFC3339, b.attr("#time-left time", "datetime"))
	if err != nil {
		b.t.Errorf("#time-left time[datetime]: %v", err)
	} else if d := time.Until(at); d < 5*time.Minute || d > 11*time.Minute {
		b.t.Errorf("#time-left says the code expires in %v, want about 10 minutes", d.Round(time.Second))
	}
	if b.text("#resend-submit") == "" {
		b.t.Errorf("#resend-submit has no text")
	}
	var disabled bool
	b.eval(`document.querySelector('#resend-submit').disabled`, &disabled)
	switch {
	case !b.opts.noJS && !disabled:
		b.t.Errorf("#resend-submit is enabled during the cooldown (with JavaScript on it should wait)")
	case b.opts.noJS && disabled:
		b.t.Errorf("#resend-submit is disabled with JavaScript off: it could never be used (or the page's script ran)")
	}
}

// checkDashboard checks the signed-in person's page: masked contacts, cases.
func (b *browserTab) checkDashboard(p formPerson) {
	b.t.Helper()
	b.mustHave("ul#cases > li.case", "dashboard")
	email := b.text("#contact-email")
	if email == "" || strings.Contains(email, p.email) || !strings.Contains(email, "•") {
		b.t.Errorf("#contact-email = %q, want the address on file masked (like j•••@example.com)", email)
	}
	n := b.count("ul#cases > li.case a.case-link[href^='/cases/']")
	st := b.count("ul#cases > li.case .case-status")
	if n == 0 || st != b.count("ul#cases > li.case") {
		b.t.Errorf("dashboard: %d case links and %d .case-status for %d li.case", n, st, b.count("ul#cases > li.case"))
	}
	b.mustHave("form#signout-form button#signout", "dashboard")
}

// checkCase checks a case page: the receipt number in the h1 and the
// timeline, newest first.
func (b *browserTab) checkCase(receipt string, events int) {
	b.t.Helper()
	if h1 := b.text("h1"); !strings.Contains(h1, receipt) {
		b.t.Errorf("case page h1 = %q, want it to hold %s", h1, receipt)
	}
	var times []string
	b.eval(`[...document.querySelectorAll('ol#timeline > li.event')].map(e => {
		const t = e.querySelector('time'), title = e.querySelector('.event-title');
		return (t ? t.getAttribute('datetime') || '' : '') + '|' + (title ? title.innerText.trim() : '');
	})`, &times)
	if len(times) != events {
		b.t.Fatalf("ol#timeline > li.event: %d events, want %d", len(times), events)
	}
	prev := ""
	for i, e := range times {
		dt, title, _ := strings.Cut(e, "|")
		if dt == "" || title == "" {
			b.t.Errorf("timeline event %d lacks a <time datetime> or a .event-title: %q", i, e)
		}
		if prev != "" && dt > prev {
			b.t.Errorf("timeline not newest first: %s after %s", dt, prev)
		}
		prev = dt
	}
	b.mustHave("form#signout-form button#signout", "case")
}

// checkSignedOut fails when the tab shows anything of a signed-in page;
// restored says the browser took the page from its back/forward cache.
func (b *browserTab) checkSignedOut(when string, restored bool) {
	b.t.Helper()
	var shown []string
	for _, sel := range []string{"#cases", "#timeline", "#contact-email", "#signout"} {
		if b.exists(sel) {
			shown = append(shown, sel)
		}
	}
	if len(shown) == 0 {
		return
	}
	how := "loaded from the server"
	if restored {
		how = "restored from the back/forward cache without asking the server (Cache-Control: no-store no longer keeps a page out of Chromium's cache; reload it on a persisted pageshow event)"
	}
	b.t.Errorf("%s the tab shows signed-in content %v at %s, %s", when, shown, b.path(), how)
}
