package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/casegate/casegate/web"
)

// wei is the fixture's second applicant, as a person would type it.
var wei = map[string]string{
	"receipt_number": "EAC2190012345", "given_name": "Wei", "family_name": "Li",
	"date_of_birth": "1988-12-31", "country_of_birth": "China", "channel": "email", "language": "en",
}

const sessionCookie = "__Host-casegate_session"

// TestSessionFixation plants a session cookie in a browser before its owner
// signs in, first a made-up one and then a live session of the attacker's
// own: sign-in always sets a new token, and the planted one never becomes the
// victim's session.
func TestSessionFixation(t *testing.T) {
	ps := newPageStack(t)
	site, _ := url.Parse(ps.pages.URL)
	plant := func(c *http.Client, value string) {
		c.Jar.SetCookies(site, []*http.Cookie{{Name: sessionCookie, Value: value, Path: "/", Secure: true}})
	}
	current := func(c *http.Client) string {
		for _, ck := range c.Jar.Cookies(site) {
			if ck.Name == sessionCookie {
				return ck.Value
			}
		}
		return ""
	}
	meOf := func(token string) (int, string) {
		resp, body := ps.do("GET", "/api/v1/me", nil, map[string]string{"Cookie": sessionCookie + "=" + token})
		return resp.StatusCode, string(body)
	}

	// A made-up token.
	const madeUp = "attacker-chose-this-token-0123456789abcdefghi"
	plant(ps.browser, madeUp)
	ps.signInThroughPages(t, joseForm, 1)
	got := current(ps.browser)
	if got == madeUp || len(got) != 43 {
		t.Fatalf("the session cookie after sign-in is %q, want a new 256-bit token", got)
	}
	if status, _ := meOf(madeUp); status != http.StatusUnauthorized {
		t.Errorf("the planted token after the victim signed in: %d, want 401", status)
	}
	if status, body := meOf(got); status != http.StatusOK || !strings.Contains(body, `"given_name":"José"`) {
		t.Errorf("the new token: %d %s", status, body)
	}

	// The attacker's own live session, planted in the victim's browser.
	attacker := ps.signIn(wei, 2)
	victim := ps.newBrowser(t)
	plant(victim, attacker)
	if before := ps.send(t, victim, "GET", "/dashboard", nil, nil); before.status() != http.StatusOK || !strings.Contains(before.doc.Find("main .lead").Text(), "Wei") {
		t.Fatalf("the planted cookie was not sent: /dashboard %d", before.status())
	}
	wantRedirect(t, ps.send(t, victim, "POST", "/request", joseForm, nil), "/verify")
	_, code := ps.waitCode(3)
	wantRedirect(t, ps.send(t, victim, "POST", "/verify", url.Values{"code": {code}}, nil), "/dashboard")
	if got := current(victim); got == attacker || len(got) != 43 {
		t.Fatalf("the victim's session cookie is %q: the attacker's token was kept", got)
	}
	if status, body := meOf(attacker); status != http.StatusOK || !strings.Contains(body, `"given_name":"Wei"`) {
		t.Errorf("the attacker's token now reads %d %s, want still Wei's own session", status, body)
	}

	// The API answers a sign-in with a new token whatever cookie came with it.
	iss := ps.requestCode(jose)
	_, code = ps.waitCode(4)
	resp, body := ps.do("POST", "/api/v1/sessions", map[string]string{"request_id": iss.RequestID, "code": code},
		map[string]string{"Cookie": sessionCookie + "=" + attacker, "Authorization": "Bearer " + attacker})
	if resp.StatusCode != http.StatusCreated || strings.Contains(string(body), attacker) {
		t.Fatalf("API sign-in with a session already: %d %s", resp.StatusCode, body)
	}
}

// TestCookieScopeFollowsThePublicURL signs in through servers with an https
// and a plain-http public URL: the session and flow cookies are Secure, and
// the session cookie __Host- prefixed, exactly when the public URL is https,
// and HSTS is sent only then.
func TestCookieScopeFollowsThePublicURL(t *testing.T) {
	for _, c := range []struct {
		public string
		secure bool
	}{
		{"https://status.casegate.test", true},
		{"http://127.0.0.1:8080", false},
		{"http://status.casegate.test", false},
	} {
		t.Run(c.public, func(t *testing.T) {
			s := newStack(t)
			serveAgain(t, s, func(d *web.Deps) { d.PublicURL, _ = url.Parse(c.public) })
			noFollow(s)
			resp, _ := s.do("POST", "/request", joseForm.Encode(),
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			flow := cookieNamed(resp, "casegate_flow")
			s.waitCode(1) // codes of two requests may arrive in either order
			iss := s.requestCode(jose)
			_, code := s.waitCode(2)
			resp, body := s.do("POST", "/api/v1/sessions", map[string]string{"request_id": iss.RequestID, "code": code}, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("sign in: %d %s", resp.StatusCode, body)
			}
			name := "casegate_session"
			if c.secure {
				name = sessionCookie
			}
			sess := cookieNamed(resp, name)
			if sess == nil || sess.Secure != c.secure || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" || sess.Domain != "" {
				t.Errorf("session cookie %+v: want %s, Secure=%v, HttpOnly, SameSite=Strict, Path=/, no Domain", sess, name, c.secure)
			}
			if flow == nil || flow.Secure != c.secure || !flow.HttpOnly {
				t.Errorf("flow cookie %+v: want Secure=%v, HttpOnly", flow, c.secure)
			}
			if hsts := resp.Header.Get("Strict-Transport-Security"); (hsts != "") != c.secure {
				t.Errorf("Strict-Transport-Security %q with public URL %s", hsts, c.public)
			}
		})
	}
}

// TestSessionCookieEndsWithTheBrowser: the session cookie set at sign-in,
// through the pages and through the API, is a browser-session cookie — no
// Expires, no Max-Age — so closing the browser on a shared computer drops it,
// and it keeps its scope; signing out deletes it.
func TestSessionCookieEndsWithTheBrowser(t *testing.T) {
	ps := newPageStack(t)
	ps.requestThroughPages(t, joseForm)
	_, code := ps.waitCode(1)
	signIn := ps.post(t, "/verify", url.Values{"code": {code}})
	wantRedirect(t, signIn, "/dashboard")
	checkBrowserSessionCookie(t, "POST /verify", signIn.resp)

	iss := ps.requestCode(wei)
	_, code = ps.waitCode(2)
	resp, body := ps.do("POST", "/api/v1/sessions", map[string]string{"request_id": iss.RequestID, "code": code}, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign in through the API: %d %s", resp.StatusCode, body)
	}
	checkBrowserSessionCookie(t, "POST /api/v1/sessions", resp)

	out := ps.post(t, "/signout", nil)
	wantRedirect(t, out, "/?signed_out=1")
	gone := cookieNamed(out.resp, sessionCookie)
	if gone == nil || gone.Value != "" || gone.MaxAge >= 0 {
		t.Errorf("sign-out cookie %+v: want %s emptied with Max-Age=0", gone, sessionCookie)
	}
}

// checkBrowserSessionCookie checks the Set-Cookie of the session in resp as
// sent: no lifetime of its own, and the scope of DESIGN §8.
func checkBrowserSessionCookie(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	var line string
	for _, l := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, sessionCookie+"=") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("%s: no %s cookie set", what, sessionCookie)
	}
	attrs := strings.ToLower(strings.ReplaceAll(line[strings.Index(line, ";")+1:], " ", ""))
	for _, lifetime := range []string{"expires=", "max-age="} {
		if strings.Contains(attrs, lifetime) {
			t.Errorf("%s: Set-Cookie %s… has %s: a persistent cookie outlives the browser", what, sessionCookie, strings.TrimSuffix(lifetime, "="))
		}
	}
	for _, want := range []string{"httponly", "secure", "samesite=strict", "path=/"} {
		if !slices.Contains(strings.Split(attrs, ";"), want) {
			t.Errorf("%s: Set-Cookie %s… lacks %s", what, sessionCookie, want)
		}
	}
}

// noFollow makes s.do return redirects instead of following them.
func noFollow(s *stack) {
	s.client = &http.Client{Transport: s.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// routePatterns reads every pattern routes.go, the one file that registers
// routes, gives the mux, with or without a method.
func routePatterns(t testing.TB) []string {
	t.Helper()
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`mux\.Handle(?:Func)?\("([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	if len(out) < 30 {
		t.Fatalf("found only %d patterns in routes.go", len(out))
	}
	return out
}

// routesOf reads the routes registered in routes.go whose method is in methods.
func routesOf(t testing.TB, methods ...string) []string {
	t.Helper()
	var out []string
	for _, p := range routePatterns(t) {
		if method, _, ok := strings.Cut(p, " "); ok && slices.Contains(methods, method) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %v routes found in routes.go", methods)
	}
	return out
}

// signedInStack is a stack with jose signed in (the cookie header), an
// admin token, and a live request id, to fill in any route.
type signedInStack struct {
	*stack
	cookie, token, admin, requestID, partyID string
}

func newSignedInStack(t testing.TB) *signedInStack {
	s := newStack(t, relaxed)
	noFollow(s)
	ss := &signedInStack{stack: s, token: s.signIn(jose, 1)}
	ss.cookie = sessionCookie + "=" + ss.token
	var err error
	if ss.admin, err = s.portal.CreateAdminToken(t.Context(), "ops", "test"); err != nil {
		t.Fatal(err)
	}
	ss.requestID = s.requestCode(stranger).RequestID
	ss.partyID = strconv.FormatInt(s.joseAfter(t).party.ID, 10)
	return ss
}

// fill puts real values into a route pattern's wildcards.
func (ss *signedInStack) fill(pattern string) string {
	return strings.NewReplacer("{$}", "", "{request_id}", ss.requestID, "{receipt_number}", "IOE0912345678",
		"{receipt}", "IOE0912345678", "{change_id}", "0123456789abcdef", "{id}", ss.partyID, "{name}", "casegate.css").Replace(pattern)
}

// TestCrossOriginRefusedOnEveryStateChange sends every POST, PUT and DELETE
// route in routes.go as a browser would from another site, with the victim's
// session cookie (and, for operator routes, a token): each is refused with
// 403, and nothing changes — not one audit event, not one message, the
// session still live. The same request from the site itself gets through.
func TestCrossOriginRefusedOnEveryStateChange(t *testing.T) {
	ss := newSignedInStack(t)
	ss.settle()
	events, mails := len(ss.auditAll(t)), len(ss.smtp.Messages())
	crossSite := []map[string]string{
		{"Origin": "https://evil.example"},
		{"Origin": "null"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.status.casegate.test"},
	}
	routes := routesOf(t, "POST", "PUT", "DELETE", "PATCH")
	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		path := ss.fill(pattern)
		for _, h := range crossSite {
			h["Cookie"] = ss.cookie
			h["Authorization"] = "Bearer " + ss.admin
			h["Content-Type"] = "application/x-www-form-urlencoded"
			resp, body := ss.do(method, path, "lang=es&next=/&email=1&code=ABCDE-FGHJK", h)
			if route == "POST /unsubscribe" {
				// Exempt by design (RFC 8058, docs/decisions.md): the link's
				// token authorizes it, and without one nothing changes.
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s with %v and no token: %d, want 400", route, h, resp.StatusCode)
				}
				continue
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with %v: %d %.100s, want 403", method, path, h, resp.StatusCode, body)
			}
			// Errors are problems on the APIs, pages elsewhere.
			ct := resp.Header.Get("Content-Type")
			if api := strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/admin/"); api {
				var p problemBody
				if ct != "application/problem+json" || json.Unmarshal(body, &p) != nil || p.Code != "cross_origin" || p.Status != http.StatusForbidden || p.Detail == "" {
					t.Errorf("%s %s with %v: %s %.200s, want a cross_origin problem", method, path, h, ct, body)
				}
			} else if ct != "text/html; charset=utf-8" {
				t.Errorf("%s %s with %v: Content-Type %q, want a page", method, path, h, ct)
			}
		}
	}
	ss.settle()
	if n := len(ss.auditAll(t)); n != events {
		t.Errorf("%d audit events after the cross-origin requests, want still %d", n, events)
	}
	if n := len(ss.smtp.Messages()); n != mails {
		t.Errorf("%d messages after the cross-origin requests, want still %d", n, mails)
	}
	if resp, _ := ss.do("GET", "/api/v1/me", nil, map[string]string{"Cookie": ss.cookie}); resp.StatusCode != http.StatusOK {
		t.Errorf("the session after cross-origin sign-outs: %d, want still live", resp.StatusCode)
	}
	t.Logf("%d state-changing routes × %d cross-site header sets refused", len(routes), len(crossSite))

	// The site itself gets through.
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "same-origin"}, {"Origin": ss.srv.URL}, {}} {
		h["Cookie"] = ss.cookie
		resp, body := ss.do("PUT", "/api/v1/cases/IOE0912345678/subscription", map[string]bool{"email": true}, h)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("same-origin subscription with %v: %d %s", h, resp.StatusCode, body)
		}
	}
}

// TestEveryAnswerRefusesFraming requests every GET route in routes.go, signed
// in and with an operator token, and a few answers that are errors: each
// forbids framing by CSP frame-ancestors 'none' and X-Frame-Options DENY.
func TestEveryAnswerRefusesFraming(t *testing.T) {
	ss := newSignedInStack(t)
	var paths []string
	for _, route := range routesOf(t, "GET") {
		paths = append(paths, ss.fill(strings.TrimPrefix(route, "GET ")))
	}
	paths = append(paths, "/nowhere", "/api/v1/nowhere", "/cases/IOE0000000000", "/verify?resent=1", "/processing-times?form=%3Cx%3E")
	for _, path := range paths {
		for _, h := range []map[string]string{
			{"Cookie": ss.cookie, "Authorization": "Bearer " + ss.admin, "Accept": "text/html"},
			{}, // signed out: redirects and 401s
		} {
			resp, _ := ss.do("GET", path, nil, h)
			checkNoFraming(t, "GET "+path, resp)
		}
	}
	for _, r := range []struct{ method, path string }{{"PUT", "/request"}, {"POST", "/request"}, {"POST", "/api/v1/access-codes"}} {
		resp, _ := ss.do(r.method, r.path, "x", map[string]string{"Origin": "https://evil.example"})
		checkNoFraming(t, r.method+" "+r.path+" cross-origin", resp)
		resp, _ = ss.do(r.method, r.path, "{", map[string]string{"Content-Type": "application/json"})
		checkNoFraming(t, r.method+" "+r.path+" malformed", resp)
	}
	t.Logf("%d GET routes and error answers checked", len(paths))
}

func checkNoFraming(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s (%d): CSP %q lacks frame-ancestors 'none'", what, resp.StatusCode, csp)
	}
	if xfo := resp.Header.Get("X-Frame-Options"); xfo != "DENY" {
		t.Errorf("%s (%d): X-Frame-Options %q, want DENY", what, resp.StatusCode, xfo)
	}
}

// openRedirects are values of the language switch's next that a browser
// would follow off the site if they were echoed: other hosts, schemes,
// backslashes and controls that browsers fold into slashes or drop, user
// info, encodings and lookalikes.
var openRedirects = []string{
	"//evil.example", "//evil.example/dashboard", "///evil.example", "////evil.example",
	`/\evil.example`, `\\evil.example`, `/\/evil.example`, `\/evil.example`, `/\\evil.example`,
	"https://evil.example", "http://evil.example", "HTTPS://evil.example", "https:evil.example",
	"https:/evil.example", "https:///evil.example", "ftp://evil.example",
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
	"vbscript:msgbox(1)", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
	" //evil.example", "\x00//evil.example", "/\x00/evil.example", "/\x0b/evil.example", "/\x7f/evil.example",
	"%2F%2Fevil.example", "/%2F/evil.example", "/%5C/evil.example", "/%09/evil.example", "%5C%5Cevil.example",
	"//evil.example%2F@status.casegate.test", "https://status.casegate.test@evil.example",
	"//status.casegate.test@evil.example", "/@evil.example", "@evil.example", "evil.example", "./evil",
	"../evil", ".//evil.example", "/.//evil.example", "/..//evil.example", "/./\\evil.example",
	"\uFF0F\uFF0Fevil.example", "/\uFF0Fevil.example", "/\u2044evil.example", "/\u3002evil.example",
	"//evil\u3002example", "//[::1]/", "//0x7f.1/", "//2130706433/", "//evil.example:443",
	"/;//evil.example", "#//evil.example", "?//evil.example", "/" + strings.Repeat("a", 3000),
	"/\u200b/evil.example", "/\u00ad/evil.example", "\u202e//evil.example",
}

// TestLanguageSwitchStaysOnSite posts every open-redirect payload as the
// language switch's next: each answer is a 303 whose Location, read the way
// browsers read it, stays on this site. Local paths are kept.
func TestLanguageSwitchStaysOnSite(t *testing.T) {
	s := newStack(t)
	noFollow(s)
	site, _ := url.Parse(s.srv.URL + "/")
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for _, next := range openRedirects {
		resp, _ := s.do("POST", "/language", url.Values{"lang": {"es"}, "next": {next}}.Encode(), form)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("next %q: %d, want 303", next, resp.StatusCode)
			continue
		}
		if to, ok := browserTarget(site, loc); !ok || to.Host != site.Host || to.Scheme != site.Scheme {
			t.Errorf("next %q: Location %q leads to %v", next, loc, to)
		}
	}
	for _, next := range []string{"/processing-times?form=I-485", "/cases/IOE0912345678", "/", "/request"} {
		resp, _ := s.do("POST", "/language", url.Values{"lang": {"es"}, "next": {next}}.Encode(), form)
		if loc := resp.Header.Get("Location"); loc != next {
			t.Errorf("local next %q: Location %q", next, loc)
		}
	}
	t.Logf("%d payloads kept on the site", len(openRedirects))
}

// browserTarget resolves a Location header against base as a browser does
// (the WHATWG URL parser): surrounding C0 controls and spaces are dropped,
// tabs and newlines removed anywhere, and backslashes read as slashes.
func browserTarget(base *url.URL, loc string) (*url.URL, bool) {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	u, err := url.Parse(loc)
	if err != nil {
		return nil, false
	}
	return base.ResolveReference(u), true
}
