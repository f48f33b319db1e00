package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/catalog"
	"github.com/casegate/casegate/portal"
)

// anaForm is the fixture's representative on Jose's case.
var anaForm = url.Values{
	"receipt_number": {"IOE0912345678"}, "a_number": {""}, "given_name": {"Ana"}, "family_name": {"Smith"},
	"dob_month": {"1"}, "dob_day": {"1"}, "dob_year": {"1975"}, "country_of_birth": {"US"}, "channel": {"email"},
}

// text is the catalog's message key in lang.
func text(lang, key string) string { return catalog.Default().Text(lang, key, nil) }

func TestFiveWrongCodesOfferOnlyANewRequest(t *testing.T) {
	ps := newPageStack(t)
	ps.requestThroughPages(t, joseForm)
	_, code := ps.waitCode(1)
	var last answer
	for range 5 {
		last = ps.post(t, "/verify", url.Values{"code": {wrongCode(t, code)}})
	}
	if last.status() != http.StatusTooManyRequests {
		t.Fatalf("the fifth wrong code: %d, want 429", last.status())
	}
	d := last.doc
	for _, sel := range []string{"form#verify-form", "input#code", "form#resend-form", "#time-left", "#resend-at"} {
		if d.Find(sel).Length() != 0 {
			t.Errorf("a dead request still shows %s, which cannot help", sel)
		}
	}
	if d.Find(`a#new-request[href="/request"]`).Length() != 1 {
		t.Errorf("no a#new-request to /request: the one way out")
	}
	if d.Find(`#error-summary a[href="#new-request"]`).Length() != 1 {
		t.Errorf("the error summary does not link to the way out")
	}
	if d.Find("h1").Length() != 1 {
		t.Errorf("%d h1", d.Find("h1").Length())
	}
	if f := flowCookieOf(last); f == nil || f.MaxAge >= 0 {
		t.Errorf("the flow cookie of a dead request is kept: %+v", f)
	}
	// Coming back to /verify starts again rather than showing the dead box.
	wantRedirect(t, ps.get(t, "/verify"), "/request")
}

func TestSignedInHeaderOnEveryPage(t *testing.T) {
	ps := newPageStack(t)
	for _, path := range []string{"/", "/processing-times", "/request"} {
		p := ps.get(t, path)
		if p.doc.Find("#signout-form, #your-cases").Length() != 0 {
			t.Errorf("%s signed out shows the signed-in header", path)
		}
	}
	ps.signInThroughPages(t, joseForm, 1)
	for _, path := range []string{"/", "/processing-times", "/request", "/dashboard", "/cases/IOE0912345678", "/no-such-page"} {
		p := ps.get(t, path)
		if p.doc.Find(`header form#signout-form[method="post"][action="/signout"] button#signout`).Length() != 1 {
			t.Errorf("%s signed in: no sign-out in the header", path)
		}
		if p.doc.Find(`header a#your-cases[href="/dashboard"]`).Length() != 1 {
			t.Errorf("%s signed in: no a#your-cases in the header", path)
		}
		if cc := p.resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s signed in: Cache-Control %q, want no-store (it shows who is signed in)", path, cc)
		}
	}
	wantRedirect(t, ps.post(t, "/signout", url.Values{}), "/?signed_out=1")
	if p := ps.get(t, "/?signed_out=1"); p.doc.Find("#signout-form, #your-cases").Length() != 0 {
		t.Errorf("after sign-out the header still offers it")
	}
	// A cookie the server no longer knows is no sign-in.
	p := ps.send(t, ps.newBrowser(t), "GET", "/", nil, map[string]string{"Cookie": sessionCookie + "=bogus"})
	if p.doc.Find("#signout-form, #your-cases").Length() != 0 {
		t.Errorf("an unknown session cookie shows the signed-in header")
	}
}

func TestDateHintSaysTheOrder(t *testing.T) {
	ps := newPageStack(t)
	for _, lang := range []string{"en", "es"} {
		p := ps.send(t, ps.browser, "GET", "/request", nil, map[string]string{"Accept-Language": lang})
		hint := strings.ToLower(p.doc.Find("form#request-form").Text())
		want := map[string][]string{"en": {"month", "day", "year"}, "es": {"mes", "día", "año"}}[lang]
		if !strings.Contains(hint, strings.Join(want, ", ")) {
			t.Errorf("%s: the date hint does not say the order %v", lang, want)
		}
	}
}

func TestResendWaitIsATimeWithoutScript(t *testing.T) {
	ps := newPageStack(t)
	verify, _ := ps.requestThroughPages(t, joseForm)
	at := ps.clock.Now().Add(30 * time.Second).UTC()
	el := verify.doc.Find("#resend-at time")
	if el.AttrOr("datetime", "") != at.Format(time.RFC3339) || el.Text() != at.Format("15:04")+" UTC" {
		t.Errorf("#resend-at time: %q %q, want %s and %s UTC", el.AttrOr("datetime", ""), el.Text(), at.Format(time.RFC3339), at.Format("15:04"))
	}
	// The button itself holds no stale countdown: the script writes it.
	if b := strings.TrimSpace(verify.doc.Find("#resend-submit").Text()); b != text("en", "verify.send_a_new_code") {
		t.Errorf("the resend button says %q without a script", b)
	}
	ps.clock.Advance(31 * time.Second)
	if p := ps.get(t, "/verify"); p.doc.Find("#resend-at").Length() != 0 {
		t.Errorf("#resend-at shows after the wait")
	}
}

func TestTitleSaysErrorWhenThePageShowsOne(t *testing.T) {
	ps := newPageStack(t)
	title := func(p answer) string { return strings.TrimSpace(p.doc.Find("title").Text()) }
	if got := title(ps.get(t, "/request")); strings.HasPrefix(got, "Error") {
		t.Errorf("a form without errors is titled %q", got)
	}
	bad := ps.post(t, "/request", url.Values{"receipt_number": {"nope"}})
	if got := title(bad); !strings.HasPrefix(got, "Error: ") {
		t.Errorf("a form with errors is titled %q, want Error: first", got)
	}
	if got := title(ps.get(t, "/no-such-page")); !strings.HasPrefix(got, "Error: ") {
		t.Errorf("the 404 page is titled %q", got)
	}
	es := ps.send(t, ps.browser, "GET", "/no-such-page", nil, map[string]string{"Accept-Language": "es"})
	if got, want := title(es), text("es", "layout.error_title_prefix")+" "; !strings.HasPrefix(got, want) {
		t.Errorf("the Spanish 404 page is titled %q, want %q first", got, want)
	}
	ps.requestThroughPages(t, joseForm)
	_, code := ps.waitCode(1)
	if got := title(ps.post(t, "/verify", url.Values{"code": {wrongCode(t, code)}})); !strings.HasPrefix(got, "Error: ") {
		t.Errorf("a wrong code is titled %q", got)
	}
	if got := title(ps.get(t, "/verify")); strings.HasPrefix(got, "Error") {
		t.Errorf("the verify page again is titled %q", got)
	}
}

func TestRepresentativeIsNotAddressedAsTheApplicant(t *testing.T) {
	ps := newPageStack(t)
	dash := ps.signInThroughPages(t, anaForm, 1)
	li := dash.doc.Find("li.case")
	if got := li.Find(".case-role").Text(); !strings.Contains(got, text("en", "role.representative")) {
		t.Errorf("the dashboard does not say Ana's role: %q", got)
	}
	p := ps.get(t, "/cases/IOE0912345678")
	desc := p.doc.Find(".case-status-description").Text()
	if desc != text("en", "status.biometrics_scheduled.description_watcher") || desc == text("en", "status.biometrics_scheduled.description") {
		t.Errorf("case page to a representative: %q", desc)
	}
	for _, s := range []string{desc, p.doc.Find("#timeline .event-description").Text()} {
		if strings.Contains(s, "mailed you") || strings.Contains(s, "your ") {
			t.Errorf("a representative is addressed as the applicant: %q", s)
		}
	}

	// The status message says it in the representative's words too.
	wantRedirect(t, ps.post(t, "/cases/IOE0912345678/subscription", url.Values{"email": {"1"}}), "/cases/IOE0912345678?subscribed=1")
	before := len(ps.smtp.Messages())
	if _, _, err := ps.portal.PostStatusEvent(context.Background(), "IOE0912345678", portal.StatusEventInput{Status: "denied"}, "test"); err != nil {
		t.Fatal(err)
	}
	msgs, err := ps.smtp.WaitFor(before+1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[before]
	if !strings.Contains(m.Text, text("en", "status.denied.description_watcher")) || strings.Contains(m.Text, "mailed you") {
		t.Errorf("status message to the representative:\n%s", m.Text)
	}
}

func TestApplicantKeepsTheirWording(t *testing.T) {
	ps := newPageStack(t)
	ps.signInThroughPages(t, joseForm, 1)
	st, _ := casegate.Status("biometrics_scheduled")
	p := ps.get(t, "/cases/IOE0912345678")
	if got := p.doc.Find(".case-status-description").Text(); got != st.Description("en") {
		t.Errorf("case page to the applicant: %q", got)
	}
	if p := ps.get(t, "/dashboard"); p.doc.Find(".case-role").Length() != 0 {
		t.Errorf("the applicant is told their role")
	}
}

func TestFaviconIsLinkedAndCached(t *testing.T) {
	ps := newPageStack(t)
	p := ps.get(t, "/")
	href := p.doc.Find(`head link[rel="icon"][type="image/svg+xml"]`).AttrOr("href", "")
	if !strings.HasPrefix(href, "/static/favicon.svg?v=") {
		t.Fatalf("no hashed SVG icon link: %q", href)
	}
	icon := ps.get(t, href)
	if icon.status() != http.StatusOK || icon.resp.Header.Get("Content-Type") != "image/svg+xml" ||
		!strings.Contains(icon.resp.Header.Get("Cache-Control"), "immutable") || !strings.Contains(string(icon.body), "<svg") {
		t.Errorf("icon: %d %q %q", icon.status(), icon.resp.Header.Get("Content-Type"), icon.resp.Header.Get("Cache-Control"))
	}
}

// TestSentencesEndInTheirLanguage: a sentence that ends with a time ends
// with the page language's full stop, "。" in Chinese.
func TestSentencesEndInTheirLanguage(t *testing.T) {
	for lang, stop := range map[string]string{"en": ".", "zh-Hans": "。"} {
		ps := newPageStack(t)
		ps.setLang(t, lang)
		verify, _ := ps.requestThroughPages(t, joseForm)
		sel := verify.doc.Find("time").First().Parent()
		if got := strings.TrimSpace(sel.Text()); !strings.HasSuffix(got, stop) {
			t.Errorf("%s: the code's lifetime sentence %q does not end with %q", lang, got, stop)
		}
	}
}
