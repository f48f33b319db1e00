package delivery

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// smsTemplateDelivery is a delivery of tmpl in lang with every parameter a
// template may use, at their longest realistic values.
func smsTemplateDelivery(tmpl, lang string) casegate.Delivery {
	return casegate.Delivery{
		Channel: casegate.ChannelSMS, Destination: "+15555550123", Template: tmpl, Language: lang,
		Params: map[string]string{
			"expires_at": "2026-09-30T23:59:00Z", "valid_minutes": "10", "locked_until": "2026-09-30T23:59:00Z",
			"receipt_number": "IOE0912345678", "status": "received", "changed": "phone",
		},
	}
}

// hostOf returns a public URL whose host name has n characters.
func hostOf(n int) string { return "https://" + strings.Repeat("a", n-4) + ".gov" }

// codeTemplates are the messages that carry a code: they must reach a phone
// in one GSM-7 segment, so they arrive whole and cost one message.
var codeTemplates = []string{casegate.TemplateAccessCode, casegate.TemplateContactCode}

// minOneSegmentHost is the longest host name with which every code message,
// in every language, must still be one segment (docs/sms.md says so).
const minOneSegmentHost = 24

// gsm7Languages are the languages whose code messages are written in GSM-7
// and so must be one segment (docs/sms.md). The others are written in
// scripts GSM-7 lacks, so their texts travel as UCS-2, 70 units a segment:
// TestCodeSMSInEveryLanguage holds them to two.
var gsm7Languages = []string{"en", "es", "fr"}

func TestCodeSMSIsOneGSMSegment(t *testing.T) {
	for _, lang := range gsm7Languages {
		if !slices.Contains(casegate.Languages, lang) {
			t.Errorf("%s is no catalog language", lang)
		}
	}
	code := testCode(t)
	for _, tmpl := range codeTemplates {
		for _, lang := range casegate.Languages {
			if !slices.Contains(gsm7Languages, lang) {
				continue
			}
			d := smsTemplateDelivery(tmpl, lang)
			m, err := Render(d, code, hostOf(minOneSegmentHost), time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			size := MeasureSMS(m.Text)
			if size.Encoding != EncodingGSM7 || size.Segments != 1 {
				for _, r := range m.Text {
					if gsmWidth(r) == 0 {
						t.Errorf("%s.%s: %q is not in GSM-7", tmpl, lang, r)
					}
				}
				t.Errorf("%s.%s with a %d-character host: %+v, want one GSM-7 segment:\n%s", tmpl, lang, minOneSegmentHost, size, m.Text)
				continue
			}
			// How long a host still fits, for the operator's guide.
			longest := minOneSegmentHost
			for n := minOneSegmentHost + 1; n < 100; n++ {
				m, _ := Render(d, code, hostOf(n), time.UTC)
				if MeasureSMS(m.Text).Segments > 1 {
					break
				}
				longest = n
			}
			t.Logf("%s.%s: %d septets with a %d-character host; one segment up to a %d-character host",
				tmpl, lang, size.Units, minOneSegmentHost, longest)
		}
	}
}

// TestNoticeSMSSize keeps notices short: at most two segments with a
// 24-character host, whatever the encoding.
func TestNoticeSMSSize(t *testing.T) {
	for _, tmpl := range []string{casegate.TemplateLockoutNotice, casegate.TemplateContactChanged, casegate.TemplateStatusUpdate} {
		for _, lang := range casegate.Languages {
			m, err := Render(smsTemplateDelivery(tmpl, lang), "", hostOf(minOneSegmentHost), time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			size := MeasureSMS(m.Text)
			t.Logf("%s.%s: %+v", tmpl, lang, size)
			if size.Segments > 2 {
				t.Errorf("%s.%s: %+v, want at most two segments:\n%s", tmpl, lang, size, m.Text)
			}
		}
	}
}

// TestCodeSMSInEveryLanguage renders each code message in every catalog
// language with a long public host and holds it to at most two segments,
// whatever the encoding, with the origin-bound line last and exactly as
// WebOTP reads it. A language added as a file is checked here at once.
func TestCodeSMSInEveryLanguage(t *testing.T) {
	code := testCode(t)
	public := hostOf(minOneSegmentHost)
	host := strings.TrimPrefix(public, "https://")
	for _, tmpl := range codeTemplates {
		for _, lang := range casegate.Languages {
			m, err := Render(smsTemplateDelivery(tmpl, lang), code, public, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(m.Text, "\n")
			if last, want := lines[len(lines)-1], "@"+host+" #"+code; last != want {
				t.Errorf("%s.%s: last line %q, want %q", tmpl, lang, last, want)
			}
			if len(lines) < 3 || lines[len(lines)-2] != "" {
				t.Errorf("%s.%s: the origin-bound line does not follow a blank line:\n%s", tmpl, lang, m.Text)
			}
			if !strings.Contains(m.Text, accesscode.Display(code)) {
				t.Errorf("%s.%s: the text lacks the code:\n%s", tmpl, lang, m.Text)
			}
			size := MeasureSMS(m.Text)
			if size.Segments < 1 || size.Segments > 2 {
				t.Errorf("%s.%s with a %d-character host: %+v, want one or two segments:\n%s", tmpl, lang, len(host), size, m.Text)
				continue
			}
			longest := len(host)
			for n := len(host) + 1; n < 100; n++ {
				m, _ := Render(smsTemplateDelivery(tmpl, lang), code, hostOf(n), time.UTC)
				if MeasureSMS(m.Text).Segments > 2 {
					break
				}
				longest = n
			}
			t.Logf("%s.%s: %s, %d units, %d segments with a %d-character host; two segments up to a %d-character host",
				tmpl, lang, size.Encoding, size.Units, size.Segments, len(host), longest)
		}
	}
}

// TestLockoutSMSEveryMonth: the lockout notice names a month, and one month
// name outside GSM-7 would make the whole text UCS-2 and longer than two
// segments; so every month, in every language.
func TestLockoutSMSEveryMonth(t *testing.T) {
	for _, lang := range casegate.Languages {
		for month := time.January; month <= time.December; month++ {
			d := smsTemplateDelivery(casegate.TemplateLockoutNotice, lang)
			d.Params["locked_until"] = time.Date(2026, month, 30, 23, 59, 0, 0, time.UTC).Format(time.RFC3339)
			m, err := Render(d, "", hostOf(minOneSegmentHost), time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if size := MeasureSMS(m.Text); size.Segments > 2 {
				t.Errorf("%s, %s: %+v, want at most two segments:\n%s", lang, month, size, m.Text)
			}
		}
	}
}
