package delivery

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/catalog"
)

const testURL = "https://portal.example.org"

// testCode returns a valid canonical code.
func testCode(t testing.TB) string {
	t.Helper()
	code, err := accesscode.Generate(accesscode.DefaultLength)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func codeDelivery(ch casegate.Channel, lang string) casegate.Delivery {
	return casegate.Delivery{
		ID: 7, ChallengeID: "req1", Channel: ch, Destination: "jose@example.com",
		Template: casegate.TemplateAccessCode, Language: lang,
		Params: map[string]string{"expires_at": "2026-03-02T14:05:00Z", "valid_minutes": "10"},
	}
}

func lockoutDelivery(ch casegate.Channel, lang, lockedUntil string) casegate.Delivery {
	params := map[string]string{}
	if lockedUntil != "" {
		params["locked_until"] = lockedUntil
	}
	return casegate.Delivery{
		ID: 8, Channel: ch, Destination: "+15555550123",
		Template: casegate.TemplateLockoutNotice, Language: lang, Params: params,
	}
}

var warnings = map[string]string{
	"en":      "We will never ask you for this code by phone, email or text. Enter it only at " + testURL + ".",
	"es":      "Nunca le pediremos este código por teléfono, correo electrónico ni mensaje de texto. Ingréselo solo en " + testURL + ".",
	"fr":      "Nous ne vous demanderons jamais ce code par téléphone, par courriel ou par SMS. Saisissez-le uniquement sur " + testURL + ".",
	"zh-Hans": "我们绝不会通过电话、电子邮件或短信向您索要此验证码。请只在 " + testURL + " 输入。",
	"ar":      "لن نطلب منك هذا الرمز أبدًا عبر الهاتف أو البريد الإلكتروني أو الرسائل النصية. لا تُدخله إلا على " + testURL + ".",
}

func TestRenderAccessCodeEmail(t *testing.T) {
	tests := []struct {
		lang, wantLang, expiry, subject string
	}{
		{"en", "en", "It expires at 14:05 UTC (in 10 minutes).", "Your access code for portal.example.org"},
		{"es", "es", "Vence a las 14:05 UTC (dentro de 10 minutos).", "Su código de acceso para portal.example.org"},
		{"es-MX", "es", "Vence a las 14:05 UTC (dentro de 10 minutos).", "Su código de acceso para portal.example.org"},
		{"fr", "fr", "Il expire à 14:05 UTC (dans 10 minutes).", "Votre code d'accès pour portal.example.org"},
		{"fr-CA", "fr", "Il expire à 14:05 UTC (dans 10 minutes).", "Votre code d'accès pour portal.example.org"},
		{"zh-Hans", "zh-Hans", "有效期至 14:05 UTC（10 分钟后）。", "您在 portal.example.org 的访问码"},
		{"ar", "ar", "تنتهي صلاحيته في 14:05 UTC (بعد 10 دقائق).", "رمز الدخول الخاص بك إلى portal.example.org"},
		{"de", "en", "It expires at 14:05 UTC (in 10 minutes).", "Your access code for portal.example.org"},
		{"", "en", "It expires at 14:05 UTC (in 10 minutes).", "Your access code for portal.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			code := testCode(t)
			display := accesscode.Display(code)
			m, err := Render(codeDelivery(casegate.ChannelEmail, tt.lang), code, testURL+"/", time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if m.To != "jose@example.com" || m.Channel != casegate.ChannelEmail {
				t.Errorf("addressed to %q by %q", m.To, m.Channel)
			}
			if m.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", m.Subject, tt.subject)
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
				if n := strings.Count(body, display); n != 1 {
					t.Errorf("%s shows the code %d times, want once:\n%s", part, n, body)
				}
				if strings.Contains(body, code) {
					t.Errorf("%s contains the code without its hyphen", part)
				}
				if !strings.Contains(body, warnings[tt.wantLang]) {
					t.Errorf("%s lacks the warning %q:\n%s", part, warnings[tt.wantLang], body)
				}
				if !strings.Contains(stripTags(body), tt.expiry) {
					t.Errorf("%s lacks %q:\n%s", part, tt.expiry, body)
				}
			}
			if strings.Contains(m.Subject, display) || strings.Contains(m.Subject, code) {
				t.Error("the subject carries the code")
			}
			dir := catalog.Default().Direction(tt.wantLang)
			if !strings.Contains(m.HTML, `<html lang="`+tt.wantLang+`" dir="`+dir+`">`) {
				t.Errorf("HTML is not marked as %s, %s", tt.wantLang, dir)
			}
			if !strings.HasSuffix(m.Text, ".\n") && !strings.HasSuffix(m.Text, "。\n") {
				t.Errorf("text does not end with one newline: %q", m.Text[len(m.Text)-10:])
			}
		})
	}
}

func TestRenderAccessCodeSMS(t *testing.T) {
	for _, lang := range casegate.Languages {
		code := testCode(t)
		m, err := Render(codeDelivery(casegate.ChannelSMS, lang), code, "https://portal.example.org:8443/start", time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "" || m.HTML != "" {
			t.Errorf("%s: an SMS with subject %q or HTML", lang, m.Subject)
		}
		lines := strings.Split(m.Text, "\n")
		if last := lines[len(lines)-1]; last != "@portal.example.org #"+code {
			t.Errorf("%s: last line = %q, want the origin-bound form", lang, last)
		}
		if n := strings.Count(m.Text, accesscode.Display(code)); n != 1 {
			t.Errorf("%s: display code appears %d times", lang, n)
		}
		if !strings.Contains(m.Text, "14:05 UTC") {
			t.Errorf("%s: no expiry in %q", lang, m.Text)
		}
		if len([]rune(m.Text)) > 200 {
			t.Errorf("%s: SMS is %d characters; keep it short", lang, len([]rune(m.Text)))
		}
	}
}

func TestRenderExpiryShownInUTC(t *testing.T) {
	d := codeDelivery(casegate.ChannelEmail, "en")
	d.Params["expires_at"] = "2026-03-02T09:05:00-05:00"
	d.Params["valid_minutes"] = "1"
	m, err := Render(d, testCode(t), testURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "It expires at 14:05 UTC (in 1 minute).") {
		t.Errorf("text = %s", m.Text)
	}
	delete(d.Params, "valid_minutes")
	m, err = Render(d, testCode(t), testURL, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "It expires at 14:05 UTC.\n") {
		t.Errorf("without valid_minutes: %s", m.Text)
	}
}

func TestRenderLockoutNotice(t *testing.T) {
	tests := []struct {
		lang, lockedUntil string
		want              []string // in the text, the HTML (tags stripped) and, first only, the SMS
	}{
		{"en", "2026-03-02T15:30:00Z", []string{"until 15:30 UTC on 2 March 2026", "paused", "too many wrong", "No access code was sent", "If this was not you"}},
		{"en", "", []string{"until our staff unlock it", "paused", "No access code was sent", "If this was not you"}},
		{"es", "2026-03-02T15:30:00Z", []string{"hasta las 15:30 UTC del 2 de marzo de 2026", "pausó", "incorrectos", "ningún código de acceso", "Si no fue usted"}},
		{"es", "", []string{"hasta que nuestro personal lo desbloquee", "pausó", "ningún código de acceso", "Si no fue usted"}},
	}
	for _, tt := range tests {
		code := testCode(t) // given on purpose: a notice must not show it
		email, err := Render(lockoutDelivery(casegate.ChannelEmail, tt.lang, tt.lockedUntil), code, testURL, time.UTC)
		if err != nil {
			t.Fatalf("%s %q: %v", tt.lang, tt.lockedUntil, err)
		}
		sms, err := Render(lockoutDelivery(casegate.ChannelSMS, tt.lang, tt.lockedUntil), "", testURL, time.UTC)
		if err != nil {
			t.Fatalf("%s %q sms: %v", tt.lang, tt.lockedUntil, err)
		}
		for part, body := range map[string]string{"text": email.Text, "html": stripTags(email.HTML)} {
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s %q %s lacks %q:\n%s", tt.lang, tt.lockedUntil, part, w, body)
				}
			}
		}
		if !strings.Contains(sms.Text, tt.want[0]) {
			t.Errorf("%s %q sms lacks %q: %s", tt.lang, tt.lockedUntil, tt.want[0], sms.Text)
		}
		for _, body := range []string{email.Subject, email.Text, email.HTML, sms.Text} {
			if strings.Contains(body, code) || strings.Contains(body, accesscode.Display(code)) {
				t.Errorf("%s: a lockout notice shows a code", tt.lang)
			}
			if strings.Contains(body, "+15555550123") || strings.Contains(body, "5550123") {
				t.Errorf("%s: a lockout notice shows the destination", tt.lang)
			}
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	url := `https://portal.example.org/x?a=1&b=<script>"`
	m, err := Render(codeDelivery(casegate.ChannelEmail, "en"), testCode(t), url, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("HTML contains an unescaped tag:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "a=1&amp;b=&lt;script&gt;") {
		t.Errorf("HTML does not show the escaped URL:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "a=1&b=<script>") {
		t.Errorf("text is escaped, it should not be:\n%s", m.Text)
	}
}

func TestRenderErrors(t *testing.T) {
	code := "K7M2Q9XH4R"
	if !accesscode.Valid(code) {
		code = testCode(t)
	}
	noExpiry := codeDelivery(casegate.ChannelEmail, "en")
	noExpiry.Params = nil
	badExpiry := codeDelivery(casegate.ChannelEmail, "en")
	badExpiry.Params = map[string]string{"expires_at": "tomorrow"}
	badMinutes := codeDelivery(casegate.ChannelEmail, "en")
	badMinutes.Params["valid_minutes"] = "ten"
	unknown := codeDelivery(casegate.ChannelEmail, "en")
	unknown.Template = "birthday"
	badChannel := codeDelivery("fax", "en")
	badLock := lockoutDelivery(casegate.ChannelEmail, "en", "soon")
	tests := []struct {
		name string
		d    casegate.Delivery
		code string
		url  string
	}{
		{"no code", codeDelivery(casegate.ChannelEmail, "en"), "", testURL},
		{"no code sms", codeDelivery(casegate.ChannelSMS, "es"), "", testURL},
		{"not a code", codeDelivery(casegate.ChannelEmail, "en"), "hello", testURL},
		{"no expiry", noExpiry, code, testURL},
		{"bad expiry", badExpiry, code, testURL},
		{"bad minutes", badMinutes, code, testURL},
		{"unknown template", unknown, code, testURL},
		{"unknown channel", badChannel, code, testURL},
		{"bad locked_until", badLock, "", testURL},
		{"relative URL", codeDelivery(casegate.ChannelEmail, "en"), code, "/portal"},
		{"ftp URL", codeDelivery(casegate.ChannelEmail, "en"), code, "ftp://portal.example.org"},
		{"empty URL", codeDelivery(casegate.ChannelEmail, "en"), code, ""},
	}
	for _, tt := range tests {
		if m, err := Render(tt.d, tt.code, tt.url, time.UTC); err == nil {
			t.Errorf("%s: no error; rendered %+v", tt.name, m)
		}
	}
}

// TestCatalogRendersEverything renders every template in every language of
// the catalog on both channels, so a new template or language is tested by
// being added.
func TestCatalogRendersEverything(t *testing.T) {
	if !slices.Contains(casegate.Languages, "es") {
		t.Fatal("the catalog has no Spanish")
	}
	for tmpl := range templates {
		for _, lang := range casegate.Languages {
			for _, ch := range []casegate.Channel{casegate.ChannelEmail, casegate.ChannelSMS} {
				d := casegate.Delivery{Channel: ch, Template: tmpl, Language: lang, Destination: "x@example.com",
					Params: map[string]string{"expires_at": "2026-03-02T14:05:00Z", "valid_minutes": "10", "locked_until": "2026-03-02T15:00:00Z",
						"receipt_number": "IOE0912345678", "status": "approved", "changed": "email"}}
				m, err := Render(d, testCode(t), testURL, time.UTC)
				if err != nil {
					t.Errorf("%s.%s %s: %v", tmpl, lang, ch, err)
					continue
				}
				if strings.Contains(m.Text+m.HTML+m.Subject, "<no value>") {
					t.Errorf("%s.%s %s: a missing value was rendered", tmpl, lang, ch)
				}
				// A key the catalog lacks renders as itself.
				if strings.Contains(m.Text+m.HTML+m.Subject, "msg.") {
					t.Errorf("%s.%s %s: a message key was rendered: %q", tmpl, lang, ch, m.Text)
				}
				if ch == casegate.ChannelEmail && (m.Subject == "" || m.Text == "" || m.HTML == "") {
					t.Errorf("%s.%s: an email part is empty", tmpl, lang)
				}
			}
		}
	}
}

func TestLoadTemplatesChecksFiles(t *testing.T) {
	layout := &fstest.MapFile{Data: []byte(`{{define "layout"}}<html>{{template "body" .}}</html>{{end}}`)}
	text := &fstest.MapFile{Data: []byte(`{{define "subject"}}s{{end}}{{define "text"}}t{{end}}{{define "sms"}}m{{end}}`)}
	html := &fstest.MapFile{Data: []byte(`{{define "body"}}b{{end}}`)}
	tests := []struct {
		name string
		fs   fstest.MapFS
		ok   bool
	}{
		{"complete", fstest.MapFS{"templates/layout.html": layout, "templates/n.txt": text, "templates/n.html": html}, true},
		{"no html", fstest.MapFS{"templates/layout.html": layout, "templates/n.txt": text}, false},
		{"no sms part", fstest.MapFS{"templates/layout.html": layout, "templates/n.html": html,
			"templates/n.txt": &fstest.MapFile{Data: []byte(`{{define "subject"}}s{{end}}{{define "text"}}t{{end}}`)}}, false},
		{"no layout", fstest.MapFS{"templates/n.txt": text, "templates/n.html": html}, false},
		{"nothing", fstest.MapFS{"templates/layout.html": layout}, false},
	}
	for _, tt := range tests {
		_, err := loadTemplates(tt.fs)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// stripTags drops HTML tags so sentences split by <strong> can be matched.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
