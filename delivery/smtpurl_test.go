package delivery

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw  string
		want SMTPConfig
	}{
		{"smtp://mail.example.org", SMTPConfig{Host: "mail.example.org", Port: 587, TLS: TLSStartTLS}},
		{"smtp://mail.example.org/", SMTPConfig{Host: "mail.example.org", Port: 587, TLS: TLSStartTLS}},
		{"smtp://mail.example.org?tls=implicit", SMTPConfig{Host: "mail.example.org", Port: 465, TLS: TLSImplicit}},
		{"smtp://mail.example.org?tls=none", SMTPConfig{Host: "mail.example.org", Port: 587, TLS: TLSNone}},
		{"smtp://127.0.0.1:2525?tls=none", SMTPConfig{Host: "127.0.0.1", Port: 2525, TLS: TLSNone}},
		{"smtp://[::1]:25?tls=starttls", SMTPConfig{Host: "::1", Port: 25, TLS: TLSStartTLS}},
		{"smtp://apikey:s3cr%2Ft%40x%3Ay@smtp.example.com:587",
			SMTPConfig{Host: "smtp.example.com", Port: 587, Username: "apikey", Password: "s3cr/t@x:y", TLS: TLSStartTLS}},
		{"smtp://user%40example.org:pw@smtp.example.com:465?tls=implicit",
			SMTPConfig{Host: "smtp.example.com", Port: 465, Username: "user@example.org", Password: "pw", TLS: TLSImplicit}},
		{"smtp://:@smtp.example.com", SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: TLSStartTLS}},
		{"smtp://onlyuser@smtp.example.com", SMTPConfig{Host: "smtp.example.com", Port: 587, Username: "onlyuser", TLS: TLSStartTLS}},
	}
	for _, tt := range tests {
		got, err := ParseSMTPURL(tt.raw)
		if err != nil {
			t.Errorf("ParseSMTPURL(%q): %v", tt.raw, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	tests := []struct {
		raw     string
		mention string // a word the message must contain
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"smtps://mail.example.org", `scheme "smtps"`},
		{"http://mail.example.org", `scheme "http"`},
		{"mail.example.org:587", "scheme"},
		{"smtp:mail.example.org", "two slashes"},
		{"smtp://", "no host"},
		{"smtp://:587", "no host"},
		{"smtp://mail.example.org?tls=ssl", `tls="ssl"`},
		{"smtp://mail.example.org?tls=", `tls=""`},
		{"smtp://mail.example.org?tls=none&tls=implicit", "2 times"},
		{"smtp://mail.example.org?timeout=5s", `unknown parameter "timeout"`},
		{"smtp://mail.example.org?tls=none;x", "query"},
		{"smtp://mail.example.org:0", "port"},
		{"smtp://mail.example.org:70000", "port"},
		{"smtp://mail.example.org:", "empty port"},
		{"smtp://mail.example.org/path", "path"},
		{"smtp://mail.example.org#frag", "fragment"},
		{"smtp://:secret@mail.example.org", "without a user name"},
		{"smtp://user:pa ss@mail.example.org", "percent-encode"},
		{"smtp://::1", "invalid host"},
		{"smtp://[fe80::1%25eth0]:25", "invalid host"},
		{"smtp://mail_example!.org", "invalid host"},
		{"smtp://us%00er:pw@mail.example.org", "control character"},
		{"smtp://user:p%0Aw@mail.example.org", "control character"},
	}
	for _, tt := range tests {
		_, err := ParseSMTPURL(tt.raw)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q): no error", tt.raw)
			continue
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseSMTPURL(%q) = %q, want it to mention %q", tt.raw, err, tt.mention)
		}
		if !strings.HasPrefix(err.Error(), "SMTP URL: ") {
			t.Errorf("ParseSMTPURL(%q) = %q, want it to name the SMTP URL", tt.raw, err)
		}
	}
}

// TestParseSMTPURLNeverEchoesPassword feeds URLs whose passwords break the
// parse in different places.
func TestParseSMTPURLNeverEchoesPassword(t *testing.T) {
	const secret = "Zq9-secret"
	for _, raw := range []string{
		"smtp://user:" + secret + "/x@mail.example.org",
		"smtp://user:" + secret + " x@mail.example.org",
		"smtp://user:" + secret + "%zz@mail.example.org",
		"smtp://user:" + secret + "@mail.example.org:99999",
		"smtp://user:" + secret + "@mail.example.org?tls=bogus",
		"smtp://user:" + secret + "@mail.example.org/path",
		"smtps://user:" + secret + "@mail.example.org",
		"smtp://user:" + secret + "@",
		"smtp://user:" + secret + "?x@mail.example.org",
		"smtp://user:" + secret + "#x@mail.example.org",
	} {
		_, err := ParseSMTPURL(raw)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q): no error", raw)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseSMTPURL(%q) = %q: echoes the password", raw, err)
		}
	}
}

func TestSMTPConfigStringHidesPassword(t *testing.T) {
	cfg, err := ParseSMTPURL("smtp://user:hunter22@mail.example.org:2525?tls=implicit")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.String()
	if strings.Contains(s, "hunter22") {
		t.Errorf("String() = %q shows the password", s)
	}
	if want := "smtp://user@mail.example.org:2525?tls=implicit"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

func FuzzParseSMTPURL(f *testing.F) {
	f.Add("user", "pass", "mail.example.org:587?tls=none")
	f.Add("a%40b", "p/w@x", "[::1]:25")
	f.Add("", "", "host?tls=implicit&x=1")
	f.Add("u", "secret#frag", "h:0")
	f.Fuzz(func(t *testing.T, user, pass, rest string) {
		raw := "smtp://" + user + ":" + pass + "@" + rest
		cfg, err := ParseSMTPURL(raw)
		if err == nil {
			if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
				t.Fatalf("ParseSMTPURL(%q) = %+v", raw, cfg)
			}
			switch cfg.TLS {
			case TLSNone, TLSStartTLS, TLSImplicit:
			default:
				t.Fatalf("ParseSMTPURL(%q): TLS %q", raw, cfg.TLS)
			}
			// A URL built back from the config parses to the same config.
			u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), RawQuery: "tls=" + string(cfg.TLS)}
			if cfg.Username != "" {
				u.User = url.UserPassword(cfg.Username, cfg.Password)
			}
			again, err := ParseSMTPURL(u.String())
			if err != nil || again != cfg {
				t.Fatalf("ParseSMTPURL(%q) = %+v; rebuilt as %q it gives %+v, %v", raw, cfg, u.String(), again, err)
			}
			return
		}
		// Errors quote what they echo; no quoted value may hold the password.
		// (The fixed wording may contain it by chance, like "a" or "tls".)
		if pass == "" || strings.Contains(rest, pass) || strings.Contains(user, pass) {
			return // an echo of the host or user would hold it too
		}
		for _, q := range quoted.FindAllString(err.Error(), -1) {
			v, uerr := strconv.Unquote(q)
			if uerr != nil {
				v = q
			}
			if strings.Contains(v, pass) {
				t.Fatalf("ParseSMTPURL(%q) = %q: echoes the password", raw, err)
			}
		}
	})
}
