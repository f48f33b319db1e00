package web_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserXSSName signs in as the party whose given name is a script tag
// and whose family name has quotes: no dialog may open on any page, and the
// names must read exactly as on file.
func TestBrowserXSSName(t *testing.T) {
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})

	// Reflected: a malformed receipt number re-renders the form with what was typed.
	b.open("/request", "request")
	p := xssPerson
	p.receipt = `"><script>alert("r")</script>`
	b.fillRequest(p)
	b.click("#request-submit", "request-errors")
	b.checkFieldErrors("request-errors", "receipt_number")
	for sel, want := range map[string]string{"#receipt_number": p.receipt, "#given_name": xssGiven, "#family_name": xssFamily} {
		if got := b.value(sel); got != want {
			t.Errorf("after the error %s holds %q, want what was typed, %q", sel, got, want)
		}
	}

	b.typeInto("#receipt_number", xssReceipt)
	b.click("#request-submit", "verify")
	b.wantPath("/verify", "verify")
	code := b.sibling().readCode(xssEmail, 1)
	b.typeInto("#code", code)
	b.click("#verify-submit", "dashboard")
	b.wantPath("/dashboard", "dashboard")
	body := b.text("body")
	for _, name := range []string{xssGiven, xssFamily} {
		if !strings.Contains(body, name) {
			t.Errorf("the dashboard does not show the name on file %q as text", name)
		}
	}
	if n := b.count("script:not([src])"); n > 0 {
		t.Errorf("the dashboard holds %d inline script elements", n)
	}
	b.click(`a.case-link[href="/cases/`+xssReceipt+`"]`, "case")
	b.checkCase(xssReceipt, 1)

	resp := b.open("/cases/"+url.PathEscape(`<script>alert("p")</script>`), "case-not-found")
	if resp.Status != http.StatusNotFound {
		t.Errorf("a case page for a script tag: status %d, want 404", resp.Status)
	}
	b.open(`/nothing-here"><script>alert("q")</script>`, "not-found")
}

// TestBrowserSecurityHeaders signs in and checks the headers of every page
// the browser loaded on the way (DESIGN §8).
func TestBrowserSecurityHeaders(t *testing.T) {
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})
	b.open("/", "home")
	b.click("a#start-request", "request")
	b.fillRequest(josePerson)
	b.click("#request-submit", "verify")
	mail := b.sibling()
	code := mail.readCode(josePerson.email, 1)
	b.typeInto("#code", code)
	b.click("#verify-submit", "dashboard")
	b.click(`a.case-link[href="/cases/IOE0912345678"]`, "case")

	noStore := map[string]bool{"/verify": true, "/dashboard": true, "/cases/IOE0912345678": true}
	seen := map[string]bool{}
	var docs []*network.Response
	for _, tb := range []*browserTab{b, mail} {
		tb.mu.Lock()
		docs = append(docs, tb.docs...)
		tb.mu.Unlock()
	}
	for _, d := range docs {
		u, err := url.Parse(d.URL)
		if err != nil || !strings.HasPrefix(d.URL, s.url) {
			continue
		}
		seen[u.Path] = true
		checkSecurityHeaders(t, u.Path, d.Headers, noStore[u.Path])
	}
	for _, p := range []string{"/", "/request", "/verify", "/dev/mailbox", "/dashboard", "/cases/IOE0912345678"} {
		if !seen[p] {
			t.Errorf("the browser never loaded %s, so its headers went unchecked", p)
		}
	}

	for _, p := range []string{"/static/casegate.css", "/static/casegate.js"} {
		resp, err := http.Get(s.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: status %d, X-Content-Type-Options %q; want 200 and nosniff", p, resp.StatusCode, resp.Header.Get("X-Content-Type-Options"))
		}
	}
}

// header reads a header from the browser's view of a response, whatever its case.
func responseHeader(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

func checkSecurityHeaders(t *testing.T, path string, h network.Headers, noStore bool) {
	t.Helper()
	csp := responseHeader(h, "Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q, want one without unsafe-inline or unsafe-eval, with frame-ancestors 'none'", path, csp)
	}
	if v := responseHeader(h, "X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", path, v)
	}
	if v := responseHeader(h, "Referrer-Policy"); v != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q, want no-referrer", path, v)
	}
	if v := responseHeader(h, "Cache-Control"); noStore && !strings.Contains(v, "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", path, v)
	}
}

// attackerPage is another site's page that posts the request form to the
// portal as soon as it loads.
var attackerPage = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en"><title>Win a prize</title>
<form method="post" action="{{.}}/request">
<input name="receipt_number" value="IOE0912345678"><input name="given_name" value="Jose">
<input name="family_name" value="Garcia Lopez"><input name="dob_month" value="4">
<input name="dob_day" value="2"><input name="dob_year" value="1990">
<input name="country_of_birth" value="MX"><input name="channel" value="email">
</form>
<script>document.forms[0].submit()</script>
</html>`))

// TestBrowserCrossOriginPost has a page of another origin post a form to the
// portal: the portal must refuse it, and no code may be sent.
func TestBrowserCrossOriginPost(t *testing.T) {
	s := newBrowserStack(t)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		attackerPage.Execute(w, s.url)
	}))
	t.Cleanup(attacker.Close)
	_, port, _ := strings.Cut(strings.TrimPrefix(attacker.URL, "http://"), ":")

	for _, from := range []struct{ name, origin string }{
		{"cross-site", "http://localhost:" + port},
		{"same-site", attacker.URL}, // the same host on another port: another origin
	} {
		origin := from.origin
		b := openTab(t, s.url, tabOptions{})
		if _, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(origin+"/")); err != nil {
			t.Fatalf("open %s: %v", origin, err)
		}
		resp := b.waitDocument(s.url + "/request")
		if resp.Status != http.StatusForbidden {
			t.Errorf("a form posted from %s to /request: status %d, want 403", origin, resp.Status)
		}
		if strings.HasPrefix(resp.MimeType, "text/html") {
			b.check("refused-" + from.name)
		} else {
			t.Logf("the refusal is %s, not a page (no language, no way back)", resp.MimeType)
		}
	}
	s.settle() // whatever a post queued has been sent
	if n := len(s.mailbox.Messages()); n != 0 {
		t.Errorf("%d messages sent after cross-origin posts; want none", n)
	}
}

// waitDocument waits up to 10 s for the tab to receive a page from url.
func (b *browserTab) waitDocument(url string) *network.Response {
	b.t.Helper()
	var found *network.Response
	received := testenv.Eventually(10*time.Second, func() bool {
		b.mu.Lock()
		found = nil
		for _, d := range b.docs {
			if d.URL == url {
				found = d
			}
		}
		b.mu.Unlock()
		if found == nil {
			return false
		}
		var loaded bool
		b.eval(fmt.Sprintf(`location.href === %q && document.readyState === 'complete'`, url), &loaded)
		return loaded
	})
	if !received {
		b.t.Fatalf("the tab never received %s", url)
	}
	return found
}
