package catalog

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"testing"
	"testing/fstest"
	"time"
)

// rawFiles reads every message file as key → message, a plural message as
// its forms joined, and the keys of English's plural messages.
func rawFiles(t *testing.T) (map[string]map[string]string, []string) {
	t.Helper()
	out := map[string]map[string]string{}
	var plurals []string
	for _, lang := range Default().Languages() {
		data, err := localeFS.ReadFile("locales/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		out[lang] = map[string]string{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) != nil {
				var forms map[string]string
				if err := json.Unmarshal(v, &forms); err != nil {
					t.Fatalf("%s %s: neither a text nor plural forms", lang, k)
				}
				for _, f := range slices.Sorted(maps.Keys(forms)) {
					s += forms[f] + "\n"
				}
				if lang == Reference {
					plurals = append(plurals, k)
				}
			}
			out[lang][k] = s
		}
	}
	return out, plurals
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func names(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestEveryLanguageHasEveryKey checks each language against English: the
// same keys, no more and no fewer, each message filling the same values.
func TestEveryLanguageHasEveryKey(t *testing.T) {
	files, _ := rawFiles(t)
	en := files[Reference]
	if len(en) < 300 {
		t.Fatalf("English has only %d messages", len(en))
	}
	if len(files) < 2 {
		t.Fatalf("only %d languages", len(files))
	}
	for lang, msgs := range files {
		for k, m := range en {
			other, ok := msgs[k]
			if !ok {
				t.Errorf("%s lacks %q", lang, k)
				continue
			}
			if other == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
			if got, want := names(other), names(m); !slices.Equal(got, want) {
				t.Errorf("%s: %q fills %v, English %v", lang, k, got, want)
			}
		}
		for k := range msgs {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, k)
			}
		}
		if d := msgs["language.direction"]; d != "ltr" && d != "rtl" {
			t.Errorf("%s: language.direction is %q, want ltr or rtl", lang, d)
		}
	}
}

// TestPluralsRenderInEveryLanguage renders each plural message for counts
// that need each CLDR form somewhere, so that a language missing a form its
// rules ask for fails here and not on a page.
func TestPluralsRenderInEveryLanguage(t *testing.T) {
	c := Default()
	_, plurals := rawFiles(t)
	for _, k := range plurals {
		for _, lang := range c.Languages() {
			for _, count := range []int{0, 1, 2, 3, 5, 11, 21, 100, 101, 1000000} {
				if got := c.Text(lang, k, map[string]any{"Count": count, "Time": "t"}); got == k {
					t.Errorf("%s %q with %d: not rendered", lang, k, count)
				}
			}
		}
	}
	if len(plurals) < 4 {
		t.Errorf("found only %d plural messages", len(plurals))
	}
}

func TestFormats(t *testing.T) {
	c := Default()
	day := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	cases := []struct{ got, want string }{
		{c.Date("en", "date.long", day), "March 14, 2025"},
		{c.Date("es", "date.long", day), "14 de marzo de 2025"},
		{c.Date("en", "msg.date", day), "14 March 2025"},
		{c.Date("es", "msg.date", day), "14 de marzo de 2025"},
		{c.Date("en", "date.long", time.Time{}), ""},
		{c.Wait("en", 90*time.Second), "90 seconds"},
		{c.Wait("es", 3*time.Minute), "3 minutos"},
		{c.Number("en", 12345), "12,345"},
		{c.Number("es", 12345), "12.345"},
		{c.Text("es", "no.such.key", nil), "no.such.key"},
		{c.Text("xx", "language.name", nil), "English"},
		{c.Text("es", "language.name", nil), "Español"},
		{c.Direction("es"), "ltr"},
		{c.Match("es-MX,es;q=0.9"), "es"},
		{c.Match("de"), "en"},
		{English("code.attempts_left", map[string]any{"Count": 1}), "You have 1 attempt left."},
		{c.Date("fr", "date.long", day), "14 mars 2025"},
		{c.Date("zh-Hans", "date.long", day), "2025年3月14日"},
		{c.Date("ar", "date.long", day), "14 مارس 2025"},
		{c.Wait("fr", time.Second), "1 seconde"},
		{c.Wait("zh-Hans", 3*time.Minute), "3 分钟"},
		{c.Wait("ar", 2*time.Minute), "دقيقتين"},
		{c.Wait("ar", 3*time.Minute), "3 دقائق"},
		{c.Wait("ar", 11*time.Minute), "11 دقيقة"},
		{c.Number("fr", 12345), "12\u00a0345"},
		{c.Number("zh-Hans", 12345), "12,345"},
		{c.Number("ar", 12345), "12,345"},
		{c.Text("fr", "language.name", nil), "Français"},
		{c.Text("zh-Hans", "language.name", nil), "简体中文"},
		{c.Text("ar", "language.name", nil), "العربية"},
		{c.Direction("ar"), "rtl"},
		{c.Direction("fr"), "ltr"},
		{c.Direction("zh-Hans"), "ltr"},
		{c.Match("fr-CA,en;q=0.5"), "fr"},
		{c.Match("zh-CN"), "zh-Hans"},
		{c.Match("zh-TW"), "zh-Hans"}, // x/text: Simplified over English for a Traditional reader,
		{c.Match("ar-EG"), "ar"},
	}
	for i, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}

// TestLanguageReadsTags: a tag from outside names a catalog language in any
// case and with subtags the catalog does not have; a language added as a
// file is found as written.
func TestLanguageReadsTags(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"locales/en.json":      {Data: []byte(`{"k": "x"}`)},
		"locales/es.json":      {Data: []byte(`{"k": "x"}`)},
		"locales/zh-Hans.json": {Data: []byte(`{"k": "x"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tag, want string
		ok        bool
	}{
		{"en", "en", true},
		{" ES ", "es", true},
		{"es-MX", "es", true},
		{"es_419", "es", true},
		{"zh-Hans", "zh-Hans", true},
		{"zh-hans-CN", "zh-Hans", true},
		{"ZH-HANS", "zh-Hans", true},
		{"zh", "", false},
		{"zh-Hant", "", false},
		{"fr", "", false},
		{"", "", false},
		{"-", "", false},
		{"e", "", false},
	} {
		got, ok := c.Language(tc.tag)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Language(%q) = %q, %v; want %q, %v", tc.tag, got, ok, tc.want, tc.ok)
		}
	}
}
