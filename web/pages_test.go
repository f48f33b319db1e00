package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/web"
)

// pageStack is a whole casegate (newStack) with a second server for the
// pages: https, a flow-cookie key, the stack's clock set to the real time
// (cookie jars expire cookies by the real clock), and a browser-like client
// with a cookie jar that does not follow redirects.
type pageStack struct {
	*stack
	h       *web.Server
	pages   *httptest.Server
	browser *http.Client
	mailbox *delivery.Mailbox
	// pageSpec checks the API exchanges with the pages' server.
	pageSpec *specGuard
}

func newPageStack(t testing.TB, opts ...stackOption) *pageStack {
	t.Helper()
	return newPageStackWith(t, nil, opts...)
}

// newPageStackWith is newPageStack with the pages' Deps changed by edit first.
func newPageStackWith(t testing.TB, edit func(*web.Deps), opts ...stackOption) *pageStack {
	t.Helper()
	s := newStack(t, opts...)
	s.clock.Set(time.Now().UTC().Truncate(time.Second))
	secret, err := accesscode.NewSecret("p1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesscode.NewKeyring([]accesscode.Secret{secret})
	if err != nil {
		t.Fatal(err)
	}
	ps := &pageStack{stack: s, mailbox: &delivery.Mailbox{}}
	public, _ := url.Parse("https://status.casegate.test")
	deps := web.Deps{
		Portal: s.portal, Importer: s.portal.Importer(), PublicURL: public,
		Ready: s.store.Ping, Keys: keys, Now: s.clock.Now, Mailbox: ps.mailbox,
		Logger: slog.New(slog.NewJSONHandler(s.logs, nil)),
	}
	if edit != nil {
		edit(&deps)
	}
	ps.h, err = web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	checked, g := guard(t, ps.h)
	ps.pages, ps.pageSpec = httptest.NewTLSServer(checked), g
	t.Cleanup(ps.pages.Close)
	ps.browser = ps.newBrowser(t)
	return ps
}

// sessionCookie returns the browser's session cookie as a Cookie header's
// value, for API requests as the signed-in person.
func (ps *pageStack) sessionCookie(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(ps.pages.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ps.browser.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("the browser holds no session cookie")
	return ""
}

// newBrowser returns a client with its own cookie jar.
func (ps *pageStack) newBrowser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := ps.pages.Client()
	return &http.Client{
		Transport: c.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// answer is one answer: the response, its body and the parsed document.
type answer struct {
	resp *http.Response
	body []byte
	doc  *goquery.Document
}

func (p answer) status() int { return p.resp.StatusCode }

// send makes one request with browser c and parses the answer.
func (ps *pageStack) send(t testing.TB, c *http.Client, method, path string, form url.Values, header map[string]string) answer {
	t.Helper()
	a := sendPage(t, c, ps.pages.URL, method, path, form, header)
	ps.pageSpec.report(t)
	return a
}

// sendPage makes one request for a page at base+path with client c, a form
// body when form is set, and parses the answer.
func sendPage(t testing.TB, c *http.Client, base, method, path string, form url.Values, header map[string]string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp: resp, body: data, doc: doc}
}

func (ps *pageStack) get(t testing.TB, path string) answer {
	t.Helper()
	return ps.send(t, ps.browser, "GET", path, nil, nil)
}

func (ps *pageStack) post(t testing.TB, path string, form url.Values) answer {
	t.Helper()
	return ps.send(t, ps.browser, "POST", path, form, nil)
}

// setLang stores the language choice in the browser's jar, as the switch does.
func (ps *pageStack) setLang(t testing.TB, lang string) {
	t.Helper()
	p := ps.post(t, "/language", url.Values{"lang": {lang}, "next": {"/"}})
	if p.status() != http.StatusSeeOther {
		t.Fatalf("switch to %s: %d", lang, p.status())
	}
}

// wantRedirect checks that p is a 303 to location.
func wantRedirect(t testing.TB, p answer, location string) {
	t.Helper()
	if p.status() != http.StatusSeeOther || p.resp.Header.Get("Location") != location {
		t.Fatalf("got %d to %q, want 303 to %q", p.status(), p.resp.Header.Get("Location"), location)
	}
}

// checkLayout checks what docs/pages.md asks of every page in lang.
func checkLayout(t testing.TB, p answer, lang string) {
	t.Helper()
	d := p.doc
	if got, _ := d.Find("html").Attr("lang"); got != lang {
		t.Errorf("html lang = %q, want %q", got, lang)
	}
	if n := d.Find("h1").Length(); n != 1 {
		t.Errorf("%d h1 elements, want 1", n)
	}
	if d.Find(`a.skip-link[href="#main"]`).Length() != 1 || d.Find("main#main").Length() != 1 {
		t.Errorf("no skip link to main#main")
	}
	other, text := "es", "Español"
	if lang == "es" {
		other, text = "en", "English"
	}
	sw := d.Find(`form.language-switch[method="post"][action="/language"]`)
	if b := sw.Find(`button[name="lang"][value="` + other + `"]`); b.Length() != 1 || strings.TrimSpace(b.Text()) != text {
		t.Errorf("no language switch to %s", other)
	}
	if next, _ := sw.Find(`input[type="hidden"][name="next"]`).Attr("value"); !strings.HasPrefix(next, "/") {
		t.Errorf("language switch next = %q", next)
	}
	if n := d.Find("script:not([src]), style, [style]").Length(); n > 0 {
		t.Errorf("%d inline scripts or styles", n)
	}
	d.Find("script[src], link[rel=stylesheet]").Each(func(_ int, s *goquery.Selection) {
		src := s.AttrOr("src", s.AttrOr("href", ""))
		if !strings.HasPrefix(src, "/static/casegate.") {
			t.Errorf("asset %q is not served from /static/", src)
		}
	})
	if ct := p.resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

// checkFieldErrors checks the error summary links to exactly ids, in order,
// and each field is marked and described by its message.
func checkFieldErrors(t testing.TB, p answer, ids ...string) {
	t.Helper()
	sum := p.doc.Find(`main > #error-summary[role="alert"][tabindex="-1"]`)
	if sum.Length() != 1 {
		t.Fatalf("no error summary at the top of main")
	}
	var got []string
	sum.Find("ul li a").Each(func(_ int, a *goquery.Selection) {
		got = append(got, strings.TrimPrefix(a.AttrOr("href", ""), "#"))
		if strings.TrimSpace(a.Text()) == "" {
			t.Errorf("summary link %s has no message", a.AttrOr("href", ""))
		}
	})
	if strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("summary links to %v, want %v", got, ids)
	}
	for _, id := range ids {
		f := p.doc.Find("#" + id)
		if f.AttrOr("aria-invalid", "") != "true" || f.AttrOr("aria-describedby", "") != id+"-error" {
			t.Errorf("#%s: aria-invalid %q, aria-describedby %q", id, f.AttrOr("aria-invalid", ""), f.AttrOr("aria-describedby", ""))
		}
		if msg := p.doc.Find("#" + id + "-error.field-error"); strings.TrimSpace(msg.Text()) == "" {
			t.Errorf("no .field-error message #%s-error", id)
		}
	}
}

func TestPublicPagesInBothLanguages(t *testing.T) {
	ps := newPageStack(t)
	for _, lang := range []string{"en", "es"} {
		t.Run(lang, func(t *testing.T) {
			ps.setLang(t, lang)
			home := ps.get(t, "/")
			checkLayout(t, home, lang)
			for _, sel := range []string{"#phishing-warning", `a#start-request[href="/request"]`, "a#processing-times-link"} {
				if home.doc.Find(sel).Length() != 1 {
					t.Errorf("home: no %s", sel)
				}
			}
			if w := home.doc.Find("#phishing-warning").Text(); !strings.Contains(w, "https://status.casegate.test") {
				t.Errorf("the phishing warning does not name the public URL: %q", w)
			}
			if home.doc.Find("#signed-out-notice").Length() != 0 {
				t.Errorf("home shows the signed-out notice unasked")
			}

			req := ps.get(t, "/request")
			checkLayout(t, req, lang)
			for _, sel := range []string{`form#request-form[method="post"][action="/request"]`, "input#receipt_number", "input#a_number",
				"input#given_name", "input#family_name", "input#dob_month", "input#dob_day", "input#dob_year",
				"select#country_of_birth", `input#channel-email[type="radio"][name="channel"][checked]`,
				`input#channel-sms[type="radio"][name="channel"]`, "button#request-submit"} {
				if req.doc.Find(sel).Length() != 1 {
					t.Errorf("request: no %s", sel)
				}
			}
			req.doc.Find("input:not([type=hidden]):not([type=radio]), select").Each(func(_ int, in *goquery.Selection) {
				if id := in.AttrOr("id", ""); req.doc.Find(`label[for="`+id+`"]`).Length() != 1 {
					t.Errorf("request: #%s has no label", id)
				}
			})
			mx := req.doc.Find(`#country_of_birth option[value="MX"]`).Text()
			if want := map[string]string{"en": "Mexico", "es": "México"}[lang]; mx != want {
				t.Errorf("country MX reads %q, want %q", mx, want)
			}
			if req.doc.Find("#error-summary").Length() != 0 {
				t.Errorf("a fresh form shows errors")
			}

			times := ps.get(t, "/processing-times")
			checkLayout(t, times, lang)
			for _, sel := range []string{`form#processing-times-form[method="get"]`, "select#form", "select#office", "#no-data"} {
				if times.doc.Find(sel).Length() != 1 {
					t.Errorf("processing times: no %s", sel)
				}
			}

			missing := ps.get(t, "/no/such/page")
			checkLayout(t, missing, lang)
			if missing.status() != http.StatusNotFound {
				t.Errorf("unknown page: %d, want 404", missing.status())
			}

			// The verify page without a request goes back to the start; with one it has its ids.
			wantRedirect(t, ps.send(t, ps.newBrowser(t), "GET", "/verify", nil, nil), "/request")
			verify, _ := ps.requestThroughPages(t, url.Values{"receipt_number": {"IOE0999999999"}, "given_name": {"Nobody"},
				"family_name": {"Here"}, "dob_month": {"1"}, "dob_day": {"1"}, "dob_year": {"1970"}, "country_of_birth": {"FR"}})
			checkLayout(t, verify, lang)
			for _, sel := range []string{"#time-left time[datetime]", "form#verify-form input#code", "button#verify-submit",
				"form#resend-form button#resend-submit", "#help", "#phishing-warning"} {
				if verify.doc.Find(sel).Length() != 1 {
					t.Errorf("verify: no %s", sel)
				}
			}
		})
	}
	if a, b := ps.get(t, "/").doc.Find("h1").Text(), ps.send(t, ps.newBrowser(t), "GET", "/", nil, nil).doc.Find("h1").Text(); a == b {
		t.Errorf("the Spanish and English home pages have the same heading %q", a)
	}
}

func TestLanguageComesFromTheCookieElseAcceptLanguage(t *testing.T) {
	ps := newPageStack(t)
	fresh := ps.newBrowser(t)
	cases := []struct{ header, want string }{
		{"", "en"}, {"es-MX,es;q=0.9", "es"}, {"de, en;q=0.5", "en"}, {"de, es;q=0.5", "es"},
		{"fr-FR,fr;q=0.9", "fr"}, {"zh-CN", "zh-Hans"}, {"ar-SA,en;q=0.5", "ar"},
	}
	for _, c := range cases {
		p := ps.send(t, fresh, "GET", "/", nil, map[string]string{"Accept-Language": c.header})
		if got := p.doc.Find("html").AttrOr("lang", ""); got != c.want {
			t.Errorf("Accept-Language %q: lang %q, want %q", c.header, got, c.want)
		}
	}
	p := ps.send(t, fresh, "POST", "/language", url.Values{"lang": {"es"}, "next": {"/processing-times?form=x"}}, nil)
	wantRedirect(t, p, "/processing-times?form=x")
	var lang *http.Cookie
	for _, c := range p.resp.Cookies() {
		if c.Name == "casegate_lang" {
			lang = c
		}
	}
	if lang == nil || lang.Value != "es" || lang.Path != "/" || !lang.Secure {
		t.Fatalf("casegate_lang cookie %+v", lang)
	}
	p = ps.send(t, fresh, "GET", "/", nil, map[string]string{"Accept-Language": "en"})
	if got := p.doc.Find("html").AttrOr("lang", ""); got != "es" {
		t.Errorf("with the cookie es and Accept-Language en: lang %q, want es", got)
	}
}

func TestOpenRedirectsRefused(t *testing.T) {
	ps := newPageStack(t)
	for _, next := range []string{"//evil.example", `/\evil.example`, "https://evil.example/", "http:evil.example",
		"/\t/evil.example", "javascript:alert(1)", "", "evil"} {
		p := ps.post(t, "/language", url.Values{"lang": {"es"}, "next": {next}})
		wantRedirect(t, p, "/")
	}
	// An unknown language changes nothing and still goes back.
	p := ps.post(t, "/language", url.Values{"lang": {"de"}, "next": {"/request"}})
	wantRedirect(t, p, "/request")
	if len(p.resp.Cookies()) != 0 {
		t.Errorf("an unknown language set cookies %v", p.resp.Cookies())
	}
}
