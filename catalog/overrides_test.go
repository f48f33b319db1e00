package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// overrideFS is a folder of overrides holding files, path → content.
func overrideFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for p, s := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

// TestOverridesChangeTexts lays English and Spanish overrides over the
// built-in catalog: the overridden keys read the agency's words in those
// languages, placeholders still filled; every other key and language is
// untouched, and the built-in catalog itself is not changed.
func TestOverridesChangeTexts(t *testing.T) {
	c, err := LoadWithOverrides(localeFS, overrideFS(map[string]string{
		"locales/en.json": `{"layout.case_status_online": "Ministry Case Tracker",
			"msg.access_code.subject": "Your Ministry code for {{.Host}}",
			"wait.minutes": {"one": "one minute", "other": "{{.Count}} whole minutes"}}`,
		"locales/es.json":  `{"layout.case_status_online": "Seguimiento de expedientes del Ministerio"}`,
		".hidden/x.txt":    "skipped",
		"locales/.swp.tmp": "skipped",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, key, want string }{
		{"en", "layout.case_status_online", "Ministry Case Tracker"},
		{"es", "layout.case_status_online", "Seguimiento de expedientes del Ministerio"},
		{"fr", "layout.case_status_online", Default().Text("fr", "layout.case_status_online", nil)},
		{"en", "layout.sign_out", "Sign out"},
	} {
		if got := c.Text(tc.lang, tc.key, nil); got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
	if got := c.Text("en", "msg.access_code.subject", map[string]any{"Host": "status.example.gov"}); got != "Your Ministry code for status.example.gov" {
		t.Errorf("placeholder in an override: %q", got)
	}
	if got := c.Wait("en", 300e9); got != "5 whole minutes" {
		t.Errorf("plural override: %q", got)
	}
	if c.Overridden("en") != 3 || c.Overridden("es") != 1 || c.Overridden("fr") != 0 {
		t.Errorf("overridden en=%d es=%d fr=%d, want 3, 1, 0", c.Overridden("en"), c.Overridden("es"), c.Overridden("fr"))
	}
	if got := Default().Text("en", "layout.case_status_online", nil); got != "Case Status Online" {
		t.Errorf("the built-in catalog changed: %q", got)
	}
}

// TestBadOverridesAreRefused: each mistake an operator can make stops the
// load with the file, and the key when there is one, named.
func TestBadOverridesAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // in the error
	}{
		{"unknown key", map[string]string{"locales/en.json": `{"layout.no_such_key": "x"}`}, []string{"locales/en.json", `"layout.no_such_key"`, "not a key"}},
		{"extra placeholder", map[string]string{"locales/es.json": `{"msg.access_code.subject": "Código para {{.Hots}}"}`}, []string{"locales/es.json", `"msg.access_code.subject"`, "{{.Hots}}"}},
		{"dropped placeholder", map[string]string{"locales/en.json": `{"msg.never_ask_code": "We will never ask you for this code."}`}, []string{"locales/en.json", `"msg.never_ask_code"`, "{{.URL}}"}},
		{"bad JSON", map[string]string{"locales/en.json": `{"layout.sign_out": "Leave",}`}, []string{"locales/en.json", "JSON"}},
		{"not an object", map[string]string{"locales/en.json": `["layout.sign_out"]`}, []string{"locales/en.json", "object"}},
		{"duplicate key", map[string]string{"locales/fr.json": `{"layout.sign_out": "A", "layout.sign_out": "B"}`}, []string{"locales/fr.json", `"layout.sign_out"`, "twice"}},
		{"empty text", map[string]string{"locales/en.json": `{"layout.sign_out": " "}`}, []string{"locales/en.json", `"layout.sign_out"`, "empty"}},
		{"number", map[string]string{"locales/en.json": `{"layout.sign_out": 3}`}, []string{"locales/en.json", `"layout.sign_out"`}},
		{"plural as text", map[string]string{"locales/en.json": `{"wait.minutes": "{{.Count}} minutes"}`}, []string{"locales/en.json", `"wait.minutes"`, "plural"}},
		{"text as plural", map[string]string{"locales/en.json": `{"layout.sign_out": {"other": "Leave"}}`}, []string{"locales/en.json", `"layout.sign_out"`, "not a plural"}},
		{"missing plural form", map[string]string{"locales/ar.json": `{"wait.minutes": {"other": "{{.Count}} دقيقة"}}`}, []string{"locales/ar.json", `"wait.minutes"`, "forms"}},
		{"bad plural form", map[string]string{"locales/en.json": `{"wait.minutes": {"single": "x", "other": "{{.Count}}"}}`}, []string{"locales/en.json", `"wait.minutes"`, `"single"`}},
		{"template code", map[string]string{"locales/en.json": `{"msg.access_code.subject": "{{if .Host}}x{{end}} {{.Host}}"}`}, []string{"locales/en.json", `"msg.access_code.subject"`, "only placeholders"}},
		{"broken template", map[string]string{"locales/en.json": `{"msg.access_code.subject": "code for {{.Host"}`}, []string{"locales/en.json", `"msg.access_code.subject"`, "not a valid message"}},
		{"language key", map[string]string{"locales/ar.json": `{"language.direction": "ltr"}`}, []string{"locales/ar.json", `"language.direction"`}},
		{"unknown language", map[string]string{"locales/de.json": `{}`}, []string{"locales/de.json", `"de"`}},
		{"template file", map[string]string{"templates/layout.html": `<p>`}, []string{"templates", "only locales/<lang>.json"}},
		{"stray file", map[string]string{"locales/en.yaml": `a: b`}, []string{"locales/en.yaml", "only locales/<lang>.json"}},
		{"not UTF-8", map[string]string{"locales/en.json": "{\"layout.sign_out\": \"\xff\"}"}, []string{"locales/en.json", "UTF-8"}},
		{"too large", map[string]string{"locales/en.json": `{"layout.sign_out": "` + strings.Repeat("a", MaxOverrideBytes) + `"}`}, []string{"locales/en.json", "larger"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadWithOverrides(localeFS, overrideFS(tc.files))
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestLoadOverridesFolder reads a real folder, and refuses a missing one or
// a file in its place, naming the path.
func TestLoadOverridesFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "locales"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "locales", "es.json"), []byte(`{"layout.sign_out": "Salir"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadOverrides(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Text("es", "layout.sign_out", nil); got != "Salir" {
		t.Errorf("es layout.sign_out = %q", got)
	}
	if c, err := LoadOverrides(""); err != nil || c != Default() {
		t.Errorf("no folder: %v, %v; want the built-in catalog", c, err)
	}
	missing := filepath.Join(dir, "nope")
	if _, err := LoadOverrides(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing folder: %v", err)
	}
	file := filepath.Join(dir, "locales", "es.json")
	if _, err := LoadOverrides(file); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file as the folder: %v", err)
	}
}

// TestSetDefault makes an overridden catalog the process's default and
// brings the built-in one back.
func TestSetDefault(t *testing.T) {
	c, err := LoadWithOverrides(localeFS, overrideFS(map[string]string{"locales/en.json": `{"layout.sign_out": "Leave"}`}))
	if err != nil {
		t.Fatal(err)
	}
	SetDefault(c)
	t.Cleanup(func() { SetDefault(nil) })
	if got := English("layout.sign_out", nil); got != "Leave" {
		t.Errorf("after SetDefault: %q", got)
	}
	SetDefault(nil)
	if got := English("layout.sign_out", nil); got != "Sign out" {
		t.Errorf("after SetDefault(nil): %q", got)
	}
}

// FuzzParseOverrides: whatever the file holds, parsing returns overrides
// or an error, never panics; and what it returns has no empty text.
func FuzzParseOverrides(f *testing.F) {
	for _, s := range []string{
		`{"layout.sign_out": "Leave"}`,
		`{"wait.minutes": {"one": "a minute", "other": "{{.Count}} minutes"}}`,
		`{"a": "x", "a": "y"}`, `[]`, `{`, `{"a": {"other": 1}}`, `{"a": null}`, `{} {}`, `"x"`, ``,
	} {
		f.Add([]byte(s))
	}
	c := Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		ovs, err := ParseOverrides(data)
		if err != nil {
			return
		}
		for key, o := range ovs {
			if o.Forms == nil && strings.TrimSpace(o.Text) == "" {
				t.Errorf("key %q: empty text accepted", key)
			}
			for form, s := range o.Forms {
				if strings.TrimSpace(s) == "" {
					t.Errorf("key %q form %q: empty text accepted", key, form)
				}
			}
			c.checkOverride("en", key, o) // must not panic either
		}
	})
}
