package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/catalog"
	"github.com/casegate/casegate/internal/smtptest"
)

const brandLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>`

// writeFiles writes path → content under dir and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for p, s := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBadBrandingRefusesToStart: each mistake in the branding settings or
// the overrides folder stops serve before it listens, with a message naming
// the setting, and for an override the file and the key.
func TestBadBrandingRefusesToStart(t *testing.T) {
	t.Cleanup(func() { catalog.SetDefault(nil) })
	dir := t.TempDir()
	overrides := func(name string, files map[string]string) string {
		return writeFiles(t, filepath.Join(dir, name), files)
	}
	logo := writeFiles(t, filepath.Join(dir, "logo"), map[string]string{
		"ok.svg": brandLogo, "script.svg": `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"big.png": strings.Repeat("x", 256<<10+1), "logo.gif": "GIF89a",
	})
	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"unknown key", map[string]string{"CASEGATE_OVERRIDES_DIR": overrides("unknown", map[string]string{"locales/es.json": `{"layout.no_such": "x"}`})},
			[]string{"CASEGATE_OVERRIDES_DIR", "locales/es.json", `"layout.no_such"`}},
		{"wrong placeholder", map[string]string{"CASEGATE_OVERRIDES_DIR": overrides("placeholder", map[string]string{"locales/en.json": `{"msg.access_code.subject": "Code for {{.Site}}"}`})},
			[]string{"CASEGATE_OVERRIDES_DIR", "locales/en.json", `"msg.access_code.subject"`, "{{.Site}}"}},
		{"bad JSON", map[string]string{"CASEGATE_OVERRIDES_DIR": overrides("json", map[string]string{"locales/fr.json": `{"layout.sign_out": }`})},
			[]string{"CASEGATE_OVERRIDES_DIR", "locales/fr.json", "JSON"}},
		{"template override", map[string]string{"CASEGATE_OVERRIDES_DIR": overrides("tmpl", map[string]string{"templates/layout.html": "<p>"})},
			[]string{"CASEGATE_OVERRIDES_DIR", "templates", "only locales/<lang>.json"}},
		{"missing folder", map[string]string{"CASEGATE_OVERRIDES_DIR": filepath.Join(dir, "nowhere")},
			[]string{"CASEGATE_OVERRIDES_DIR", "nowhere"}},
		{"missing logo", map[string]string{"CASEGATE_AGENCY_NAME": "M", "CASEGATE_AGENCY_LOGO": filepath.Join(logo, "none.svg")},
			[]string{"CASEGATE_AGENCY_LOGO", "none.svg"}},
		{"scripted logo", map[string]string{"CASEGATE_AGENCY_NAME": "M", "CASEGATE_AGENCY_LOGO": filepath.Join(logo, "script.svg")},
			[]string{"CASEGATE_AGENCY_LOGO", "<script>"}},
		{"large logo", map[string]string{"CASEGATE_AGENCY_NAME": "M", "CASEGATE_AGENCY_LOGO": filepath.Join(logo, "big.png")},
			[]string{"CASEGATE_AGENCY_LOGO", "256 KiB"}},
		{"logo type", map[string]string{"CASEGATE_AGENCY_NAME": "M", "CASEGATE_AGENCY_LOGO": filepath.Join(logo, "logo.gif")},
			[]string{"CASEGATE_AGENCY_LOGO", ".gif"}},
		{"logo without name", map[string]string{"CASEGATE_AGENCY_LOGO": filepath.Join(logo, "ok.svg")},
			[]string{"CASEGATE_AGENCY_LOGO", "CASEGATE_AGENCY_NAME"}},
		{"plain http help", map[string]string{"CASEGATE_HELP_ADDRESS": "http://example.gov/help"},
			[]string{"CASEGATE_HELP_ADDRESS", "https://"}},
		{"too many contact lines", map[string]string{"CASEGATE_AGENCY_CONTACT": "a|b|c|d|e|f|g"},
			[]string{"CASEGATE_AGENCY_CONTACT", "at most 6"}},
		{"hidden characters in the name", map[string]string{"CASEGATE_AGENCY_NAME": "Ministry\u202e of"},
			[]string{"CASEGATE_AGENCY_NAME", "U+202E"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{
				"CASEGATE_DB": filepath.Join(t.TempDir(), "c.db"), "CASEGATE_SECRET_FILE": filepath.Join(t.TempDir(), "s"),
				"CASEGATE_LISTEN": "127.0.0.1:0", "CASEGATE_SMTP_URL": "smtp://127.0.0.1:1?tls=none",
			}
			for k, v := range tc.vars {
				vars[k] = v
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // should the configuration ever be accepted, serve stops at once
			err := run(ctx, []string{"casegate", "serve"}, testEnv(vars), strings.NewReader(""), io.Discard, io.Discard)
			if err == nil {
				t.Fatal("serve accepted the configuration")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestServeShowsTheAgency runs serve with the agency's name, logo, contact
// lines, help address and an overrides folder: the pages show them and the
// overridden text in English and Spanish, the logo is served, and the code
// email — through a real SMTP server — carries the overridden Spanish
// subject, the name and the contact lines.
func TestServeShowsTheAgency(t *testing.T) {
	t.Cleanup(func() { catalog.SetDefault(nil) })
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"logo.svg":                  brandLogo,
		"overrides/locales/en.json": `{"layout.case_status_online": "Ministry Case Tracker"}`,
		"overrides/locales/es.json": `{"layout.case_status_online": "Seguimiento del Ministerio",
			"msg.access_code.subject": "Su código del Ministerio para {{.Host}}"}`,
	})
	mail := smtptest.Start(t)
	vars := map[string]string{
		"CASEGATE_DB": filepath.Join(dir, "c.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": mail.URL(), "CASEGATE_PUBLIC_URL": "https://status.example.gov",
		"CASEGATE_AGENCY_NAME": "Ministry of Migration", "CASEGATE_AGENCY_LOGO": filepath.Join(dir, "logo.svg"),
		"CASEGATE_AGENCY_CONTACT": "1 Main Street, Springfield | +1 555 0100", "CASEGATE_HELP_ADDRESS": "https://migration.example.gov/help",
		"CASEGATE_OVERRIDES_DIR": filepath.Join(dir, "overrides"),
	}
	if out, _, err := runCmd(t, vars, "import", casesFile(t, 1)); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	s := startServe(t, vars)
	get := func(path, lang string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Header.Set("Accept-Language", lang)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	var logo string
	for lang, service := range map[string]string{"en": "Ministry Case Tracker", "es": "Seguimiento del Ministerio"} {
		_, page := get("/", lang)
		for _, want := range []string{
			"| " + service + " | Ministry of Migration</title>", `alt="Ministry of Migration"`, "<span>" + service + "</span>",
			`<span dir="auto">1 Main Street, Springfield</span>`, `href="https://migration.example.gov/help"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s home page lacks %q:\n%s", lang, want, page)
			}
		}
		if i := strings.Index(page, "/static/logo.svg?v="); i >= 0 {
			logo = page[i : i+strings.IndexByte(page[i:], '"')]
		}
	}
	resp, body := get(logo, "en")
	if resp.StatusCode != http.StatusOK || body != brandLogo || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("logo %q: %d %q %q", logo, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	req, _ := json.Marshal(map[string]string{
		"receipt_number": rosaReceipt(0), "given_name": "Rosa", "family_name": "Prueba", "date_of_birth": "1990-04-02",
		"country_of_birth": "MX", "channel": "email", "language": "es",
	})
	r, err := http.Post(s.base+"/api/v1/access-codes", "application/json", strings.NewReader(string(req)))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusAccepted {
		t.Fatalf("code request: %d", r.StatusCode)
	}
	msgs, err := mail.WaitFor(1, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.Subject != "Su código del Ministerio para status.example.gov" {
		t.Errorf("subject %q, want the overridden Spanish one", m.Subject)
	}
	for _, want := range []string{"Ministry of Migration", "1 Main Street, Springfield", "+1 555 0100", "https://migration.example.gov/help"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, strings.ReplaceAll(want, "+", "&#43;")) {
			t.Errorf("email lacks %q:\n%s\n%s", want, m.Text, m.HTML)
		}
	}
}

// TestDoctorSaysTheBranding: doctor reports what the agency's settings will
// show, the overridden texts counted by language, warns when no help
// address is set, and fails on a bad override naming the file and key.
func TestDoctorSaysTheBranding(t *testing.T) {
	t.Cleanup(func() { catalog.SetDefault(nil) })
	mail := smtptest.Start(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"logo.svg":                  brandLogo,
		"overrides/locales/es.json": `{"layout.sign_out": "Salir", "layout.your_cases": "Sus expedientes"}`,
		"bad/locales/en.json":       `{"layout.nope": "x"}`,
	})
	vars := map[string]string{
		"CASEGATE_DB": filepath.Join(dir, "c.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": mail.URL(), "CASEGATE_PUBLIC_URL": "https://status.example.gov",
		"CASEGATE_AGENCY_NAME": "Ministry of Migration", "CASEGATE_AGENCY_LOGO": filepath.Join(dir, "logo.svg"),
		"CASEGATE_AGENCY_CONTACT": "1 Main Street | +1 555 0100", "CASEGATE_OVERRIDES_DIR": filepath.Join(dir, "overrides"),
	}
	if out, _, err := runCmd(t, vars, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	line := func(out string) string {
		for l := range strings.SplitSeq(out, "\n") {
			if strings.Contains(l, " branding ") || strings.Contains(l, " configuration ") {
				return l
			}
		}
		return ""
	}
	out, _, _ := runCmd(t, vars, "doctor", "-timeout", "1s")
	if l := line(out); !strings.HasPrefix(l, "WARN") || !strings.Contains(l, `name "Ministry of Migration"`) ||
		!strings.Contains(l, "logo logo.svg (image/svg+xml") || !strings.Contains(l, "2 contact lines") || !strings.Contains(l, "es 2") || !strings.Contains(l, "no help address") {
		t.Errorf("without a help address, doctor said %q:\n%s", l, out)
	}
	vars["CASEGATE_HELP_ADDRESS"] = "help@migration.example.gov"
	out, _, _ = runCmd(t, vars, "doctor", "-timeout", "1s")
	if l := line(out); !strings.HasPrefix(l, "OK") || !strings.Contains(l, "help at help@migration.example.gov") {
		t.Errorf("with a help address, doctor said %q:\n%s", l, out)
	}
	vars["CASEGATE_OVERRIDES_DIR"] = filepath.Join(dir, "bad")
	out, _, err := runCmd(t, vars, "doctor", "-timeout", "1s")
	if l := line(out); err == nil || !strings.HasPrefix(l, "FAIL") || !strings.Contains(l, "locales/en.json") || !strings.Contains(l, `"layout.nope"`) {
		t.Errorf("with a bad override, doctor said %q (%v):\n%s", l, err, out)
	}
}
