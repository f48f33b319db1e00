package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Markup in every field that is ever displayed. Each is printable text that
// the importer accepts, so only escaping stands between it and a browser.
const (
	storedGiven    = `Eve<script>alert('given')</script>`
	storedFamily   = `Mallory"><img src=x onerror=alert('family')>`
	storedCategory = `<svg onload=alert('category')>`
	storedOffice   = `NBC<iframe src=javascript:alert('office')>`
	storedTitle    = `<b onmouseover=alert('title')>Approved?</b>`
	storedEvent    = `<img src=x onerror=alert('event')>`
)

// storedMarkupCases are two cases of one party with markup in names, category, office
// and a custom status title, one finished (so processing times show its
// category and office) and one waiting on the custom status; then three
// lines with markup where the importer accepts none: the form type, the
// receipt number and the email address.
func storedMarkupCases(now time.Time) string {
	day := func(n int) string { return now.AddDate(0, 0, -n).Format(time.DateOnly) }
	at := func(n int) string { return now.AddDate(0, 0, -n).Format(time.RFC3339) }
	party := fmt.Sprintf(`{"role":"beneficiary","given_name":%q,"family_name":%q,"date_of_birth":"1991-05-06","country_of_birth":"IE","a_number":"A200000001","email":"eve@example.com"}`, storedGiven, storedFamily)
	return fmt.Sprintf(`{"receipt_number":"LIN2190077777","form_type":"I-130","category":%q,"office":%q,"received_on":%q,"history":[{"status":"received","at":%q},{"status":"approved","at":%q}],"parties":[%s]}
{"receipt_number":"LIN2190088888","form_type":"I-130","category":%[1]q,"office":%[2]q,"received_on":%[3]q,"history":[{"status":"received","at":%[4]q},{"status":"custom_step","title":%[7]q,"at":%[5]q}],"parties":[%[6]s]}
{"receipt_number":"LIN2190099998","form_type":"I-130<script>","office":"NBC","received_on":%[3]q,"parties":[%[6]s]}
{"receipt_number":"LIN<script>1","form_type":"I-130","office":"NBC","received_on":%[3]q,"parties":[%[6]s]}
{"receipt_number":"LIN2190099997","form_type":"I-130","office":"NBC","received_on":%[3]q,"parties":[{"role":"applicant","given_name":"A","family_name":"B","date_of_birth":"1990-01-01","country_of_birth":"IE","email":"\"><svg/onload=alert(1)>@example.com"}]}
`, storedCategory, storedOffice, day(120), at(120), at(30), party, storedTitle)
}

// TestStoredMarkupIsEscapedEverywhere imports markup in every displayed
// field through the operator API, signs in as its party through the pages,
// and reads every page that shows those fields, the API answers, and the
// status message an operator's event sends: each shows the markup as text
// and carries none of it as markup. Fields with a strict form refuse it.
func TestStoredMarkupIsEscapedEverywhere(t *testing.T) {
	ps := newPageStack(t, relaxed)
	admin, err := ps.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	op := map[string]string{"Authorization": "Bearer " + admin}
	resp, body := ps.do("POST", "/admin/v1/cases", storedMarkupCases(ps.clock.Now()), map[string]string{"Authorization": "Bearer " + admin, "Content-Type": "application/x-ndjson"})
	var res struct {
		Created  int
		Rejected []struct {
			Line  int
			Error string
		}
	}
	mustJSON(t, body, &res)
	if resp.StatusCode != http.StatusOK || res.Created != 2 || len(res.Rejected) != 3 {
		t.Fatalf("import: %d %s, want 2 created and lines 3-5 rejected", resp.StatusCode, body)
	}
	for i, r := range res.Rejected {
		if r.Line != i+3 || !strings.Contains(r.Error, []string{"form_type", "receipt_number", "email"}[i]) {
			t.Errorf("rejection %+v", r)
		}
	}
	// Nine more finished cases of the markup's category and office, so that
	// its processing time is published (a figure needs 10 cases).
	publishTimes(t, ps.store, ps.portal, ps.clock.Now, finishedCases("SRC", "I-130", storedCategory, storedOffice, finishedDay(ps.clock.Now), 10, 20, 30, 40, 50, 60, 70, 80, 90))
	if resp, body := ps.do("POST", "/admin/v1/processing-times/recompute", nil, op); resp.StatusCode != http.StatusOK {
		t.Fatalf("recompute: %d %s", resp.StatusCode, body)
	}

	form := url.Values{"receipt_number": {"LIN2190088888"}, "given_name": {storedGiven}, "family_name": {storedFamily},
		"dob_month": {"5"}, "dob_day": {"6"}, "dob_year": {"1991"}, "country_of_birth": {"IE"}, "channel": {"email"}}
	dash := ps.signInThroughPages(t, form, 1)
	checkEscaped(t, "dashboard", dash, storedGiven+" "+storedFamily, storedCategory, storedTitle)
	checkEscaped(t, "finished case", ps.get(t, "/cases/LIN2190077777"), storedCategory, storedOffice)
	checkEscaped(t, "waiting case", ps.get(t, "/cases/LIN2190088888"), storedCategory, storedOffice, storedTitle)
	checkEscaped(t, "processing times", ps.get(t, "/processing-times?form="), storedCategory, storedOffice)
	checkEscaped(t, "processing times for the office", ps.get(t, "/processing-times?form=I-130&office="+url.QueryEscape(storedOffice)), storedCategory, storedOffice)
	checkEscaped(t, "contact", ps.get(t, "/contact"))

	// API answers are JSON that no browser will sniff as HTML.
	cookie := ps.sessionCookie(t)
	for _, path := range []string{"/api/v1/me", "/api/v1/cases/LIN2190088888", "/api/v1/processing-times"} {
		resp, body := ps.do("GET", path, nil, map[string]string{"Cookie": cookie})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || bytes.ContainsAny(body, "<>") {
			t.Errorf("%s: %d %s, nosniff %q, want JSON with < and > escaped", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))
		}
	}

	// A status message carries an operator's markup as text.
	if p := ps.post(t, "/cases/LIN2190088888/subscription", url.Values{"email": {"1"}}); p.status() != http.StatusSeeOther {
		t.Fatalf("subscribe: %d", p.status())
	}
	resp, body = ps.do("POST", "/admin/v1/cases/LIN2190088888/events", map[string]string{"status": "custom_notice", "title": storedEvent}, op)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post event: %d %s", resp.StatusCode, body)
	}
	msgs, err := ps.smtp.WaitFor(2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[1]
	if !strings.Contains(m.HTML, "&lt;img src=x onerror=alert(&#39;event&#39;)&gt;") || strings.Contains(m.HTML, storedEvent) {
		t.Errorf("the status email's HTML does not escape the title:\n%s", m.HTML)
	}
	checkEscaped(t, "case after the event", ps.get(t, "/cases/LIN2190088888"), storedEvent)
}

// checkEscaped fails when p holds markup that did not come from the
// templates, or any of the xss values raw; each of shown must appear as text.
func checkEscaped(t *testing.T, where string, p answer, shown ...string) {
	t.Helper()
	if p.status() != http.StatusOK {
		t.Errorf("%s: %d", where, p.status())
		return
	}
	if n := p.doc.Find(`script:not([src^="/static/"]), img, svg, iframe, b, [onerror], [onload], [onmouseover]`).Length(); n > 0 {
		t.Errorf("%s: %d injected elements", where, n)
	}
	for _, raw := range []string{storedGiven, storedFamily, storedCategory, storedOffice, storedTitle, storedEvent} {
		if bytes.Contains(p.body, []byte(raw)) {
			t.Errorf("%s: the body holds %q unescaped", where, raw)
		}
	}
	text := p.doc.Text()
	for _, s := range shown {
		if !strings.Contains(text, s) {
			t.Errorf("%s: %q is not shown as text", where, s)
		}
	}
}

// TestStatusTitleCannotInjectMailHeaders posts status events whose titles
// carry a line break and a header, to a case with a subscriber: the operator
// API refuses each, as the importer does, and no message goes out. A plain
// title with markup-free text still notifies, to the subscriber alone.
func TestStatusTitleCannotInjectMailHeaders(t *testing.T) {
	s := newStack(t, relaxed)
	token := s.signIn(jose, 1)
	if resp, body := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", map[string]bool{"email": true}, bearerH(token)); resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %d %s", resp.StatusCode, body)
	}
	admin, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"Done\r\nBcc: thief@evil.example", "Done\nBcc: thief@evil.example", "Done\rBcc: thief@evil.example",
		"Done\u2028Bcc: thief@evil.example", "Done\x00", "Done\tBcc: x", "Done\u0085Bcc: x"} {
		resp, body := s.do("POST", "/admin/v1/cases/IOE0912345678/events", map[string]string{"status": "custom_step", "title": title}, bearerH(admin))
		var p problemBody
		mustJSON(t, body, &p)
		if resp.StatusCode != http.StatusBadRequest || p.Errors["title"] == "" {
			t.Errorf("title %q: %d %s, want 400 naming the title", title, resp.StatusCode, body)
		}
	}
	resp, body := s.do("POST", "/admin/v1/cases/IOE0912345678/events", map[string]string{"status": "custom_step", "title": "Done: Bcc thief@evil.example"}, bearerH(admin))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("plain title: %d %s", resp.StatusCode, body)
	}
	msgs, err := s.smtp.WaitFor(2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.settle()
	if n := len(s.smtp.Messages()); n != 2 {
		t.Errorf("%d messages, want the code and one status message", n)
	}
	if m := msgs[1]; len(m.To) != 1 || m.To[0] != "jose@example.com" || m.Header.Get("Bcc") != "" {
		t.Errorf("status message to %v, Bcc %q", m.To, m.Header.Get("Bcc"))
	}
}
