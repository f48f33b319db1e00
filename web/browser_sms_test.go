package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTextMessageFlow signs in with the code sent by text message to
// the phone on file, read from the demo mailbox as the phone would show it.
func TestBrowserTextMessageFlow(t *testing.T) {
	s := newBrowserStack(t)
	b := openTab(t, s.url, tabOptions{})
	b.open("/request", "request")
	b.fillRequest(josePerson)
	b.run(chromedp.Click("#channel-sms", chromedp.ByQuery, chromedp.NodeVisible))
	b.click("#request-submit", "verify")
	b.wantPath("/verify", "verify")
	phone := b.sibling()
	code := phone.readCode("+12015550123", 1)
	var text string
	for _, m := range s.mailbox.Messages() {
		if m.To == "+12015550123" {
			text = m.Text
		}
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "@127.0.0.1 #") || !strings.HasSuffix(last, strings.ReplaceAll(code, "-", "")) {
		t.Fatalf("the text's last line is %q, want the origin-bound form @<host> #<code>", last)
	}
	b.typeInto("#code", code)
	b.click("#verify-submit", "dashboard")
	b.wantPath("/dashboard", "dashboard")
	b.checkDashboard(josePerson)
}
