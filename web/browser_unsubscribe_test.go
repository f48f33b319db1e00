package web_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
)

var unsubscribeLink = regexp.MustCompile(`https?://\S+(/unsubscribe\?t=[A-Za-z0-9_-]+)`)

// TestBrowserUnsubscribe opens the unsubscribe link of a real notice in a
// browser that is not signed in and runs no JavaScript: the page asks, its
// button stops the emails, and both pages, and that of a link that does not
// work, pass the checks every page gets (axe-core among them).
func TestBrowserUnsubscribe(t *testing.T) {
	var p *portal.Portal
	s := newBrowserStackWithSetup(t, func(_ casegate.Store, pt *portal.Portal) { p = pt })
	b := openTab(t, s.url, tabOptions{})
	mail := signInJose(b)
	b.open("/cases/IOE0912345678", "case")
	b.run(chromedp.Click("#subscribe-email", chromedp.ByQuery, chromedp.NodeVisible))
	b.click("#subscription-submit", "subscribed")
	if _, _, err := p.PostStatusEvent(t.Context(), "IOE0912345678", portal.StatusEventInput{Status: "interview_scheduled"}, "test"); err != nil {
		t.Fatal(err)
	}
	var path string
	if !testenv.Eventually(15*time.Second, func() bool {
		for _, text := range mail.mailTexts(josePerson.email) {
			if m := unsubscribeLink.FindStringSubmatch(text); m != nil {
				path = m[1]
				return true
			}
		}
		return false
	}) {
		t.Fatal("no notice with an unsubscribe link reached the mailbox")
	}

	noJS := openTab(t, s.url, tabOptions{noJS: true})
	noJS.open(path, "unsubscribe-ask")
	if !strings.Contains(noJS.text("h1"), "IOE0912345678") || !noJS.exists("form#unsubscribe-form button#unsubscribe-submit") {
		t.Fatalf("the unsubscribe page: h1 %q", noJS.text("h1"))
	}
	noJS.click("#unsubscribe-submit", "unsubscribed")
	noJS.mustHave("#unsubscribed", "unsubscribed")
	noJS.open("/unsubscribe?t=AAAA", "unsubscribe-bad-link")
	if !strings.Contains(noJS.text("main"), "This link to stop emails does not work.") {
		t.Errorf("a bad link's page says %q", noJS.text("main"))
	}
}
