package web_test

import (
	"testing"

	"github.com/casegate/casegate/accesscode"
)

// TestBrowserSignedInHeaderAndDeadEnd signs in, finds the way back to the
// cases and out on the public pages, the back link clear of the header and
// the icon linked; then ends a second request with five wrong codes and
// takes the one way out the page offers.
func TestBrowserSignedInHeaderAndDeadEnd(t *testing.T) {
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})
	mail := signInJose(b)

	for _, path := range []string{"/", "/processing-times"} {
		b.open(path, "signed-in")
		b.mustHave("header #signout-form #signout", path)
		b.mustHave(`header a#your-cases[href="/dashboard"]`, path)
	}
	b.click("#your-cases", "your-cases")
	b.wantPath("/dashboard", "your cases")
	if !b.exists(`link[rel="icon"][type="image/svg+xml"]`) {
		t.Errorf("no icon linked")
	}

	b.open("/cases/IOE0912345678", "case")
	var gap float64
	b.eval(`document.querySelector('.back-link').getBoundingClientRect().top - document.querySelector('.site-header').getBoundingClientRect().bottom`, &gap)
	if gap < 16 {
		t.Errorf("\"Back to your cases\" is %.0f px below the header, want at least 16", gap)
	}

	b.click("#signout", "signed-out")
	b.open("/request", "request-again")
	endByWrongCodes(t, b, mail, 2)
}

// endByWrongCodes asks for José's code on the request page b is on, reads
// it (the nth message to him) from mail, enters five wrong codes, and checks
// that the page then offers only its one way out, a new request, and that
// it leads to the request page.
func endByWrongCodes(t *testing.T, b, mail *browserTab, nth int) {
	t.Helper()
	b.fillRequest(josePerson)
	b.click("#request-submit", "verify-again")
	code := mail.readCode(josePerson.email, nth)
	for range 5 {
		b.typeInto("#code", accesscode.Display(wrongCode(t, code)))
		b.click("#verify-submit", "verify-wrong")
	}
	for _, sel := range []string{"#code", "#resend-submit", "#time-left"} {
		if b.exists(sel) {
			t.Errorf("a dead request still shows %s", sel)
		}
	}
	b.mustHave(`#error-summary a[href="#new-request"]`, "dead request")
	b.click("#new-request", "new-request")
	b.wantPath("/request", "the way out")
}
