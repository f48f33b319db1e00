package web_test

import (
	"strings"
	"testing"

	"github.com/casegate/casegate/branding"
	"github.com/casegate/casegate/web"
)

// TestBrowserAgency shows the pages with an agency's logo, name, contact
// lines and help address in Chromium, in English and in Arabic: axe-core
// finds no violation (the checks every page gets), the logo loads under the
// page's Content-Security-Policy with nothing reported, and in Arabic the
// page is right to left while the contact lines keep their own direction.
func TestBrowserAgency(t *testing.T) {
	logo, err := branding.CheckLogo(".svg", []byte(testLogo))
	if err != nil {
		t.Fatal(err)
	}
	s := newBrowserStackWithDeps(t, nil, func(d *web.Deps) { d.Agency, d.Logo = testAgency, logo })
	for _, lang := range []string{"en", "ar"} {
		b := openTab(t, s.url, tabOptions{})
		b.open("/", "home")
		if lang != "en" {
			b.opts.lang = lang
			b.click(`form.language-switch button[name=lang][value="`+lang+`"]`, "home-"+lang)
		}
		var loaded bool
		b.eval(`(() => { const i = document.querySelector('header img.agency-logo'); return !!i && i.complete && i.naturalWidth > 0; })()`, &loaded)
		if !loaded {
			t.Errorf("%s: the logo did not load", lang)
		}
		if alt := b.attr("header img.agency-logo", "alt"); alt != testAgency.Name {
			t.Errorf("%s: logo alt %q", lang, alt)
		}
		if got := b.text("footer #agency address"); !strings.Contains(got, testAgency.Contact[0]) || !strings.Contains(got, testAgency.Contact[1]) {
			t.Errorf("%s: contact lines %q", lang, got)
		}
		var dirs string
		b.eval(`document.documentElement.dir + ' ' + getComputedStyle(document.querySelector('footer #agency address span')).direction`, &dirs)
		if want := map[string]string{"en": "ltr ltr", "ar": "rtl ltr"}[lang]; dirs != want {
			t.Errorf("%s: page and contact line directions %q, want %q", lang, dirs, want)
		}
		b.mustHave(`footer #help-address a[href="mailto:help@migration.example.gov"]`, lang)
		b.click("a#start-request", "request-"+lang)
		b.fillRequest(josePerson)
		b.click("#request-submit", "verify-"+lang)
		b.mustHave(`#help #verify-help a[href="mailto:help@migration.example.gov"]`, "verify "+lang)
		b.open("/no-such-page", "not-found-"+lang)
		b.mustHave("main #error-help a", "not found "+lang)
	}
}
