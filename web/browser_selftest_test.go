package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserHarness checks the checks: on a page made to fail them, the
// harness sees the dialog, the script error, axe's violations and the
// sideways scroll, and writes the screenshots. Without this, a quiet harness
// would prove nothing.
func TestBrowserHarness(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><title>bad</title><body>
<img src="/x.png"><input type="text"><div id="wide">`+strings.Repeat("W", 200)+`</div>
<script>alert("dialog"); undefinedFunction();</script></body></html>`)
	}))
	t.Cleanup(bad.Close)
	b := openTab(t, bad.URL, tabOptions{})
	b.navigate("/")

	b.mu.Lock()
	dialogs, problems := b.dialogs, b.problems
	b.dialogs, b.problems = nil, nil
	b.mu.Unlock()
	if len(dialogs) != 1 || !strings.Contains(dialogs[0], "dialog") {
		t.Errorf("dialogs seen: %q, want the one alert", dialogs)
	}
	if !strings.Contains(strings.Join(problems, " "), "undefinedFunction") {
		t.Errorf("problems seen: %q, want the uncaught ReferenceError", problems)
	}

	var ids []string
	for _, v := range b.axeViolations() {
		ids = append(ids, v.ID)
		if len(v.Targets) == 0 || v.Help == "" {
			t.Errorf("axe violation %+v lacks its targets or help", v)
		}
	}
	for _, want := range []string{"html-has-lang", "image-alt", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe found %v on the bad page, want %s among them", ids, want)
		}
	}

	wide := b.capture("bad")
	if all := strings.Join(wide, " "); !strings.Contains(all, "div#wide") || !strings.Contains(all, "viewport") {
		t.Errorf("what sticks out at 390 px: %q, want the missing viewport tag and div#wide", wide)
	}
	for _, w := range screenshotWidths {
		file := filepath.Join(screenshotDir, fmt.Sprintf("%s-bad-%d.png", t.Name(), w))
		data, err := os.ReadFile(file)
		if err != nil || len(data) < 8 || string(data[1:4]) != "PNG" {
			t.Errorf("screenshot %s: %d bytes, %v; want a PNG", file, len(data), err)
		}
	}
}

// TestBrowserHarnessCSPAndFocus checks that the harness sees a CSP violation
// and an element that hides its focus.
func TestBrowserHarnessCSPAndFocus(t *testing.T) {
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>csp</title>
<p style="color: red">styled</p><button id="b">b</button></html>`)
	}))
	t.Cleanup(pages.Close)
	b := openTab(t, pages.URL, tabOptions{})
	b.navigate("/")
	b.mu.Lock()
	problems := strings.Join(b.problems, " ")
	b.problems = nil
	b.mu.Unlock()
	if !strings.Contains(problems, "Content Security Policy") {
		t.Errorf("problems seen: %q, want the refused inline style", problems)
	}

	// Chromium's own focus ring counts as visible; a page that hides it does not.
	var bad string
	b.run(chromedp.KeyEvent(kb.Tab))
	if !b.focused("#b") {
		t.Fatal("Tab did not focus button#b")
	}
	b.eval(focusVisibleJS, &bad)
	if bad != "" {
		t.Errorf("the default focus ring of button#b is not seen: %q", bad)
	}
	b.eval(`(b => { b.style.outline = 'none'; return true })(document.getElementById('b'))`, nil)
	b.eval(focusVisibleJS, &bad)
	if !strings.HasPrefix(bad, "button#b") {
		t.Errorf("a button without outline: focusVisibleJS = %q, want button#b", bad)
	}
}
