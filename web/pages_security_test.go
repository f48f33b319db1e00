package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

const (
	evilGiven  = `<script>alert(1)</script>`
	evilFamily = `O'Brien "Quote" <b>Bold</b>`
	evilTitle  = `<img src=x onerror=alert(2)>`
)

// evilCase is a case whose party's names and whose custom status title are markup.
var evilCase = fmt.Sprintf(`{"receipt_number":"LIN2190099999","form_type":"I-130","office":"NBC","received_on":"2025-02-01","history":[{"status":"received","at":"2025-02-01T10:00:00Z"},{"status":"custom_step","title":%q,"at":"2025-02-10T10:00:00Z"}],"parties":[{"role":"beneficiary","given_name":%q,"family_name":%q,"date_of_birth":"1991-05-06","country_of_birth":"IE","email":"evil@example.com"}]}`,
	evilTitle, evilGiven, evilFamily)

// noInjectedMarkup fails when the page holds markup that did not come from
// the templates: any script other than ours, any image, any bold.
func noInjectedMarkup(t testing.TB, where string, p answer) {
	t.Helper()
	if n := p.doc.Find("script:not([src^='/static/']), img, b, [onerror]").Length(); n > 0 {
		t.Errorf("%s: %d injected elements", where, n)
	}
	for _, raw := range []string{evilGiven, evilTitle, "<b>Bold</b>"} {
		if bytes.Contains(p.body, []byte(raw)) {
			t.Errorf("%s: the body holds %q unescaped", where, raw)
		}
	}
}

func TestMarkupInNamesIsEscapedEverywhere(t *testing.T) {
	ps := newPageStack(t)
	res, err := ps.portal.Importer().Import(context.Background(), strings.NewReader(evilCase), "jsonl", "test", nil)
	if err != nil || res.Created != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	form := url.Values{"receipt_number": {"LIN2190099999"}, "given_name": {evilGiven}, "family_name": {evilFamily},
		"dob_month": {"5"}, "dob_day": {"6"}, "dob_year": {"1991"}, "country_of_birth": {"IE"}, "channel": {"email"}}

	// Reflected: the form re-rendered with what was typed.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("receipt_number", `"><script>alert(3)</script>`)
	re := ps.post(t, "/request", bad)
	noInjectedMarkup(t, "request form", re)
	if re.doc.Find("#given_name").AttrOr("value", "") != evilGiven || re.doc.Find("#family_name").AttrOr("value", "") != evilFamily ||
		re.doc.Find("#receipt_number").AttrOr("value", "") != bad.Get("receipt_number") {
		t.Errorf("the typed values were not kept exactly")
	}

	// Stored: the names on file and the custom title.
	dash := ps.signInThroughPages(t, form, 1)
	noInjectedMarkup(t, "dashboard", dash)
	if got := dash.doc.Find("main .lead").First().Text(); !strings.Contains(got, evilGiven+" "+evilFamily) {
		t.Errorf("the dashboard greets %q, want the names as text", got)
	}
	if st := dash.doc.Find(".case-status").Text(); !strings.Contains(st, evilTitle) {
		t.Errorf("the custom status reads %q", st)
	}
	one := ps.get(t, "/cases/LIN2190099999")
	noInjectedMarkup(t, "case", one)
	if got := one.doc.Find("ol#timeline li.event .event-title").First().Text(); got != evilTitle {
		t.Errorf("the custom title reads %q", got)
	}
	missing := ps.get(t, "/cases/"+url.PathEscape(`<script>alert(4)</script>`))
	noInjectedMarkup(t, "case not found", missing)
	if missing.status() != http.StatusNotFound {
		t.Errorf("a case named by a script: %d", missing.status())
	}
	nothing := ps.get(t, `/nothing"><script>alert(5)</script>`)
	noInjectedMarkup(t, "404", nothing)
	if next := nothing.doc.Find(`input[name="next"]`).AttrOr("value", ""); !strings.HasPrefix(next, "/nothing") {
		t.Errorf("404 language switch next %q", next)
	}
}

func TestFlowCookieIsSignedAndNeverInAURL(t *testing.T) {
	ps := newPageStack(t)
	p := ps.post(t, "/request", joseForm)
	wantRedirect(t, p, "/verify")
	flow := flowCookieOf(p)
	parts := strings.Split(flow.Value, ".")
	if len(parts) < 3 {
		t.Fatalf("flow cookie %q", flow.Value)
	}
	requestID := parts[1]
	verify := ps.get(t, "/verify")
	if verify.status() != http.StatusOK {
		t.Fatalf("verify with the flow cookie: %d", verify.status())
	}
	for _, where := range []string{p.resp.Header.Get("Location"), string(verify.body)} {
		if strings.Contains(where, requestID) {
			t.Errorf("the request id appears outside the cookie: %.200s", where)
		}
	}

	// The same request id with another expiry, or another id with the old tag.
	fresh := ps.newBrowser(t)
	for _, forged := range []string{
		strings.Replace(flow.Value, requestID, strings.Repeat("0", len(requestID)), 1),
		strings.Join(append(append([]string{}, parts[:len(parts)-2]...), "9999999999", parts[len(parts)-1]), "."),
		flow.Value[:len(flow.Value)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", flow.Value[len(flow.Value)-1])+1)%16]),
		"v1." + requestID,
	} {
		for _, try := range []struct{ method, path string }{{"GET", "/verify"}, {"POST", "/verify"}, {"POST", "/verify/resend"}} {
			req := ps.send(t, fresh, try.method, try.path, url.Values{"code": {"ABCDE-FGHJK"}}, map[string]string{"Cookie": "casegate_flow=" + forged})
			wantRedirect(t, req, "/request")
		}
	}
}

func TestCrossOriginPostsRefused(t *testing.T) {
	ps := newPageStack(t)
	cases := []struct {
		name   string
		header map[string]string
		refuse bool
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}, true},
		{"Origin of another site", map[string]string{"Origin": "https://evil.example"}, true},
		{"Sec-Fetch-Site same-origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, false},
		{"Origin of this site", map[string]string{"Origin": ps.pages.URL}, false},
		{"no browser headers", nil, false},
	}
	for _, c := range cases {
		for _, path := range []string{"/request", "/verify", "/signout", "/language"} {
			p := ps.send(t, ps.newBrowser(t), "POST", path, url.Values{"lang": {"es"}, "next": {"/"}}, c.header)
			if refused := p.status() == http.StatusForbidden; refused != c.refuse {
				t.Errorf("%s to %s: %d", c.name, path, p.status())
			}
			if c.refuse {
				checkLayout(t, p, "en")
			}
		}
	}
}

func TestPageSecurityHeaders(t *testing.T) {
	ps := newPageStack(t)
	for _, path := range []string{"/", "/request", "/processing-times", "/nowhere", "/static/casegate.css"} {
		p := ps.get(t, path)
		h := p.resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}

func TestStaticFilesAreHashedAndCached(t *testing.T) {
	ps := newPageStack(t)
	home := ps.get(t, "/")
	for _, sel := range []string{`link[rel="stylesheet"]`, "script[src]"} {
		href := home.doc.Find(sel).AttrOr("href", home.doc.Find(sel).AttrOr("src", ""))
		p := ps.get(t, href)
		if p.status() != http.StatusOK || !strings.Contains(p.resp.Header.Get("Cache-Control"), "immutable") || p.resp.Header.Get("ETag") == "" {
			t.Errorf("%s: %d, Cache-Control %q, ETag %q", href, p.status(), p.resp.Header.Get("Cache-Control"), p.resp.Header.Get("ETag"))
		}
		if v := strings.TrimPrefix(href[strings.Index(href, "?"):], "?v="); !strings.Contains(p.resp.Header.Get("ETag"), v) {
			t.Errorf("%s: the link's hash is not the ETag %q", href, p.resp.Header.Get("ETag"))
		}
		bare := ps.send(t, ps.browser, "GET", href[:strings.Index(href, "?")], nil, map[string]string{"If-None-Match": p.resp.Header.Get("ETag")})
		if bare.status() != http.StatusNotModified {
			t.Errorf("%s revalidated with its ETag: %d, want 304", href, bare.status())
		}
	}
	css := ps.get(t, "/static/casegate.css")
	if ct := css.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") || css.resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("unhashed CSS: %s, %s", ct, css.resp.Header.Get("Cache-Control"))
	}
	if p := ps.get(t, "/static/nope.js"); p.status() != http.StatusNotFound {
		t.Errorf("unknown static file: %d", p.status())
	}
}

// FuzzPageForms posts arbitrary bodies to the page forms: never a server
// error, never a panic.
func FuzzPageForms(f *testing.F) {
	ps := newPageStack(f, relaxed)
	rec := httptest.NewRecorder()
	ps.h.ServeHTTP(rec, formRequest("/request", joseForm.Encode(), ""))
	flow := rec.Result().Cookies()
	if len(flow) == 0 {
		f.Fatal("no flow cookie")
	}
	cookie := flow[0].Name + "=" + flow[0].Value
	f.Add("/request", joseForm.Encode())
	f.Add("/request", "receipt_number=%zz&given_name=\xff\xfe&dob_month=13&dob_day=-1&dob_year=99999&country_of_birth=Atlantis&channel=fax")
	f.Add("/request", "a_number=A0000000&a_number=A1&given_name="+strings.Repeat("x", 300))
	f.Add("/verify", "code=")
	f.Add("/verify", "code=K7M2Q-9XH4R")
	f.Add("/verify", "code=%00%01;;&&==")
	f.Add("/verify/resend", "")
	f.Add("/language", "lang=es&next=//evil")
	f.Fuzz(func(t *testing.T, path, body string) {
		switch path {
		case "/request", "/verify", "/verify/resend", "/language", "/signout":
		default:
			path = "/request"
		}
		rec := httptest.NewRecorder()
		ps.h.ServeHTTP(rec, formRequest(path, body, cookie))
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d", path, body, rec.Code)
		}
		if rec.Code == http.StatusOK || rec.Code >= 400 {
			if _, err := goquery.NewDocumentFromReader(rec.Body); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func formRequest(path, body, cookie string) *http.Request {
	r := httptest.NewRequest("POST", "https://status.casegate.test"+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	return r
}
