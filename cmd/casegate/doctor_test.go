package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casegate/casegate/identity"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
)

// doctorLines reads doctor's output into check name → status.
func doctorLines(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if len(line) < 24 || !strings.HasPrefix(line, "OK ") && !strings.HasPrefix(line, "WARN ") && !strings.HasPrefix(line, "FAIL ") {
			continue
		}
		got[strings.TrimSpace(line[6:24])] = strings.TrimSpace(line[:5])
	}
	return got
}

// TestDoctor checks a healthy deployment (every check OK, no mail sent) and
// then breaks one thing at a time: each break shows as the check it
// concerns, WARN or FAIL, and a FAIL makes doctor exit with status 1.
func TestDoctor(t *testing.T) {
	mail := smtptest.Start(t)
	closed := func() string { // a port nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	silent := smtptest.Silent(t)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	dkimKey := testenv.KeyFile(t, edKey, false)

	// healthy returns the settings of a working deployment in a new folder.
	healthy := func(t *testing.T) (map[string]string, string) {
		dir := filepath.Join(t.TempDir(), "data")
		vars := map[string]string{
			"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
			"CASEGATE_SMTP_URL": mail.URL(), "CASEGATE_PUBLIC_URL": "https://status.casegate.test",
			"CASEGATE_TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8",
			"CASEGATE_MAIL_FROM":       "no-reply@casegate.test", "CASEGATE_DKIM_KEY_FILE": dkimKey,
		}
		if out, _, err := runCmd(t, vars, "migrate"); err != nil {
			t.Fatalf("migrate: %v %s", err, out)
		}
		return vars, dir
	}
	execSQL := func(t *testing.T, path, query string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(query); err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
		name   string
		change func(t *testing.T, vars map[string]string, dir string)
		check  string // the check that must show it
		want   string // its status
	}{
		{"healthy", nil, "", ""},
		{"secret readable by others", func(t *testing.T, v map[string]string, dir string) {
			os.Chmod(v["CASEGATE_SECRET_FILE"], 0o644)
		}, "secret file", "FAIL"},
		{"secret not a secret file", func(t *testing.T, v map[string]string, dir string) {
			os.WriteFile(v["CASEGATE_SECRET_FILE"], []byte("k1 not-base64!!\n"), 0o600)
		}, "secret file", "FAIL"},
		{"secret missing", func(t *testing.T, v map[string]string, dir string) {
			os.Remove(v["CASEGATE_SECRET_FILE"])
		}, "secret file", "WARN"},
		{"public URL plain http", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_PUBLIC_URL"] = "http://status.casegate.test"
		}, "public URL", "WARN"},
		{"public URL plain http on loopback", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_PUBLIC_URL"] = "http://127.0.0.1:8080"
		}, "public URL", "OK"},
		{"public URL not set", func(t *testing.T, v map[string]string, dir string) {
			delete(v, "CASEGATE_PUBLIC_URL")
		}, "public URL", "WARN"},
		{"mail server not set", func(t *testing.T, v map[string]string, dir string) {
			delete(v, "CASEGATE_SMTP_URL")
		}, "mail server", "FAIL"},
		{"mail server refuses connections", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_SMTP_URL"] = "smtp://" + closed + "?tls=none"
		}, "mail server", "FAIL"},
		{"mail server never answers", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_SMTP_URL"] = silent
		}, "mail server", "FAIL"},
		{"mail server without STARTTLS", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_SMTP_URL"] = strings.Replace(mail.URL(), "tls=none", "tls=starttls", 1)
		}, "mail server", "FAIL"},
		{"every client a proxy (IPv4)", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_TRUSTED_PROXIES"] = "10.0.0.1, 0.0.0.0/0"
		}, "trusted proxies", "FAIL"},
		{"every client a proxy (IPv6)", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_TRUSTED_PROXIES"] = "::/0"
		}, "trusted proxies", "FAIL"},
		{"a public proxy", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_TRUSTED_PROXIES"] = "10.0.0.1, 203.0.113.7"
		}, "trusted proxies", "WARN"},
		{"code lifetime past NIST's 10 minutes", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_CODE_TTL"] = "12m"
		}, "code lifetime", "WARN"},
		{"code lifetime absurd", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_CODE_TTL"] = "20m"
		}, "code lifetime", "FAIL"},
		{"too many attempts per code", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_CODE_MAX_ATTEMPTS"] = "20"
		}, "attempts per code", "FAIL"},
		{"lockout past NIST's 100", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_LOCK_AFTER_CONSECUTIVE_FAILURES"] = "1000"
		}, "lockout", "FAIL"},
		{"redeem limit disabled", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_LIMIT_REDEEMS_PER_IP"] = "1000000/1m"
		}, "rate limits", "FAIL"},
		{"request limit loose", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_LIMIT_REQUESTS_PER_IP"] = "300/5m"
		}, "rate limits", "WARN"},
		{"long idle sessions", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_SESSION_IDLE"] = "1h"
		}, "sessions", "WARN"},
		{"database missing", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_DB"] = filepath.Join(t.TempDir(), "nothing", "casegate.db")
		}, "database", "WARN"},
		{"database behind", func(t *testing.T, v map[string]string, dir string) {
			execSQL(t, v["CASEGATE_DB"], `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`)
		}, "database", "WARN"},
		{"database ahead", func(t *testing.T, v map[string]string, dir string) {
			execSQL(t, v["CASEGATE_DB"], `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`)
		}, "database", "FAIL"},
		{"database readable by others", func(t *testing.T, v map[string]string, dir string) {
			os.Chmod(dir, 0o755)
			os.Chmod(v["CASEGATE_DB"], 0o644)
		}, "database file", "FAIL"},
		{"database readable by its group, folder private", func(t *testing.T, v map[string]string, dir string) {
			os.Chmod(v["CASEGATE_DB"], 0o640)
		}, "database file", "FAIL"},
		{"WAL readable by others", func(t *testing.T, v map[string]string, dir string) {
			loosen(t, v["CASEGATE_DB"], v["CASEGATE_DB"]+"-wal", 0o644)
		}, "database file", "FAIL"},
		{"SHM readable by others", func(t *testing.T, v map[string]string, dir string) {
			loosen(t, v["CASEGATE_DB"], v["CASEGATE_DB"]+"-shm", 0o604)
		}, "database file", "FAIL"},
		{"database not a database", func(t *testing.T, v map[string]string, dir string) {
			os.WriteFile(v["CASEGATE_DB"], []byte("this is not SQLite"), 0o600)
			os.Remove(v["CASEGATE_DB"] + "-wal")
			os.Remove(v["CASEGATE_DB"] + "-shm")
		}, "database", "FAIL"},
		{"PostgreSQL unreachable", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_DB"] = "postgres://casegate@" + closed + "/casegate?sslmode=disable&connect_timeout=2"
		}, "database", "FAIL"},
		{"no DKIM key", func(t *testing.T, v map[string]string, dir string) {
			delete(v, "CASEGATE_DKIM_KEY_FILE")
		}, "DKIM signing", "WARN"},
		{"DKIM key file missing", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_DKIM_KEY_FILE"] = filepath.Join(dir, "no-such-key.pem")
		}, "DKIM signing", "FAIL"},
		{"DKIM key readable by others", func(t *testing.T, v map[string]string, dir string) {
			loose := filepath.Join(t.TempDir(), "dkim.pem")
			data, _ := os.ReadFile(dkimKey)
			os.WriteFile(loose, data, 0o644)
			v["CASEGATE_DKIM_KEY_FILE"] = loose
		}, "DKIM signing", "FAIL"},
		{"bad configuration", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_LISTEN"] = "everywhere"
		}, "configuration", "FAIL"},
		{"SMS budget read", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_SMS_URL"] = "kannel://casegate:pw@127.0.0.1:13013"
			spendTexts(t, v, 1)
		}, "SMS budget", "OK"},
		{"SMS budget mostly spent", func(t *testing.T, v map[string]string, dir string) {
			v["CASEGATE_SMS_URL"] = "kannel://casegate:pw@127.0.0.1:13013"
			v["CASEGATE_SMS_DAILY_BUDGET"] = "10" // 7 first codes
			spendTexts(t, v, 6)
		}, "SMS budget", "WARN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars, dir := healthy(t)
			if c.change != nil {
				c.change(t, vars, dir)
			}
			before := len(mail.Messages())
			modes := fileModes(vars["CASEGATE_DB"])
			out, _, err := runCmd(t, vars, "doctor", "-timeout", "1s")
			for name, mode := range fileModes(vars["CASEGATE_DB"]) {
				if was, ok := modes[name]; ok && was != mode {
					t.Errorf("doctor changed %s from %04o to %04o", name, was, mode)
				}
			}
			got := doctorLines(t, out)
			failed := false
			for name, status := range got {
				switch {
				case name == c.check:
					if status != c.want {
						t.Errorf("%s: %s, want %s", name, status, c.want)
					}
				case status != "OK":
					t.Errorf("%s: %s, want OK (only %q is broken)", name, status, c.check)
				}
				failed = failed || status == "FAIL"
			}
			if c.check != "" && got[c.check] == "" {
				t.Errorf("no %q check in the output", c.check)
			}
			var ee exitError
			if failed != (errors.As(err, &ee) && ee == 1) || !failed && err != nil {
				t.Errorf("exit: %v, with a FAIL: %v", err, failed)
			}
			if n := len(mail.Messages()); n != before {
				t.Errorf("doctor sent %d messages", n-before)
			}
			if t.Failed() {
				t.Logf("doctor said:\n%s", out)
			}
		})
	}
}

// loosen keeps the database at db open and written to, as a running serve
// does (so its -wal and -shm exist and are not empty: SQLite gives an empty
// one the database's mode when it opens it), and gives the file at path mode.
func loosen(t *testing.T, db, path string, mode os.FileMode) {
	t.Helper()
	conn, err := sql.Open("sqlite", db+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Exec(`CREATE TABLE scratch (x); INSERT INTO scratch VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// fileModes returns the permissions of a SQLite database's files that exist.
func fileModes(db string) map[string]os.FileMode {
	out := map[string]os.FileMode{}
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if info, err := os.Stat(f); err == nil {
			out[filepath.Base(f)] = info.Mode().Perm()
		}
	}
	return out
}

// TestDoctorCreatesNothing runs doctor where nothing exists yet: it reports
// the missing secret file and database and leaves both missing.
func TestDoctorCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{
		"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": smtptest.Start(t).URL(), "CASEGATE_PUBLIC_URL": "https://status.casegate.test",
	}
	out, _, err := runCmd(t, vars, "doctor")
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	if got := doctorLines(t, out); got["secret file"] != "WARN" || got["database"] != "WARN" {
		t.Errorf("doctor said:\n%s", out)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("doctor created %s (%v)", dir, err)
	}
}

// TestDoctorOnPostgres checks a PostgreSQL database, empty and then
// migrated: doctor reads its schema version without changing it.
func TestDoctorOnPostgres(t *testing.T) {
	dsn := storetest.PostgresSchema(t)
	dir := t.TempDir()
	vars := map[string]string{
		"CASEGATE_DB": dsn + "&pool_max_conns=4", "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": smtptest.Start(t).URL(), "CASEGATE_PUBLIC_URL": "https://status.casegate.test",
	}
	for _, step := range []struct{ before, want string }{{"", "WARN"}, {"migrate", "OK"}} {
		if step.before != "" {
			if out, _, err := runCmd(t, vars, step.before); err != nil {
				t.Fatalf("%s: %v %s", step.before, err, out)
			}
		}
		out, _, _ := runCmd(t, vars, "doctor")
		if got := doctorLines(t, out)["database"]; got != step.want {
			t.Errorf("after %q: database %s, want %s\n%s", step.before, got, step.want, out)
		}
		// The database is named as the store tells it: server, port,
		// database and user, no settings.
		if loc, err := store.Locate(vars["CASEGATE_DB"]); err != nil || !strings.Contains(out, loc.Shown+" opens") || strings.Contains(out, "pool_max_conns") {
			t.Errorf("after %q: want the database named %q (%v), without settings:\n%s", step.before, loc.Shown, err, out)
		}
	}
}

// spendTexts has n people, each on a case of their own with a phone only,
// ask for a code by text through the portal of the deployment vars
// configures.
func spendTexts(t *testing.T, vars map[string]string, n int) {
	t.Helper()
	ctx := t.Context()
	e := env{getenv: testEnv(vars), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	cfg, err := loadConfig(newFlagSet("test", io.Discard), nil, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, e, cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(`{"receipt_number":"IOE%010d","form_type":"I-485","office":"NBC","received_on":"2025-03-14",`+
			`"parties":[{"role":"applicant","given_name":"Ana","family_name":"P%d","date_of_birth":"1990-04-02","country_of_birth":"MX","phone":"+1201555020%d"}]}`, i, i, i))
	}
	if res, err := a.portal.Importer().Import(ctx, strings.NewReader(strings.Join(lines, "\n")), "jsonl", "test", nil); err != nil || res.Created != n {
		t.Fatalf("import: %+v %v", res, err)
	}
	for i := range n {
		_, err := a.portal.RequestCode(ctx, portal.CodeRequest{ReceiptNumber: fmt.Sprintf("IOE%010d", i), GivenName: "Ana", FamilyName: fmt.Sprintf("P%d", i),
			DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: "sms", ClientIP: fmt.Sprintf("192.0.2.%d", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestDoctorSaysTheSMSSpend(t *testing.T) {
	t.Cleanup(func() { identity.SetPhoneRegion(identity.DefaultPhoneRegion) })
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMS_URL": "kannel://casegate:pw@127.0.0.1:13013", "CASEGATE_SMS_DAILY_BUDGET": "10"}
	if out, _, err := runCmd(t, vars, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	spendTexts(t, vars, 6)
	out, _, _ := runCmd(t, vars, "doctor", "-timeout", "1s")
	want := "spent of the daily 10 (texts not refilled yet): first_code 6 of 7 (85%), code 0 of 1, contact 0 of 1, notice 0 of 1"
	if !strings.Contains(out, want) || !strings.Contains(out, "first_code at 80% or more") {
		t.Errorf("doctor said:\n%s\nwant %q", out, want)
	}
}
