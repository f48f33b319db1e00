package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
)

var txtRecord = regexp.MustCompile(`^(\S+)\. IN TXT ((?:"[^"]{1,255}" ?)+)\n$`)

// joinTXT joins the quoted strings of a TXT record as a resolver does.
func joinTXT(quoted string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimSpace(quoted), `" "`) {
		b.WriteString(strings.Trim(part, `"`))
	}
	return b.String()
}

func TestDKIMRecordCommand(t *testing.T) {
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	tests := []struct {
		name, domain, wantName, wantValue string
		key                               any
	}{
		{"ed25519, From domain", "", "casegate._domainkey.example.gov", "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edPub), edKey},
		{"rsa, own domain", "mail.example.gov", "casegate._domainkey.mail.example.gov", "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaDER), rsaKey},
	}
	for _, tt := range tests {
		out, _, err := runCmd(t, map[string]string{
			"CASEGATE_DKIM_KEY_FILE": testenv.KeyFile(t, tt.key, false), "CASEGATE_DKIM_DOMAIN": tt.domain,
			"CASEGATE_MAIL_FROM": "Case Status <no-reply@Example.gov>",
		}, "dkim-record")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		m := txtRecord.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%s: not a zone-file TXT line with strings of at most 255 bytes: %q", tt.name, out)
		}
		if m[1] != tt.wantName || joinTXT(m[2]) != tt.wantValue {
			t.Errorf("%s: %s = %q, want %s = %q", tt.name, m[1], joinTXT(m[2]), tt.wantName, tt.wantValue)
		}
	}
	if _, _, err := runCmd(t, nil, "dkim-record"); err == nil || !strings.Contains(err.Error(), "CASEGATE_DKIM_KEY_FILE") {
		t.Errorf("without a key file: %v", err)
	}
	if _, _, err := runCmd(t, nil, "dkim-record", "stray"); err == nil || !strings.Contains(err.Error(), `unexpected argument "stray"`) {
		t.Errorf("dkim-record with an argument: %v", err)
	}
}

// TestBadDKIMKeyStopsTheStart: serve and worker refuse to start on a key
// file they cannot use, naming the setting and the path, before they open
// the database.
func TestBadDKIMKeyStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	notKey := filepath.Join(dir, "not-a-key.pem")
	os.WriteFile(notKey, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
	for _, path := range []string{filepath.Join(dir, "missing.pem"), notKey} {
		for _, cmd := range []string{"serve", "worker"} {
			db := filepath.Join(dir, cmd+".db")
			_, _, err := runCmd(t, map[string]string{
				"CASEGATE_SMTP_URL": "smtp://127.0.0.1:2525?tls=none", "CASEGATE_DKIM_KEY_FILE": path,
				"CASEGATE_DB": db, "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"), "CASEGATE_LISTEN": "127.0.0.1:0",
				"CASEGATE_MAIL_FROM": "no-reply@example.gov",
			}, cmd)
			if err == nil || !strings.Contains(err.Error(), "CASEGATE_DKIM_KEY_FILE") || !strings.Contains(err.Error(), path) {
				t.Errorf("%s with %s: %v", cmd, filepath.Base(path), err)
			}
			if _, statErr := os.Stat(db); statErr == nil {
				t.Errorf("%s made a database before refusing the key", cmd)
			}
		}
	}
}

func TestDKIMSettingsNameWhatToFix(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	file := testenv.KeyFile(t, key, false)
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{}, "CASEGATE_DKIM_DOMAIN: DKIM domain \"localhost\""}, // the default From is no-reply@localhost
		{map[string]string{"CASEGATE_DKIM_DOMAIN": "not a domain"}, "CASEGATE_DKIM_DOMAIN: DKIM domain"},
		{map[string]string{"CASEGATE_MAIL_FROM": "a@example.gov", "CASEGATE_DKIM_SELECTOR": "bad_selector"}, "CASEGATE_DKIM_SELECTOR: DKIM selector"},
	}
	for _, tt := range tests {
		tt.vars["CASEGATE_DKIM_KEY_FILE"] = file
		c, err := loadConfig(newFlagSet("test", io.Discard), nil, testEnv(tt.vars))
		if err == nil {
			_, err = c.dkim()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.vars, err, tt.want)
		}
	}
}

func TestTimeZoneSetting(t *testing.T) {
	c, err := loadConfig(newFlagSet("test", io.Discard), nil, testEnv(nil))
	if err != nil || c.TimeZone != time.UTC {
		t.Fatalf("default zone %v, %v; want UTC", c.TimeZone, err)
	}
	c, err = loadConfig(newFlagSet("test", io.Discard), nil, testEnv(map[string]string{"CASEGATE_TIME_ZONE": "America/New_York"}))
	if err != nil || c.TimeZone.String() != "America/New_York" {
		t.Fatalf("America/New_York: %v, %v", c.TimeZone, err)
	}
	if got := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC).In(c.TimeZone).Format("15:04 MST"); got != "08:00 EDT" {
		t.Errorf("noon UTC in July is %q in New York", got)
	}
	for _, bad := range []string{"Mars/Olympus_Mons", "Local", "EST5EDT,M3.2.0,M11.1.0", "../etc/passwd", "/etc/localtime", "america/new_york"} {
		_, err := loadConfig(newFlagSet("test", io.Discard), nil, testEnv(map[string]string{"CASEGATE_TIME_ZONE": bad}))
		if err == nil || !strings.Contains(err.Error(), "CASEGATE_TIME_ZONE") || !strings.Contains(err.Error(), "IANA") {
			t.Errorf("CASEGATE_TIME_ZONE=%q: %v", bad, err)
		}
	}
}
