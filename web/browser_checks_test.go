package web_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/catalog"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// screenshotDir holds the screenshots of the last run (git-ignored).
const screenshotDir = "testdata/screenshots"

// cleaned holds the tests whose old screenshots are gone.
var cleaned sync.Map

// cleanScreenshots removes the screenshots an earlier run of t left, once per test.
func cleanScreenshots(t *testing.T) {
	prefix := screenshotPrefix(t)
	if _, done := cleaned.LoadOrStore(prefix, true); done {
		return
	}
	old, _ := filepath.Glob(filepath.Join(screenshotDir, prefix+"-*.png"))
	for _, f := range old {
		os.Remove(f)
	}
}

// screenshotPrefix is t's name as a file name.
func screenshotPrefix(t *testing.T) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
}

// screenshotWidths are a small phone and a laptop, in CSS pixels.
var screenshotWidths = []int64{390, 1280}

// check runs the checks every page gets: nothing the page did behind the
// test's back (dialogs, script errors, CSP violations), the parts every page
// has by docs/pages.md, axe-core, and screenshots at both widths.
func (b *browserTab) check(name string) {
	b.t.Helper()
	b.shots++
	name = fmt.Sprintf("%02d-%s", b.shots, name)
	b.checkObserved(name)
	b.checkEveryPage(name)
	b.checkAxe(name)
	b.screenshots(name)
}

// checkObserved reports dialogs and console errors seen since the last check.
func (b *browserTab) checkObserved(name string) {
	b.t.Helper()
	b.mu.Lock()
	dialogs, problems := b.dialogs, b.problems
	b.dialogs, b.problems = nil, nil
	b.mu.Unlock()
	for _, d := range dialogs {
		b.t.Errorf("page %s: a JavaScript dialog opened: %s", name, d)
	}
	for _, p := range problems {
		b.t.Errorf("page %s: %s", name, p)
	}
}

// everyPage is what docs/pages.md asks of every page.
type everyPage struct {
	Lang         string   `json:"lang"`
	H1s          int      `json:"h1s"`
	SkipLink     bool     `json:"skipLink"`
	Main         bool     `json:"main"`
	Switch       string   `json:"switch"` // the language switch's buttons: value=lang=dir=text|…
	SwitchOK     bool     `json:"switchOK"`
	InlineScript int      `json:"inlineScript"`
	StyleAttrs   []string `json:"styleAttrs"`
	Foreign      []string `json:"foreign"` // scripts and styles not from /static/
	Title        string   `json:"title"`
}

const everyPageJS = `(() => {
  const q = s => document.querySelector(s), qa = s => [...document.querySelectorAll(s)];
  const sw = q('form.language-switch');
  const btns = sw ? [...sw.querySelectorAll('button[name=lang]')] : [];
  const local = u => { try { const x = new URL(u, location.href); return x.origin === location.origin && x.pathname.startsWith('/static/'); } catch (e) { return false; } };
  return {
    lang: document.documentElement.getAttribute('lang') || '',
    h1s: qa('h1').length,
    skipLink: !!q('a.skip-link[href="#main"]'),
    main: !!q('main#main'),
    switch: btns.map(b => b.value + '=' + b.lang + '=' + b.dir + '=' + b.textContent.trim()).join('|'),
    switchOK: !!sw && (sw.getAttribute('method') || '').toLowerCase() === 'post' && new URL(sw.action).pathname === '/language' && !!sw.querySelector('input[type=hidden][name=next]'),
    inlineScript: qa('script:not([src])').filter(s => !s.type || s.type.includes('javascript') || s.type === 'module').length,
    styleAttrs: qa('[style]').map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')),
    foreign: [...qa('script[src]').map(s => s.src), ...qa('link[rel~=stylesheet]').map(l => l.href)].filter(u => !local(u)),
    title: document.title,
  };
})()`

func (b *browserTab) checkEveryPage(name string) {
	b.t.Helper()
	var p everyPage
	b.eval(everyPageJS, &p)
	t := b.t
	if p.Lang != b.opts.lang {
		t.Errorf("page %s: <html lang=%q>, want %q", name, p.Lang, b.opts.lang)
	}
	if p.H1s != 1 {
		t.Errorf("page %s: %d h1 elements, want exactly one", name, p.H1s)
	}
	if !p.SkipLink || !p.Main {
		t.Errorf("page %s: skip link a.skip-link[href=\"#main\"] present=%v, main#main present=%v; want both", name, p.SkipLink, p.Main)
	}
	other := switchButtons(b.opts.lang)
	if !p.SwitchOK || p.Switch != other {
		t.Errorf("page %s: language switch form.language-switch (POST /language, hidden next) ok=%v with button[name=lang] %q, want %q", name, p.SwitchOK, p.Switch, other)
	}
	if p.InlineScript > 0 || len(p.StyleAttrs) > 0 || len(p.Foreign) > 0 {
		t.Errorf("page %s: inline scripts %d, style attributes on %v, scripts/styles not from /static/ %v; want none", name, p.InlineScript, p.StyleAttrs, p.Foreign)
	}
	if strings.TrimSpace(p.Title) == "" {
		t.Errorf("page %s: empty <title>", name)
	}
}

// axeViolation is the part of an axe-core result a failure message needs.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

const axeRunJS = `axe.run(document, {
  runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, targets: v.nodes.map(n => n.target.join(' '))})))`

// checkAxe fails the test with every WCAG 2.1 A/AA violation axe-core finds
// on the page.
func (b *browserTab) checkAxe(name string) {
	b.t.Helper()
	for _, v := range b.axeViolations() {
		b.t.Errorf("page %s (%s): axe %s [%s]: %s — at %s", name, b.path(), v.ID, v.Impact, v.Help, strings.Join(v.Targets, " | "))
	}
}

// axeViolations injects axe-core into the page (once per document) and runs it.
func (b *browserTab) axeViolations() []axeViolation {
	b.t.Helper()
	if b.opts.noJS {
		// axe needs timers, which do not run while the page's scripts are off;
		// turning them on for the check runs none of the page's own scripts.
		b.run(emulation.SetScriptExecutionDisabled(false))
		defer b.run(emulation.SetScriptExecutionDisabled(true))
	}
	var loaded bool
	b.eval(`typeof axe !== 'undefined'`, &loaded)
	if !loaded {
		b.run(chromedp.Evaluate(b.axeSrc, nil))
	}
	var vs []axeViolation
	await := func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }
	b.run(chromedp.Evaluate(axeRunJS, &vs, await))
	return vs
}

// screenshots writes a full-page PNG of the page at each width, and fails
// the test if the page scrolls sideways at the phone width (WCAG 1.4.10).
func (b *browserTab) screenshots(name string) {
	b.t.Helper()
	if wide := b.capture(name); len(wide) > 0 {
		b.t.Errorf("page %s at %d px: the page scrolls sideways; widest elements: %s", name, screenshotWidths[0], strings.Join(wide, ", "))
	}
}

// capture writes the screenshots of the page and returns the elements that
// stick out at the phone width.
func (b *browserTab) capture(name string) (wide []string) {
	b.t.Helper()
	prefix := screenshotPrefix(b.t)
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	for _, w := range screenshotWidths {
		var png []byte
		b.run(
			emulation.SetDeviceMetricsOverride(w, 900, 1, w < 600),
			chromedp.ActionFunc(func(ctx context.Context) error {
				_, _, _, _, _, content, err := cdppage.GetLayoutMetrics().Do(ctx)
				if err != nil {
					return err
				}
				h := math.Min(math.Ceil(content.Height), 8000)
				png, err = cdppage.CaptureScreenshot().WithFormat(cdppage.CaptureScreenshotFormatPng).
					WithCaptureBeyondViewport(true).
					WithClip(&cdppage.Viewport{Width: float64(w), Height: h, Scale: 1}).Do(ctx)
				return err
			}),
		)
		file := filepath.Join(screenshotDir, fmt.Sprintf("%s-%s-%d.png", prefix, name, w))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		if w < 600 {
			b.eval(fmt.Sprintf(overflowJS, w), &wide)
		}
	}
	b.run(emulation.ClearDeviceMetricsOverride())
	return wide
}

// overflowJS lists what makes the page wider than the phone's screen: a
// missing viewport meta tag, elements past the right edge, or content
// overflowing its box.
const overflowJS = `(w => {
  const de = document.documentElement, out = [];
  if (de.clientWidth > w) out.push('layout viewport ' + de.clientWidth + 'px wide (no <meta name="viewport" content="width=device-width">?)');
  if (de.scrollWidth <= de.clientWidth) return out;
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : '');
  const els = [...document.querySelectorAll('body *')];
  let found = els.filter(e => e.getBoundingClientRect().right > de.clientWidth + 1)
    .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= de.clientWidth + 1)
    .map(e => name(e) + ' (right edge at ' + Math.round(e.getBoundingClientRect().right) + 'px)');
  if (!found.length) found = els.filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')
    .map(e => name(e) + ' (content ' + e.scrollWidth + 'px wide in ' + e.clientWidth + 'px)');
  return out.concat(found.slice(0, 5));
})(%d)`

const focusVisibleJS = `(e => {
  if (!e || e === document.body) return '';
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  if (outline || shadow) return '';
  return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).trim().split(/\s+/).join('.') : '');
})(document.activeElement)`

// checkFocusVisible fails the test when the focused element shows no focus
// outline or ring (WCAG 2.4.7), once per element.
func (b *browserTab) checkFocusVisible() {
	b.t.Helper()
	var bad string
	b.eval(focusVisibleJS, &bad)
	if bad == "" {
		return
	}
	where := b.path()
	b.mu.Lock()
	seen := b.noFocusRing[bad]
	b.noFocusRing[bad] = true
	b.mu.Unlock()
	if !seen {
		b.t.Errorf("%s: focused element %s shows no focus outline or ring", where, bad)
	}
}

// switchButtons is what the language switch of a page in lang must offer:
// every other catalog language, in catalog order, each named in itself
// and marked with its own lang and dir, as value=lang=dir=text joined by |.
func switchButtons(lang string) string {
	var out []string
	for _, l := range casegate.Languages {
		if l != lang {
			c := catalog.Default()
			out = append(out, l+"="+l+"="+c.Direction(l)+"="+c.Text(l, "language.name", nil))
		}
	}
	return strings.Join(out, "|")
}
