package web_test

import (
	"math"
	"testing"

	"github.com/chromedp/cdproto/emulation"
)

// rtlLayout is what TestBrowserArabicMirrors measures on a page.
type rtlLayout struct {
	Dir, Direction string     // the html element's dir attribute and computed direction
	Name, Actions  rect       // the header's service name and its actions (language switch)
	Label, Input   rect       // the given name's label text and its input
	Month, Year    rect       // the date of birth's first and last boxes
	InputBidi      string     // computed unicode-bidi of the receipt number input
	TimeBidi       string     // of a time element, "" when the page has none
	Invalid        [2]float64 // the first invalid field's left and right border widths
}

type rect struct{ Left, Right float64 }

const rtlLayoutJS = `(() => {
  const q = s => document.querySelector(s);
  const box = e => { if (!e) return {left: 0, right: 0}; const r = e.getBoundingClientRect(); return {left: r.left, right: r.right}; };
  const text = e => { if (!e) return {left: 0, right: 0}; const r = document.createRange(); r.selectNodeContents(e.firstChild); return box(r); };
  const cs = e => e ? getComputedStyle(e) : null;
  const inv = q('.field-invalid'), t = q('time');
  return {
    dir: document.documentElement.getAttribute('dir') || '',
    direction: cs(document.documentElement).direction,
    name: box(q('.service-name')), actions: box(q('.header-actions')),
    label: text(q('label[for=given_name]')), input: box(q('#given_name')),
    month: box(q('#dob_month')), year: box(q('#dob_year')),
    inputBidi: q('#receipt_number') ? cs(q('#receipt_number')).unicodeBidi : '',
    timeBidi: t ? cs(t).unicodeBidi : '',
    invalid: inv ? [parseFloat(cs(inv).borderLeftWidth), parseFloat(cs(inv).borderRightWidth)] : [0, 0],
  };
})()`

// measure reads rtlLayout at a laptop's width, where the header is one row
// (on a phone the switch may wrap below the name).
func (b *browserTab) measure(l *rtlLayout) {
	b.t.Helper()
	b.run(emulation.SetDeviceMetricsOverride(1280, 900, 1, false))
	defer b.run(emulation.ClearDeviceMetricsOverride())
	b.eval(rtlLayoutJS, l)
}

// near reports whether two positions in CSS pixels are the same but for rounding.
func near(a, b float64) bool { return math.Abs(a-b) < 2 }

// TestBrowserArabicMirrors switches the home and request pages to Arabic and
// checks that the layout mirrors English: the document is right to left, the
// service name sits at the right of the header and the switch at the left,
// labels start at the right edge of their inputs, an invalid field's bar is
// on its right, and values written left to right (codes, receipt numbers,
// dates) take their own direction. open and click run every page check,
// axe-core included, on each Arabic page; French and Chinese pages get
// them too, and stay left to right.
func TestBrowserArabicMirrors(t *testing.T) {
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})
	var en, ar rtlLayout

	b.open("/request", "request-en")
	b.measure(&en)
	if en.Direction != "ltr" || !(en.Name.Left < en.Actions.Left) || !near(en.Label.Left, en.Input.Left) || !(en.Month.Left < en.Year.Left) {
		t.Errorf("English request page is not left to right as expected: %+v", en)
	}

	b.opts.lang = "ar"
	b.click(`form.language-switch button[name=lang][value="ar"]`, "request-ar")
	b.wantPath("/request", "request in Arabic")
	b.measure(&ar)
	if ar.Dir != "rtl" || ar.Direction != "rtl" {
		t.Errorf("Arabic: <html dir=%q>, computed direction %q; want rtl", ar.Dir, ar.Direction)
	}
	// Mirrored: the name ends where English's actions end, the actions
	// start where English's name starts.
	if !(ar.Name.Left > ar.Actions.Left) || !near(ar.Name.Right, en.Actions.Right) || !near(ar.Actions.Left, en.Name.Left) {
		t.Errorf("Arabic header not mirrored: name %+v, actions %+v (English: name %+v, actions %+v)",
			ar.Name, ar.Actions, en.Name, en.Actions)
	}
	if !near(ar.Label.Right, ar.Input.Right) || near(ar.Label.Left, ar.Input.Left) {
		t.Errorf("Arabic label text %+v is not aligned to the right edge of its input %+v", ar.Label, ar.Input)
	}
	// The date's boxes run from the right, month first, as the hint's
	// example "4 2 1990" does in a right-to-left line.
	if !(ar.Month.Left > ar.Year.Left) {
		t.Errorf("Arabic date boxes not mirrored: month %+v, year %+v", ar.Month, ar.Year)
	}
	if ar.InputBidi != "plaintext" {
		t.Errorf("the receipt number input has unicode-bidi %q, want plaintext so that it keeps its left-to-right order", ar.InputBidi)
	}

	// An invalid field's bar moves to the start side, the right.
	b.click("#request-submit", "request-ar-errors")
	var errs rtlLayout
	b.measure(&errs)
	if errs.Invalid[0] != 0 || errs.Invalid[1] < 3 {
		t.Errorf("Arabic invalid field borders left %v, right %v; want the bar on the right", errs.Invalid[0], errs.Invalid[1])
	}

	b.open("/", "home-ar")
	var home rtlLayout
	b.measure(&home)
	if home.Direction != "rtl" || !(home.Name.Left > home.Actions.Left) {
		t.Errorf("Arabic home page not mirrored: %+v", home)
	}

	b.open("/processing-times", "times-ar")
	var times rtlLayout
	b.measure(&times)
	if times.TimeBidi != "" && times.TimeBidi != "isolate" {
		t.Errorf("a date's time element has unicode-bidi %q, want isolate", times.TimeBidi)
	}

	// The other new languages, left to right, through the same switch and
	// the same checks.
	for _, lang := range []string{"fr", "zh-Hans"} {
		b.opts.lang = lang
		b.click(`form.language-switch button[name=lang][value="`+lang+`"]`, "times-"+lang)
		var l rtlLayout
		b.measure(&l)
		if l.Dir != "ltr" || l.Direction != "ltr" || !(l.Name.Left < l.Actions.Left) {
			t.Errorf("%s: not left to right: %+v", lang, l)
		}
	}
}
