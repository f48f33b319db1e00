package delivery

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

func TestUnsubscribeOnEmailedNoticesOnly(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	box := &Mailbox{}
	w.Senders[casegate.ChannelSMS] = box
	e.queueCode("ch-code", "code@example.com")
	e.queueNotice("notice@example.com")
	e.update(func(tx casegate.Tx) error {
		lockout := casegate.Delivery{PartyID: e.party, Channel: casegate.ChannelEmail, Destination: "lockout@example.com",
			Template: casegate.TemplateLockoutNotice, Language: "en", CreatedAt: t0}
		sms := casegate.Delivery{PartyID: e.party, Channel: casegate.ChannelSMS, Destination: "+12015550123",
			Template: casegate.TemplateStatusUpdate, Language: "en", CreatedAt: t0,
			Params: map[string]string{"receipt_number": "IOE0912345678", "status": "approved", "role": "applicant"}}
		if err := tx.EnqueueDelivery(e.ctx, &lockout); err != nil {
			return err
		}
		return tx.EnqueueDelivery(e.ctx, &sms)
	})
	e.runOnce(w, 4)
	msgs, err := e.server.WaitFor(3, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		unsub, post := m.Header.Get("List-Unsubscribe"), m.Header.Get("List-Unsubscribe-Post")
		if m.To[0] != "notice@example.com" {
			if unsub != "" || post != "" || strings.Contains(m.Text, UnsubscribePath) {
				t.Errorf("%s (%q) offers to unsubscribe: %q %q", m.To[0], m.Subject, unsub, post)
			}
			continue
		}
		if post != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post = %q", post)
		}
		link, ok := strings.CutPrefix(unsub, "<")
		link, ok2 := strings.CutSuffix(link, ">")
		if !ok || !ok2 || !strings.HasPrefix(link, testURL+"/unsubscribe?t=") {
			t.Fatalf("List-Unsubscribe = %q", unsub)
		}
		// The same link in the (Spanish) text and in the HTML, for whoever
		// reads the message rather than clicking the provider's button.
		if !strings.Contains(m.Text, "Para dejar de recibir estos correos sobre este caso, abra "+link+".") {
			t.Errorf("text has no unsubscribe line with %s:\n%s", link, m.Text)
		}
		if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
			t.Errorf("html has no link to %s:\n%s", link, m.HTML)
		}
		u, _ := url.Parse(link)
		got, err := e.keys.ParseUnsubscribe(u.Query().Get("t"), e.clock.Now())
		if err != nil || got.PartyID != e.party || got.Receipt != "IOE0912345678" {
			t.Errorf("the link's token: %+v, %v", got, err)
		}
		if want := e.clock.Now().Add(DefaultUnsubscribeTTL); !got.Expires.Equal(want.Truncate(time.Second)) {
			t.Errorf("the link expires %v, want %v", got.Expires, want)
		}
	}
	texts := box.Messages()
	if len(texts) != 1 || texts[0].Unsubscribe != "" || strings.Contains(texts[0].Text, "unsubscribe") {
		t.Errorf("text message: %+v", texts)
	}
}

func TestWorkerShowsTimesInItsZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// Daylight saving time began in New York at 07:00 UTC on 8 March 2026.
	tests := []struct {
		lang, expires string
		channel       casegate.Channel
		want          string
	}{
		{"en", "2026-03-08T06:55:00Z", casegate.ChannelEmail, "It expires at 01:55 EST (in 10 minutes)."},
		{"en", "2026-03-08T07:05:00Z", casegate.ChannelEmail, "It expires at 03:05 EDT (in 10 minutes)."},
		{"es", "2026-03-08T07:05:00Z", casegate.ChannelEmail, "03:05 EDT"},
		{"en", "2026-03-08T06:55:00Z", casegate.ChannelSMS, "It expires at 01:55 EST."},
		{"fr", "2026-03-08T07:05:00Z", casegate.ChannelSMS, "03:05 EDT"},
	}
	e := newEnv(t)
	w := e.worker()
	w.Location = ny
	box := &Mailbox{}
	w.Senders[casegate.ChannelSMS] = box
	for i, tt := range tests {
		e.queueCode("ch-tz-"+string(rune('a'+i)), tt.lang+string(rune('a'+i))+"@example.com", func(d *casegate.Delivery) {
			d.Language, d.Channel, d.Params["expires_at"] = tt.lang, tt.channel, tt.expires
			if tt.channel == casegate.ChannelSMS {
				d.Destination = "+1201555012" + string(rune('0'+i))
			}
		})
	}
	e.runOnce(w, len(tests))
	mails, err := e.server.WaitFor(3, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	byTo := map[string]string{}
	for _, m := range mails {
		byTo[m.To[0]] = m.Text + m.HTML
	}
	for _, m := range box.Messages() {
		byTo[m.To] = m.Text
	}
	for i, tt := range tests {
		to := tt.lang + string(rune('a'+i)) + "@example.com"
		if tt.channel == casegate.ChannelSMS {
			to = "+1201555012" + string(rune('0'+i))
		}
		got, ok := byTo[to]
		if !ok {
			t.Errorf("%s: nothing arrived for %s", tt.want, to)
			continue
		}
		if !strings.Contains(got, tt.want) || strings.Contains(got, "UTC") {
			t.Errorf("%s %s at %s: want %q in\n%s", tt.lang, tt.channel, tt.expires, tt.want, got)
		}
	}
}

// TestLockoutNoticeInItsZone: a lock that ends at 04:30 UTC on 8 March ends
// at 23:30 on 7 March in New York, and the notice, by email and by text,
// says so in the person's language.
func TestLockoutNoticeInItsZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	w := e.worker()
	w.Location = ny
	box := &Mailbox{}
	w.Senders[casegate.ChannelSMS] = box
	e.update(func(tx casegate.Tx) error {
		for _, d := range []casegate.Delivery{
			{Channel: casegate.ChannelEmail, Destination: "jose@example.com", Language: "es"},
			{Channel: casegate.ChannelSMS, Destination: "+12015550123", Language: "en"},
		} {
			d.PartyID, d.Template, d.CreatedAt = e.party, casegate.TemplateLockoutNotice, t0
			d.Params = map[string]string{"locked_until": "2026-03-08T04:30:00Z"}
			if err := tx.EnqueueDelivery(e.ctx, &d); err != nil {
				return err
			}
		}
		return nil
	})
	e.runOnce(w, 2)
	mails, err := e.server.WaitFor(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := "23:30 EST del 7 de marzo de 2026"; !strings.Contains(mails[0].Text, want) {
		t.Errorf("email: want %q in\n%s", want, mails[0].Text)
	}
	texts := box.Messages()
	if want := "until 23:30 EST on 7 March 2026."; len(texts) != 1 || !strings.Contains(texts[0].Text, want) {
		t.Errorf("text: want %q in %+v", want, texts)
	}
}

// TestNoticeWithAgencyUnsubscribeAndZone sends status notices, in English
// and in French, through a real SMTP server from a worker given all three
// things that add to a notice: the agency, the keys (so an unsubscribe
// link), and a time zone. The unsubscribe line ends the body, before the
// "-- " signature with the agency's name and contact lines; the HTML has
// the link above the agency's footer; the List-Unsubscribe header is
// there. A notice names no time, so a lockout notice from the same worker,
// in the same language, shows the zone: 04:30 UTC on 8 March is 23:30 EST
// on 7 March in New York.
func TestNoticeWithAgencyUnsubscribeAndZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]struct{ unsub, help, lockedUntil string }{
		"en": {"To stop these emails about this case, open %s.",
			"Need help? Contact us at help@migration.example.gov.",
			"It stays paused until 23:30 EST on 7 March 2026."},
		"fr": {"Pour ne plus recevoir ces courriels sur ce dossier, ouvrez %s.",
			"Besoin d'aide ? Contactez-nous à l'adresse help@migration.example.gov.",
			"Elle reste suspendue jusqu'au 7 mars 2026 à 23:30 EST."},
	}
	e := newEnv(t)
	w := e.worker()
	w.Agency, w.Location = testAgency, ny
	for lang := range langs {
		e.queueNotice("notice-"+lang+"@example.com", func(d *casegate.Delivery) { d.Language = lang })
		e.update(func(tx casegate.Tx) error {
			return tx.EnqueueDelivery(e.ctx, &casegate.Delivery{PartyID: e.party, Channel: casegate.ChannelEmail,
				Destination: "lockout-" + lang + "@example.com", Template: casegate.TemplateLockoutNotice, Language: lang,
				CreatedAt: t0, Params: map[string]string{"locked_until": "2026-03-08T04:30:00Z"}})
		})
	}
	e.runOnce(w, 2*len(langs))
	msgs, err := e.server.WaitFor(2*len(langs), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		kind, lang, _ := strings.Cut(strings.TrimSuffix(m.To[0], "@example.com"), "-")
		want, ok := langs[lang]
		if !ok {
			t.Fatalf("a message to %s", m.To[0])
		}
		seen[m.To[0]] = true
		text := strings.ReplaceAll(m.Text, "\r\n", "\n")
		sig := "\n-- \nMinistry of Migration\n1 Main Street, Springfield 01101\n+1 555 0100 (Mon–Fri)\n" + want.help + "\n"
		if !strings.HasSuffix(text, sig) {
			t.Errorf("%s: text does not end with the signature %q:\n%s", m.To[0], sig, text)
		}
		if strings.Contains(m.Text+m.HTML, "UTC") {
			t.Errorf("%s: a time in UTC, not in New York:\n%s", m.To[0], m.Text)
		}
		// Unescaped: html/template writes "+" as "&#43;".
		page := html.UnescapeString(m.HTML)
		for _, s := range []string{`dir="auto">Ministry of Migration</p>`, `dir="auto">1 Main Street, Springfield 01101</p>`,
			`dir="auto">+1 555 0100 (Mon–Fri)</p>`, `<a href="mailto:help@migration.example.gov" dir="ltr">`} {
			if !strings.Contains(page, s) {
				t.Errorf("%s: HTML lacks the agency's %q:\n%s", m.To[0], s, m.HTML)
			}
		}
		if kind == "lockout" {
			if !strings.Contains(text, want.lockedUntil) {
				t.Errorf("%s: want %q in\n%s", m.To[0], want.lockedUntil, text)
			}
			if m.Header.Get("List-Unsubscribe") != "" {
				t.Errorf("%s: a lockout notice offers to unsubscribe", m.To[0])
			}
			continue
		}
		unsub := m.Header.Get("List-Unsubscribe")
		link, ok := strings.CutPrefix(unsub, "<")
		link, ok2 := strings.CutSuffix(link, ">")
		if !ok || !ok2 || !strings.HasPrefix(link, testURL+UnsubscribePath+"?t=") {
			t.Fatalf("%s: List-Unsubscribe = %q", m.To[0], unsub)
		}
		if post := m.Header.Get("List-Unsubscribe-Post"); post != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post = %q", m.To[0], post)
		}
		// The unsubscribe line is the body's last paragraph, right above
		// the signature: not lost, and not after the agency's lines.
		if line := "\n\n" + fmt.Sprintf(want.unsub, link) + "\n" + sig; !strings.HasSuffix(text, line) {
			t.Errorf("%s: text does not end with %q:\n%s", m.To[0], line, text)
		}
		href := `href="` + strings.ReplaceAll(link, "&", "&amp;") + `"`
		at, footer := strings.Index(m.HTML, href), strings.Index(m.HTML, `dir="auto">Ministry of Migration</p>`)
		if at < 0 || footer < 0 || at > footer {
			t.Errorf("%s: HTML wants the link %s (at %d) above the agency's footer (at %d):\n%s", m.To[0], link, at, footer, m.HTML)
		}
		if h := stripTags(page); !strings.Contains(h, fmt.Sprintf(want.unsub, link)) || !strings.Contains(h, want.help) {
			t.Errorf("%s: HTML lacks the unsubscribe or help sentence:\n%s", m.To[0], h)
		}
	}
	if len(seen) != 2*len(langs) {
		t.Errorf("messages to %v, want a notice and a lockout notice in each of %d languages", seen, len(langs))
	}
}
