package web_test

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/casegate/casegate/accesscode"
)

// TestBrowserKeyboardOnly takes the whole way in with the keyboard alone:
// Tab, typing, arrows, Space and Enter; no clicks. Every element Tab reaches
// must show that it has the focus.
func TestBrowserKeyboardOnly(t *testing.T) {
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})
	p := josePerson

	b.open("/", "home") // typed into the address bar
	b.keys(kb.Tab)
	if !b.focused(`a.skip-link[href="#main"]`) {
		t.Errorf("the first Tab on / does not reach the skip link")
	} else {
		b.keys(kb.Enter)
		b.keys(kb.Tab)
		if !b.focused("main#main *") {
			t.Errorf("after the skip link, Tab does not go into main#main")
		}
	}
	b.tabTo("a#start-request")
	b.press(kb.Enter, "request")
	b.wantPath("/request", "request")

	for _, f := range []struct{ sel, text string }{
		{"#receipt_number", p.receipt}, {"#given_name", p.given}, {"#family_name", p.family},
		{"#dob_month", strconv.Itoa(p.month)}, {"#dob_day", strconv.Itoa(p.day)}, {"#dob_year", strconv.Itoa(p.year)},
	} {
		b.tabTo(f.sel)
		b.keys(f.text)
	}
	b.tabTo("select#country_of_birth")
	b.keys("Mexico") // a closed list jumps to the option typed
	if v := b.value("select#country_of_birth"); v != p.country {
		t.Fatalf("typing Mexico on select#country_of_birth chose %q, want %q", v, p.country)
	}
	b.tabTo("input[name=channel]")
	for range 3 {
		if b.focused("#channel-email") {
			break
		}
		b.keys(kb.ArrowUp)
	}
	if !b.focused("#channel-email") {
		t.Fatalf("the arrow keys do not reach #channel-email")
	}
	b.keys(" ")
	b.tabTo("#request-submit")
	b.press(kb.Enter, "verify")
	b.wantPath("/verify", "verify")

	code := b.sibling().readCode(p.email, 1)

	b.tabTo("#code")
	b.keys(accesscode.Display(wrongCode(t, code)))
	b.press(kb.Enter, "verify-wrong")
	b.checkFieldErrors("verify-wrong", "code")
	var focus string
	b.eval(`(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))(document.activeElement)`, &focus)
	t.Logf("after a wrong code the focus is on %s", focus)

	b.tabTo("#code")
	b.clearByKeys("#code")
	b.keys(code)
	b.press(kb.Enter, "dashboard")
	b.wantPath("/dashboard", "dashboard")
	b.checkDashboard(p)

	b.tabTo(`a.case-link[href="/cases/IOE0912345678"]`)
	b.press(kb.Enter, "case")
	b.checkCase("IOE0912345678", 2)

	b.tabTo("#signout")
	b.press(kb.Enter, "signed-out")
	b.wantPath("/?signed_out=1", "signed out")
}

// keys types keys into the focused element, key by key.
func (b *browserTab) keys(keys string) {
	b.t.Helper()
	b.run(chromedp.KeyEvent(keys))
}

// clearByKeys empties the focused field sel with End and Backspace.
func (b *browserTab) clearByKeys(sel string) {
	b.t.Helper()
	n := len([]rune(b.value(sel)))
	b.keys(kb.End)
	for range n {
		b.keys(kb.Backspace)
	}
}
