package delivery

import (
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
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

func TestCodeSMSIsOneGSMSegment(t *testing.T) {
	code := testCode(t)
	for _, tmpl := range codeTemplates {
		for _, lang := range casegate.Languages {
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
