package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretSettingsFromFiles: CASEGATE_X_FILE reads the value from the
// file with its line break taken off; both set is an error; a file that
// cannot be read is an error naming the path and never what it holds.
func TestSecretSettingsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	smtp := write("smtp", "smtp://mailer:s3cret-pass@127.0.0.1:2525?tls=none\n")
	sms := write("sms", "kannel://user:kannel-pass@127.0.0.1:13013?from=12345\r\n")
	db := write("db", filepath.Join(dir, "from-file.db")+"\n")
	c, err := loadConfig(newFlagSet("test", io.Discard), nil, testEnv(map[string]string{
		"CASEGATE_SMTP_URL_FILE": smtp, "CASEGATE_SMS_URL_FILE": sms, "CASEGATE_DB_FILE": db,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "smtp://mailer:s3cret-pass@127.0.0.1:2525?tls=none" || c.SMSURL != "kannel://user:kannel-pass@127.0.0.1:13013?from=12345" || c.DB != filepath.Join(dir, "from-file.db") {
		t.Errorf("from files: SMTP %q, SMS %q, DB %q", c.SMTPURL, c.SMSURL, c.DB)
	}
	// A flag still wins over the file.
	c, err = loadConfig(newFlagSet("test", io.Discard), []string{"-db", "flag.db"}, testEnv(map[string]string{"CASEGATE_DB_FILE": db}))
	if err != nil || c.DB != "flag.db" {
		t.Errorf("-db beside CASEGATE_DB_FILE: %q, %v", c.DB, err)
	}

	badSMS := write("bad-sms", "twilio://ACxxxx:tw1l10-t0ken-value@api.twilio.com\n") // no from=, and not a SID
	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string // in the error
	}{
		{"both", map[string]string{"CASEGATE_SMTP_URL": "smtp://a@b", "CASEGATE_SMTP_URL_FILE": smtp}, []string{"CASEGATE_SMTP_URL and CASEGATE_SMTP_URL_FILE are both set"}},
		{"missing file", map[string]string{"CASEGATE_SMTP_URL_FILE": filepath.Join(dir, "nope")}, []string{"CASEGATE_SMTP_URL_FILE", filepath.Join(dir, "nope"), "no such file"}},
		{"a folder", map[string]string{"CASEGATE_SMS_URL_FILE": dir}, []string{"CASEGATE_SMS_URL_FILE", "cannot read " + dir}},
		{"empty", map[string]string{"CASEGATE_SMTP_URL_FILE": write("empty", "\n")}, []string{filepath.Join(dir, "empty") + " is empty"}},
		{"two lines", map[string]string{"CASEGATE_SMTP_URL_FILE": write("two", "smtp://a@b\nsmtp://c@d\n")}, []string{"more than one line"}},
		{"bad value", map[string]string{"CASEGATE_SMS_URL_FILE": badSMS}, []string{"CASEGATE_SMS_URL_FILE (" + badSMS + ")", "SMS URL"}},
	} {
		_, err := loadConfig(newFlagSet("test", io.Discard), nil, testEnv(tc.vars))
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
		for _, secret := range []string{"s3cret-pass", "kannel-pass", "tw1l10-t0ken-value"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error %q repeats a secret", tc.name, err)
			}
		}
	}

	// A PostgreSQL URL from a file that does not parse: the error is the
	// store's, without the password.
	pg := write("pg", "postgres://casegate:pg-pa55word@[::1/casegate\n")
	_, _, err = runCmd(t, map[string]string{"CASEGATE_DB_FILE": pg, "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}, "migrate")
	if err == nil || strings.Contains(err.Error(), "pg-pa55word") || !strings.Contains(err.Error(), "CASEGATE_DB") {
		t.Errorf("migrate with a bad PostgreSQL URL in CASEGATE_DB_FILE: %v", err)
	}
}

// TestSecretSettingsFromCredentials: under systemd's LoadCredential= the
// credentials smtp_url, sms_url and db in $CREDENTIALS_DIRECTORY give the
// settings the environment leaves out; the environment wins where it
// gives one.
func TestSecretSettingsFromCredentials(t *testing.T) {
	creds := t.TempDir()
	for name, v := range map[string]string{
		"smtp_url": "smtp://cred:cred-pass@127.0.0.1:2525?tls=none\n",
		"sms_url":  "kannel://u:p@127.0.0.1:13013?from=12345",
		"db":       "cred.db\n",
	} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(v), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	c, err := loadConfig(newFlagSet("test", io.Discard), nil, testEnv(map[string]string{"CREDENTIALS_DIRECTORY": creds}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "smtp://cred:cred-pass@127.0.0.1:2525?tls=none" || c.SMSURL != "kannel://u:p@127.0.0.1:13013?from=12345" || c.DB != "cred.db" {
		t.Errorf("from credentials: SMTP %q, SMS %q, DB %q", c.SMTPURL, c.SMSURL, c.DB)
	}
	c, err = loadConfig(newFlagSet("test", io.Discard), nil, testEnv(map[string]string{"CREDENTIALS_DIRECTORY": creds, "CASEGATE_DB": "env.db"}))
	if err != nil || c.DB != "env.db" {
		t.Errorf("CASEGATE_DB beside a db credential: %q, %v", c.DB, err)
	}
	// A credential that is not there leaves the default.
	c, err = loadConfig(newFlagSet("test", io.Discard), nil, testEnv(map[string]string{"CREDENTIALS_DIRECTORY": t.TempDir()}))
	if err != nil || c.SMTPURL != "" || c.DB != "casegate-data/casegate.db" {
		t.Errorf("an empty credentials folder: SMTP %q, DB %q, %v", c.SMTPURL, c.DB, err)
	}
	// One that cannot be read is an error naming it.
	broken := t.TempDir()
	if err := os.Mkdir(filepath.Join(broken, "smtp_url"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = loadConfig(newFlagSet("test", io.Discard), nil, testEnv(map[string]string{"CREDENTIALS_DIRECTORY": broken}))
	if err == nil || !strings.Contains(err.Error(), "credential smtp_url") {
		t.Errorf("an unreadable smtp_url credential: %v", err)
	}
}

// FuzzReadSecretFile: a secret's file gives its one line without the line
// break, or an error that never repeats what the file holds.
func FuzzReadSecretFile(f *testing.F) {
	f.Add("smtp://u:p@h:25\n")
	f.Add("a\r\n")
	f.Add("\n\n")
	f.Add("x\ny")
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := readSecretFile(path)
		if err != nil {
			if len(strings.TrimSpace(data)) >= 4 && strings.Contains(err.Error(), strings.TrimSpace(data)) {
				t.Fatalf("readSecretFile(%q): %v repeats the file", data, err)
			}
			return
		}
		if strings.ContainsAny(v, "\r\n") || strings.TrimSpace(v) == "" {
			t.Fatalf("readSecretFile(%q) = %q", data, v)
		}
		if data != v && data != v+"\n" && data != v+"\r\n" && data != v+"\r" {
			t.Fatalf("readSecretFile(%q) = %q, want the file less one line break", data, v)
		}
	})
}
