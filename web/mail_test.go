package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
)

// newDKIM makes an Ed25519 key file and loads it as CASEGATE_DKIM_KEY_FILE
// does, signing for the stack's From domain.
func newDKIM(t *testing.T) *delivery.DKIM {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := testenv.KeyFile(t, key, false)
	d, err := delivery.LoadDKIM(path, "casegate", "casegate.test")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkSigned verifies m's DKIM signature as a receiving server would,
// looking the key up in a DNS stub that holds the record DNSRecord gives.
func checkSigned(t *testing.T, d *delivery.DKIM, m smtptest.Mail) {
	t.Helper()
	name, value, err := d.DNSRecord()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Raw), &dkim.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
		if domain == name {
			return []string{value}, nil
		}
		return nil, errors.New("no such record")
	}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "casegate.test" {
		t.Fatalf("%q: DKIM %v %+v", m.Subject, err, vs)
	}
}

func (p answer) text(sel string) string { return strings.TrimSpace(p.doc.Find(sel).Text()) }

// page sends a request for a page (a form body when form is set) to the
// stack, as a browser that does not follow redirects.
func (s *stack) page(t *testing.T, method, path string, form url.Values, header map[string]string) answer {
	t.Helper()
	client := *s.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return sendPage(t, &client, s.srv.URL, method, path, form, header)
}

// subscribedByEmail reports whether José hears of case IOE0912345678 by email.
func (s *stack) subscribedByEmail(t *testing.T, token string) bool {
	t.Helper()
	_, body := s.do("GET", "/api/v1/cases/IOE0912345678", nil, bearerH(token))
	return strings.Contains(string(body), `"subscription":{"email":true`)
}

// unsubscribeAudits returns the unsubscribe events, oldest first.
func (s *stack) unsubscribeAudits(t *testing.T) []casegate.AuditEvent {
	t.Helper()
	events, err := s.portal.AuditEvents(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []casegate.AuditEvent
	for _, e := range events {
		if e.Action == "subscription.unsubscribed" {
			out = append(out, e)
		}
	}
	return out
}

// TestNoticeUnsubscribeEndToEnd follows a status notice from the outbox to
// the real SMTP server and its one-click link back to casegate: signed mail,
// the headers on the notice only, a page that asks before it acts, the
// provider's POST from another origin, and links that do not work.
func TestNoticeUnsubscribeEndToEnd(t *testing.T) {
	d := newDKIM(t)
	s := newStackWith(t, stackMail{dkim: d}, relaxed)
	jt := s.signIn(jose, 1)
	code := s.smtp.Messages()[0]
	checkSigned(t, d, code)
	if code.Header.Get("List-Unsubscribe") != "" || code.Header.Get("List-Unsubscribe-Post") != "" {
		t.Errorf("a code email offers to unsubscribe: %v", code.Header)
	}
	if id := code.Header.Get("Message-Id"); !strings.HasSuffix(id, "@casegate.test>") {
		t.Errorf("Message-ID %q is not at the From domain", id)
	}

	if resp, body := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", map[string]bool{"email": true}, bearerH(jt)); resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %d %s", resp.StatusCode, body)
	}
	post := func(status string) {
		t.Helper()
		if _, _, err := s.portal.PostStatusEvent(context.Background(), "IOE0912345678", portal.StatusEventInput{Status: status}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	post("interview_scheduled")
	msgs, err := s.smtp.WaitFor(2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	notice := msgs[1]
	checkSigned(t, d, notice)
	if notice.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("notice headers: %v", notice.Header)
	}
	link := strings.TrimSuffix(strings.TrimPrefix(notice.Header.Get("List-Unsubscribe"), "<"), ">")
	if !strings.HasPrefix(link, "https://status.casegate.test/unsubscribe?t=") {
		t.Fatalf("List-Unsubscribe = %q", notice.Header.Get("List-Unsubscribe"))
	}
	// The same link is in the text, for a person to open.
	if !strings.Contains(notice.Text, "To stop these emails about this case, open "+link+".") {
		t.Errorf("the notice's text has no unsubscribe line with the link:\n%s", notice.Text)
	}
	u, _ := url.Parse(link)
	path := u.RequestURI()

	// Opening the link (or a scanner following it) only asks.
	for range 2 {
		ask := s.page(t, "GET", path, nil, map[string]string{"Accept-Language": "en"})
		if ask.status() != http.StatusOK || ask.text("h1") != "Stop emails about case IOE0912345678" {
			t.Fatalf("GET the link: %d %q", ask.status(), ask.text("h1"))
		}
		form := ask.doc.Find("form#unsubscribe-form[method=post][action='/unsubscribe']")
		if form.Length() != 1 || form.Find("button[type=submit]").Length() != 1 || form.Find("input[name=t]").AttrOr("value", "") != u.Query().Get("t") {
			t.Fatal("the page has no form with the link's token and a button")
		}
		if ask.resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", ask.resp.Header.Get("Cache-Control"))
		}
	}
	if !s.subscribedByEmail(t, jt) || len(s.unsubscribeAudits(t)) != 0 {
		t.Fatal("a GET of the link unsubscribed")
	}

	// The form's origin check stays on for every other form...
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://mail.example.net"}
	if other := s.page(t, "POST", "/language", url.Values{"lang": {"es"}, "next": {"/"}}, crossSite); other.status() != http.StatusForbidden {
		t.Fatalf("a cross-site POST to /language: %d, want 403", other.status())
	}
	// ...but a mail provider's one-click POST, from wherever, is taken.
	done := s.page(t, "POST", path, url.Values{"List-Unsubscribe": {"One-Click"}}, crossSite)
	if done.status() != http.StatusOK || done.doc.Find("#unsubscribed").Length() != 1 {
		t.Fatalf("one-click POST: %d %q", done.status(), done.text("main"))
	}
	if s.subscribedByEmail(t, jt) {
		t.Fatal("still subscribed by email after the one-click POST")
	}
	// The page's own button, pressed later, changes nothing more.
	if again := s.page(t, "POST", "/unsubscribe", url.Values{"t": {u.Query().Get("t")}}, nil); again.status() != http.StatusOK {
		t.Fatalf("the page's button: %d", again.status())
	}
	// A provider may send the one-click body as multipart/form-data.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	if resp, body := s.do("POST", path, mp.String(), map[string]string{"Content-Type": mw.FormDataContentType()}); resp.StatusCode != http.StatusOK {
		t.Fatalf("multipart one-click POST: %d %.200s", resp.StatusCode, body)
	}
	audits := s.unsubscribeAudits(t)
	if len(audits) != 3 || audits[0].Outcome != "ok" || audits[0].Details["via"] != "one_click" ||
		audits[0].Actor == "" || audits[0].Target != "case:IOE0912345678" || audits[0].IPHash == "" ||
		audits[1].Outcome != "not_subscribed" || audits[1].Details["via"] != "page" || audits[2].Details["via"] != "one_click" {
		t.Errorf("audit: %+v", audits)
	}

	// No more notices by email.
	s.clock.Advance(time.Minute)
	post("approved")
	s.settle()
	if n := len(s.smtp.Messages()); n != 2 {
		t.Errorf("%d messages after unsubscribing, want 2", n)
	}

	// Links that do not work get a page that says so, never a 500.
	tok := u.Query().Get("t")
	forged := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	for _, bad := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/unsubscribe?t=" + forged, nil},
		{"GET", "/unsubscribe", nil},
		{"GET", "/unsubscribe?t=%00%ff", nil},
		{"POST", "/unsubscribe?t=" + forged, url.Values{"List-Unsubscribe": {"One-Click"}}},
		{"POST", "/unsubscribe", url.Values{"t": {strings.Repeat("x", 5000)}}},
	} {
		p := s.page(t, bad.method, bad.path, bad.form, map[string]string{"Accept-Language": "en"})
		if p.status() != http.StatusBadRequest || !strings.Contains(p.text("main"), "This link to stop emails does not work.") {
			t.Errorf("%s %.40s: %d %q", bad.method, bad.path, p.status(), p.text("main"))
		}
	}
	s.clock.Advance(delivery.DefaultUnsubscribeTTL)
	for _, lang := range []string{"en", "es"} {
		p := s.page(t, "GET", path, nil, map[string]string{"Accept-Language": lang})
		want := map[string]string{"en": "This link to stop emails has expired.", "es": "Este enlace para dejar de recibir correos ha caducado."}[lang]
		if p.status() != http.StatusBadRequest || !strings.Contains(p.text("main"), want) {
			t.Errorf("expired link in %s: %d %q", lang, p.status(), p.text("main"))
		}
	}
	if len(s.unsubscribeAudits(t)) != 3 {
		t.Error("a refused link was audited as an unsubscribe")
	}
}
