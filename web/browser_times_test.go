package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

// TestBrowserProcessingTimes is asked for a form, reads the public processing
// times of all forms, filters them,
// switches to Spanish, then signs in and finds Jose's case outside normal
// processing time, and subscribes to it.
func TestBrowserProcessingTimes(t *testing.T) {
	s := newBrowserStackWithSetup(t, func(st casegate.Store, p *portal.Portal) {
		timesForJose(t, st, p, time.Now, -30) // Jose's inquiry date passed 30 days ago
	})
	b := openTab(t, s.url, tabOptions{})
	b.open("/", "home")
	b.click("a#processing-times-link", "times")
	b.wantPath("/processing-times", "times")
	b.mustHave("#choose-form", "times")
	if b.exists("table#processing-times") {
		t.Errorf("the rows show before a form is chosen")
	}
	b.click("#processing-times-form button[type=submit]", "times-all")
	b.wantPath("/processing-times?form=&office=", "times all")
	b.mustHave("table#processing-times caption", "times")
	if n := b.count("table#processing-times tbody tr"); n != 4 {
		t.Errorf("%d rows of processing times, want 4 (two forms, each whole and in one group)", n)
	}
	if c := b.text("table#processing-times caption"); !strings.Contains(c, time.Now().UTC().Format("January 2, 2006")) {
		t.Errorf("caption %q lacks today's date", c)
	}
	b.run(chromedp.SetValue("select#form", "I-765", chromedp.ByQuery))
	b.click("#processing-times-form button[type=submit]", "times-filtered")
	b.wantPath("/processing-times?form=I-765&office=", "times filtered")
	if n := b.count("table#processing-times tbody tr"); n != 2 {
		t.Errorf("%d rows for form I-765, want 2", n)
	}
	b.opts.lang = "es"
	b.click(`form.language-switch button[name=lang][value="es"]`, "times-es")
	if h := b.text("table#processing-times thead th:last-child"); h != "Casos contados" {
		t.Errorf("Spanish column %q", h)
	}
	b.opts.lang = "en"
	b.click(`form.language-switch button[name=lang][value="en"]`, "times-en")

	b.open("/request", "request")
	b.fillRequest(josePerson)
	b.click("#request-submit", "verify")
	code := b.sibling().readCode(josePerson.email, 1)
	b.typeInto("#code", code)
	b.click("#verify-submit", "dashboard")
	b.wantPath("/dashboard", "dashboard")
	if m := b.text("li.case .case-outside-normal"); m == "" {
		t.Errorf("the dashboard does not mark Jose's case outside normal processing time")
	}

	b.click(`a.case-link[href="/cases/IOE0912345678"]`, "case")
	b.mustHave("#inquiry-date time[datetime]", "case")
	b.mustHave("#outside-normal", "case")
	if txt := b.text("#outside-normal"); !strings.Contains(txt, "IOE0912345678") {
		t.Errorf("#outside-normal %q does not give the receipt number to quote", txt)
	}
	if b.text("ol#timeline > li.event .event-description") == "" {
		t.Errorf("timeline events have no description")
	}

	b.run(chromedp.Click("#subscribe-email", chromedp.ByQuery, chromedp.NodeVisible))
	b.click("#subscription-submit", "case-subscribed")
	b.wantPath("/cases/IOE0912345678?subscribed=1", "subscribed")
	b.mustHave("#subscription-notice", "subscribed")
	var ticked bool
	b.eval(`document.querySelector('#subscribe-email').checked && !document.querySelector('#subscribe-sms').checked`, &ticked)
	if !ticked {
		t.Errorf("after subscribing by email the boxes do not show it")
	}
}
