package delivery

import (
	"strings"
	"testing"
	"time"
)

const (
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testKeySID  = "SK0123456789abcdef0123456789abcdef"
	testService = "MG0123456789abcdef0123456789abcdef"
	testToken   = "s3cr3t-t0ken-value"
)

func TestParseSMSURL(t *testing.T) {
	tests := []struct {
		raw      string
		provider SMSProvider
		endpoint string
		user     string
		pass     string
		account  string
		from     string
		service  string
		smsc     string
		secret   string
		timeout  time.Duration
	}{
		{raw: "twilio://" + testSID + ":" + testToken + "@api.twilio.com?from=+15551234567",
			provider: ProviderTwilio, endpoint: "https://api.twilio.com", user: testSID, pass: testToken, account: testSID, from: "+15551234567"},
		{raw: "twilio://" + testSID + ":" + testToken + "@?from=%2B15551234567",
			provider: ProviderTwilio, endpoint: "https://api.twilio.com", user: testSID, pass: testToken, account: testSID, from: "+15551234567"},
		{raw: "twilio://" + testSID + ":" + testToken + "@api.twilio.com?messaging_service=" + testService + "&timeout=5s",
			provider: ProviderTwilio, endpoint: "https://api.twilio.com", user: testSID, pass: testToken, account: testSID, service: testService, timeout: 5 * time.Second},
		{raw: "twilio://" + testKeySID + ":" + testToken + "@api.twilio.com?account=" + testSID + "&from=Casegate",
			provider: ProviderTwilio, endpoint: "https://api.twilio.com", user: testKeySID, pass: testToken, account: testSID, from: "Casegate"},
		{raw: "twilio://" + testSID + ":" + testToken + "@127.0.0.1:8081?from=+15551234567&insecure=1",
			provider: ProviderTwilio, endpoint: "http://127.0.0.1:8081", user: testSID, pass: testToken, account: testSID, from: "+15551234567"},
		{raw: "twilio://" + testSID + ":p%40ss%2Fw%3Ard@[::1]:8081?from=12345&insecure=1",
			provider: ProviderTwilio, endpoint: "http://[::1]:8081", user: testSID, pass: "p@ss/w:rd", account: testSID, from: "12345"},
		{raw: "kannel://tester:foobar@sms.internal:13013?from=+15551234567&smsc=FAKE",
			provider: ProviderKannel, endpoint: "http://sms.internal:13013/cgi-bin/sendsms", user: "tester", pass: "foobar", from: "+15551234567", smsc: "FAKE"},
		{raw: "kannel://tester:foobar@sms.internal",
			provider: ProviderKannel, endpoint: "http://sms.internal:13013/cgi-bin/sendsms", user: "tester", pass: "foobar"},
		{raw: "kannel+https://tester:foobar@sms.example.org:8443/custom/sendsms?timeout=30s",
			provider: ProviderKannel, endpoint: "https://sms.example.org:8443/custom/sendsms", user: "tester", pass: "foobar", timeout: 30 * time.Second},
		{raw: "webhook+https://hooks.example.org/casegate/sms?secret_file=/run/secrets/sms",
			provider: ProviderWebhook, endpoint: "https://hooks.example.org/casegate/sms", secret: "/run/secrets/sms"},
		{raw: "webhook+https://hooks.example.org/sms?tenant=a+b&secret_file=%2Fetc%2Fsms.key&x=%2F",
			provider: ProviderWebhook, endpoint: "https://hooks.example.org/sms?tenant=a+b&x=%2F", secret: "/etc/sms.key"},
		{raw: "webhook+http://127.0.0.1:9999/sms?secret_file=s.key",
			provider: ProviderWebhook, endpoint: "http://127.0.0.1:9999/sms", secret: "s.key"},
		{raw: "webhook+http://localhost/sms?secret_file=s.key",
			provider: ProviderWebhook, endpoint: "http://localhost/sms", secret: "s.key"},
	}
	for _, tt := range tests {
		cfg, err := ParseSMSURL(tt.raw)
		if err != nil {
			t.Errorf("ParseSMSURL(%q): %v", tt.raw, err)
			continue
		}
		want := tt.timeout
		if want == 0 {
			want = DefaultSMSTimeout
		}
		if cfg.Provider != tt.provider || cfg.Endpoint.String() != tt.endpoint || cfg.Username != tt.user || cfg.Password != tt.pass ||
			cfg.AccountSID != tt.account || cfg.From != tt.from || cfg.MessagingService != tt.service || cfg.SMSC != tt.smsc ||
			cfg.SecretFile != tt.secret || cfg.Timeout != want {
			t.Errorf("ParseSMSURL(%q) = %+v (endpoint %s)", tt.raw, cfg, cfg.Endpoint)
		}
		if tt.pass != "" && strings.Contains(cfg.String(), tt.pass) {
			t.Errorf("String() of %q shows the password: %s", tt.raw, cfg)
		}
	}
}

func TestParseSMSURLRefuses(t *testing.T) {
	tw := "twilio://" + testSID + ":" + testToken + "@api.twilio.com"
	tests := []struct{ raw, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"sms://x", "not supported"},
		{"https://api.twilio.com", "not supported"},
		{"twilio:" + testSID, "two slashes"},
		{tw, "exactly one of from"},
		{tw + "?from=+15551234567&messaging_service=" + testService, "exactly one of from"},
		{tw + "?from=+15551234567&from=+15551234568", "given twice"},
		{tw + "?from=not a number!", "not a phone number"},
		{tw + "?from=ABCDEFGHIJKL", "not a phone number"},
		{tw + "?messaging_service=MGnope", "Messaging Service SID"},
		{tw + "?from=+15551234567&colour=blue", `unknown parameter "colour"`},
		{tw + "?from=+15551234567&insecure=1", "loopback"},
		{tw + "?from=+15551234567&insecure=yes", "insecure="},
		{tw + "?from=+15551234567&timeout=0s", "timeout"},
		{tw + "?from=+15551234567&timeout=5m", "timeout"},
		{tw + "/2010-04-01?from=+15551234567", "unexpected path"},
		{tw + "?from=+15551234567#x", "fragment"},
		{"twilio://api.twilio.com?from=+15551234567", "account SID and auth token"},
		{"twilio://" + testSID + "@api.twilio.com?from=+15551234567", "account SID and auth token"},
		{"twilio://ACnope:" + testToken + "@api.twilio.com?from=+15551234567", "not an account SID"},
		{"twilio://" + testService + ":" + testToken + "@api.twilio.com?from=+15551234567", "not an account SID"},
		{"twilio://" + testKeySID + ":" + testToken + "@api.twilio.com?from=+15551234567", "account=AC"},
		{"twilio://" + testKeySID + ":" + testToken + "@api.twilio.com?from=+15551234567&account=" + testKeySID, "account="},
		{"twilio://" + testSID + ":" + testToken + "@api.twilio.com:99999?from=+15551234567", "port"},
		{"twilio://" + testSID + ":" + testToken + "@api.twilio.com:?from=+15551234567", "empty port"},
		{"twilio://" + testSID + ":" + testToken + "@bad_host!?from=+15551234567", "invalid host"},
		{"kannel://tester:foobar@", "host"},
		{"kannel://sms.internal:13013", "sendsms-user"},
		{"kannel://tester@sms.internal:13013", "sendsms-user"},
		{"kannel://tester:foobar@sms.internal?smsc=a b", "smsc-id"},
		{"kannel://tester:foobar@sms.internal?to=+1555", `unknown parameter "to"`},
		{"kannel://tester:foobar@sms.internal?insecure=1", `unknown parameter "insecure"`},
		{"webhook+https://hooks.example.org/sms", "secret_file"},
		{"webhook+https://hooks.example.org/sms?secret_file=", "secret_file"},
		{"webhook+http://hooks.example.org/sms?secret_file=s.key", "loopback"},
		{"webhook+https://u:p@hooks.example.org/sms?secret_file=s.key", "no user"},
		{"webhook+https:///sms?secret_file=s.key", "needs a host"},
		{"webhook://hooks.example.org/sms?secret_file=s.key", "not supported"},
		{"webhook+https://hooks.example.org/sms?secret_file=%zz", "invalid query"},
	}
	for _, tt := range tests {
		_, err := ParseSMSURL(tt.raw)
		if err == nil {
			t.Errorf("ParseSMSURL(%q) accepted", tt.raw)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSMSURL(%q) = %v; want it to mention %q", tt.raw, err, tt.want)
		}
	}
}

// TestParseSMSURLKeepsSecrets checks that no error repeats a password or
// token, however the URL is broken around it.
func TestParseSMSURLKeepsSecrets(t *testing.T) {
	const secret = "Zq9xSECRETxq9Z"
	for _, raw := range []string{
		"twilio://" + testSID + ":" + secret + "@api.twilio.com",
		"twilio://" + testSID + ":" + secret + "/x@api.twilio.com?from=+1555",
		"twilio://" + testSID + ":" + secret + "?@api.twilio.com",
		"twilio://" + testSID + ":" + secret + "#@api.twilio.com",
		"twilio://" + testSID + ":" + secret + "%zz@api.twilio.com",
		"twilio://" + testSID + ":" + secret + "\x01@api.twilio.com?from=+15551234567",
		"twilio://" + secret + ":" + secret + "@api.twilio.com?from=+15551234567",
		"kannel://u:" + secret + "@:99999",
		"kannel://u:" + secret + "@h?smsc=!!",
		"kannel://u:" + secret + "@h?from=!!",
		"twilio://" + testSID + ":" + testToken + "@api.twilio.com?colour=" + secret,
		"webhook+https://h/p?token=" + secret,
		"webhook+http://example.org/p?token=" + secret + "&secret_file=x",
	} {
		_, err := ParseSMSURL(raw)
		if err == nil {
			t.Errorf("ParseSMSURL(%q) accepted", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("ParseSMSURL(%q) repeats the secret: %v", raw, err)
		}
	}
}

func FuzzParseSMSURL(f *testing.F) {
	for _, s := range []string{
		"twilio://" + testSID + ":" + testToken + "@api.twilio.com?from=+15551234567",
		"twilio://" + testKeySID + ":tok@127.0.0.1:1?account=" + testSID + "&messaging_service=" + testService + "&insecure=1",
		"kannel://tester:foobar@sms.internal:13013?from=+15551234567&smsc=FAKE",
		"kannel+https://u:p@[::1]/x",
		"webhook+https://hooks.example.org/sms?a=b&secret_file=/x",
		"webhook+http://127.0.0.1:1/?secret_file=k&timeout=2s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := ParseSMSURL(raw)
		if err != nil {
			if cfg.Endpoint != nil || cfg.Password != "" {
				t.Fatalf("an error with a configuration: %+v", cfg)
			}
			return
		}
		if cfg.Endpoint == nil || cfg.Endpoint.Host == "" || (cfg.Endpoint.Scheme != "https" && cfg.Endpoint.Scheme != "http") {
			t.Fatalf("ParseSMSURL(%q): endpoint %v", raw, cfg.Endpoint)
		}
		if cfg.Endpoint.Scheme == "http" && cfg.Provider != ProviderKannel && !isLoopback(cfg.Endpoint.Hostname()) {
			t.Fatalf("ParseSMSURL(%q): plain http to %s", raw, cfg.Endpoint.Host)
		}
		if cfg.Timeout < time.Second || cfg.Timeout > time.Minute {
			t.Fatalf("ParseSMSURL(%q): timeout %v", raw, cfg.Timeout)
		}
		switch cfg.Provider {
		case ProviderTwilio:
			if cfg.Password == "" || !strings.HasPrefix(cfg.AccountSID, "AC") || (cfg.From == "") == (cfg.MessagingService == "") {
				t.Fatalf("ParseSMSURL(%q) = %+v", raw, cfg)
			}
		case ProviderKannel:
			if cfg.Username == "" || cfg.Password == "" {
				t.Fatalf("ParseSMSURL(%q) = %+v", raw, cfg)
			}
		case ProviderWebhook:
			if cfg.SecretFile == "" || cfg.Password != "" {
				t.Fatalf("ParseSMSURL(%q) = %+v", raw, cfg)
			}
		default:
			t.Fatalf("ParseSMSURL(%q): provider %q", raw, cfg.Provider)
		}
		if cfg.Password != "" && len(cfg.Password) > 3 && strings.Contains(cfg.String(), cfg.Password) && !strings.Contains(cfg.Username+cfg.Endpoint.String(), cfg.Password) {
			t.Fatalf("String() shows the password: %s", cfg)
		}
	})
}
