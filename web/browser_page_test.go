package web_test

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// typeInto empties the field sel and types text into it, key by key.
func (b *browserTab) typeInto(sel, text string) {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`(e => !!e && (e.value = '', true))(document.querySelector(%q))`, sel), &ok)
	if !ok {
		b.t.Fatalf("%s: no field %s", b.path(), sel)
	}
	if err := chromedp.Run(b.ctx, chromedp.SendKeys(sel, text, chromedp.ByQuery)); err != nil {
		b.t.Fatalf("typing into %s: %v", sel, err)
	}
}

// eval evaluates a JavaScript expression in the page (DevTools runs it even
// with the page's own JavaScript off) and decodes its JSON value into res.
func (b *browserTab) eval(expr string, res any) {
	b.t.Helper()
	b.run(chromedp.Evaluate(expr, res))
}

// exists reports whether sel matches an element.
func (b *browserTab) exists(sel string) bool {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`document.querySelector(%q) !== null`, sel), &ok)
	return ok
}

// count is the number of elements sel matches.
func (b *browserTab) count(sel string) int {
	b.t.Helper()
	var n int
	b.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n)
	return n
}

// text is the visible text of the first element sel matches, "" without one.
func (b *browserTab) text(sel string) string {
	b.t.Helper()
	var s string
	b.eval(fmt.Sprintf(`(e => e ? e.innerText.trim() : "")(document.querySelector(%q))`, sel), &s)
	return s
}

// attr is attribute name of the first element sel matches, "" without one.
func (b *browserTab) attr(sel, name string) string {
	b.t.Helper()
	var s string
	b.eval(fmt.Sprintf(`(e => e ? (e.getAttribute(%q) ?? "") : "")(document.querySelector(%q))`, name, sel), &s)
	return s
}

// value is the current value of the form control sel.
func (b *browserTab) value(sel string) string {
	b.t.Helper()
	var s string
	b.eval(fmt.Sprintf(`(e => e ? e.value : "")(document.querySelector(%q))`, sel), &s)
	return s
}

// path is the path (and query) of the page the tab shows.
func (b *browserTab) path() string {
	b.t.Helper()
	var loc string
	b.run(chromedp.Location(&loc))
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u.RequestURI()
}

// mustHave fails the test now unless sel matches an element on page name.
func (b *browserTab) mustHave(sel, name string) {
	b.t.Helper()
	if !b.exists(sel) {
		b.t.Fatalf("page %s (%s): no element %s (docs/pages.md)", name, b.path(), sel)
	}
}

// wantPath fails the test now unless the tab shows path (query ignored when want has none).
func (b *browserTab) wantPath(want, name string) {
	b.t.Helper()
	got := b.path()
	if !strings.Contains(want, "?") {
		got, _, _ = strings.Cut(got, "?")
	}
	if got != want {
		b.t.Fatalf("page %s: at %s, want %s", name, got, want)
	}
}

// focused tells whether the focused element matches sel.
func (b *browserTab) focused(sel string) bool {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`(e => !!e && e.matches(%q))(document.activeElement)`, sel), &ok)
	return ok
}

// tabTo presses Tab until the focused element matches sel, as a keyboard
// user does, and checks that every element it passes shows its focus.
func (b *browserTab) tabTo(sel string) {
	b.t.Helper()
	for range 60 {
		b.run(chromedp.KeyEvent(kb.Tab))
		b.checkFocusVisible()
		if b.focused(sel) {
			return
		}
	}
	b.t.Fatalf("%s: Tab never reached %s", b.path(), sel)
}
