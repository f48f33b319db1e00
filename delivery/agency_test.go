package delivery

import (
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/branding"
)

var testAgency = branding.Agency{
	Name:    "Ministry of Migration",
	Contact: []string{"1 Main Street, Springfield 01101", "+1 555 0100 (Mon–Fri)"},
	Help:    "help@migration.example.gov",
}

// TestWorkerSignsEmailsWithTheAgency sends a code through a real SMTP
// server from a worker given the agency: the text and the HTML end with
// its name, each contact line as given, and the help address in the
// message's language, linked in the HTML.
func TestWorkerSignsEmailsWithTheAgency(t *testing.T) {
	e := newEnv(t)
	e.queueCode("req-en", "jose@example.com")
	e.queueCode("req-es", "ana@example.com", func(d *casegate.Delivery) { d.Language = "es" })
	w := e.worker()
	w.Agency = testAgency
	e.runOnce(w, 2)
	msgs, err := e.server.WaitFor(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	help := map[string]string{
		"jose@example.com": "Need help? Contact us at help@migration.example.gov.",
		"ana@example.com":  "¿Necesita ayuda? Comuníquese con nosotros en help@migration.example.gov.",
	}
	for _, m := range msgs {
		want := help[m.To[0]]
		sig := "\n-- \nMinistry of Migration\n1 Main Street, Springfield 01101\n+1 555 0100 (Mon–Fri)\n" + want + "\n"
		if !strings.HasSuffix(strings.ReplaceAll(m.Text, "\r\n", "\n"), sig) {
			t.Errorf("%s: text does not end with the signature %q:\n%s", m.To[0], sig, m.Text)
		}
		for _, s := range []string{
			`dir="auto">Ministry of Migration</p>`, `dir="auto">1 Main Street, Springfield 01101</p>`,
			`<a href="mailto:help@migration.example.gov" dir="ltr">help@migration.example.gov</a>`,
		} {
			if !strings.Contains(m.HTML, s) {
				t.Errorf("%s: HTML lacks %q:\n%s", m.To[0], s, m.HTML)
			}
		}
		if !strings.Contains(stripTags(m.HTML), want) {
			t.Errorf("%s: HTML lacks %q", m.To[0], want)
		}
	}
}

// TestRenderAgencyRightToLeft: in Arabic, the name and contact lines keep
// their own direction (first-strong isolates in the text, dir="auto" in the
// HTML) and the text message starts with the name; in English nothing is
// wrapped; a name that would cost a segment is left out of a text; without
// an agency nothing is added.
func TestRenderAgencyRightToLeft(t *testing.T) {
	code := testCode(t)
	m, err := RenderAgency(testAgency, codeDelivery(casegate.ChannelEmail, "ar"), code, testURL, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"\u2068Ministry of Migration\u2069\n", "\u20681 Main Street, Springfield 01101\u2069\n", "\u2066help@migration.example.gov\u2069"} {
		if !strings.Contains(m.Text, s) {
			t.Errorf("Arabic text lacks %q:\n%s", s, m.Text)
		}
	}
	if !strings.Contains(m.HTML, `dir="rtl"`) || !strings.Contains(m.HTML, `<p style="margin:0;" dir="auto">1 Main Street, Springfield 01101</p>`) {
		t.Errorf("Arabic HTML:\n%s", m.HTML)
	}
	// A text starts with the name when that costs no segment: a notice,
	// in English and in Arabic (isolated); the origin-bound line of a code
	// text stays last.
	for lang, prefix := range map[string]string{"en": "Ministry of Migration: ", "ar": "\u2068Ministry of Migration\u2069: "} {
		d := smsTemplateDelivery(casegate.TemplateStatusUpdate, lang)
		plain, err := Render(d, "", testURL, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		named, err := RenderAgency(testAgency, d, "", testURL, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if named.Text != prefix+plain.Text {
			t.Errorf("%s notice text %q, want it to start with %q", lang, named.Text, prefix)
		}
		if lang == "en" && strings.ContainsAny(named.Text, "\u2066\u2068\u2069") {
			t.Errorf("English text with isolates: %q", named.Text)
		}
	}
	short, err := RenderAgency(branding.Agency{Name: "MoM"}, codeDelivery(casegate.ChannelSMS, "en"), code, testURL, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(short.Text, "\n")
	if !strings.HasPrefix(short.Text, "MoM: ") || !strings.HasPrefix(lines[len(lines)-1], "@") || MeasureSMS(short.Text).Segments != 1 {
		t.Errorf("code text with a short name: %q", short.Text)
	}
	// A name that would make a code text longer in segments, or change its
	// encoding (an en dash is not GSM-7), is left out.
	for _, name := range []string{testAgency.Name, strings.Repeat("Ministry of Migration ", 5), "MoM – Migration"} {
		long, err := RenderAgency(branding.Agency{Name: name}, codeDelivery(casegate.ChannelSMS, "en"), code, testURL, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if size := MeasureSMS(long.Text); strings.Contains(long.Text, name) || size.Segments != 1 || size.Encoding != EncodingGSM7 {
			t.Errorf("code text with the name %q: %+v %q", name, size, long.Text)
		}
	}
	plain, err := Render(codeDelivery(casegate.ChannelEmail, "en"), code, testURL, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.Text, "\n-- \n") || strings.Contains(plain.HTML, "border-top") {
		t.Errorf("an email without an agency is signed:\n%s", plain.Text)
	}
}
