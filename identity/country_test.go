package identity

import (
	"strings"
	"testing"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

func TestCountryTable(t *testing.T) {
	if len(countries) != 249 {
		t.Errorf("%d countries, want the 249 of ISO 3166-1", len(countries))
	}
	seen := map[string]bool{}
	for _, c := range countries {
		if seen[c.alpha2] || seen[c.alpha3] {
			t.Errorf("%s/%s: a code appears twice", c.alpha2, c.alpha3)
		}
		seen[c.alpha2], seen[c.alpha3] = true, true
		r, err := language.ParseRegion(c.alpha2)
		if err != nil || !r.IsCountry() || r.ISO3() != c.alpha3 {
			t.Errorf("%s/%s: golang.org/x/text knows it as %v, %q (%v)", c.alpha2, c.alpha3, r, r.ISO3(), err)
		}
		if c.en == "" || c.es == "" {
			t.Errorf("%s has no English or Spanish name", c.alpha2)
		}
	}
	if _, conflicts := buildCountryIndex(countries); len(conflicts) > 0 {
		t.Errorf("names that map to two codes: %q", conflicts)
	}
}

func TestCountryResolvesEveryName(t *testing.T) {
	for _, c := range countries {
		inputs := []string{c.alpha2, strings.ToLower(c.alpha2), c.alpha3, strings.ToLower(c.alpha3), c.en, c.es,
			strings.ToUpper(c.en), strings.ToLower(c.es)}
		inputs = append(inputs, c.aliases...)
		for _, in := range inputs {
			if got, err := Country(in); err != nil || got != c.alpha2 {
				t.Errorf("Country(%q) = %q, %v; want %s", in, got, err, c.alpha2)
			}
		}
	}
}

// TestCountryCLDRNames checks that the names other software shows (CLDR's,
// through golang.org/x/text) are understood too.
func TestCountryCLDRNames(t *testing.T) {
	for _, tag := range []language.Tag{language.English, language.Spanish} {
		names := display.Regions(tag)
		for _, c := range countries {
			name := names.Name(language.MustParseRegion(c.alpha2))
			if got, err := Country(name); err != nil || got != c.alpha2 {
				t.Errorf("Country(%q) = %q, %v; want %s", name, got, err, c.alpha2)
			}
		}
	}
}

func TestCountry(t *testing.T) {
	good := []struct{ in, want string }{
		{"United States", "US"}, {"USA", "US"}, {"usa", "US"}, {"U.S.A.", "US"}, {"the United States of America", "US"},
		{"Estados Unidos", "US"}, {"estados  unidos", "US"}, {"EE.UU.", "US"}, {"EEUU", "US"},
		{"México", "MX"}, {"Mexico", "MX"}, {"MEXICO", "MX"}, {"mx", "MX"}, {"MEX", "MX"},
		{"Viet Nam", "VN"}, {"Vietnam", "VN"}, {"Türkiye", "TR"}, {"Turkiye", "TR"}, {"Turkey", "TR"}, {"Turquía", "TR"},
		{"South Korea", "KR"}, {"Korea, Republic of", "KR"}, {"Korea (Republic of)", "KR"}, {"Corea del Sur", "KR"},
		{"North Korea", "KP"}, {"Korea, Democratic People’s Republic of", "KP"},
		{"Côte d’Ivoire", "CI"}, {"Cote d'Ivoire", "CI"}, {"cote divoire", "CI"}, {"Costa de Marfil", "CI"},
		{"Guinea Bissau", "GW"}, {"Guinea-Bissau", "GW"}, {"Guinea", "GN"}, {"Equatorial Guinea", "GQ"},
		{"Bosnia & Herzegovina", "BA"}, {"St. Lucia", "LC"}, {"St Kitts and Nevis", "KN"},
		{"The Gambia", "GM"}, {"Gambia", "GM"}, {"El Salvador", "SV"}, {"Salvador", "SV"},
		{"DE", "DE"}, {"de", "DE"}, {"Deu", "DE"}, {"LA", "LA"}, {"AND", "AD"},
		{"Niger", "NE"}, {"Nigeria", "NG"}, {"Sudan", "SD"}, {"South Sudan", "SS"},
		{"Dominica", "DM"}, {"Dominican Republic", "DO"}, {"Congo", "CG"}, {"DR Congo", "CD"},
		{"Holland", "NL"}, {"Países Bajos", "NL"}, {"paises bajos", "NL"}, {"England", "GB"}, {"UK", "GB"},
		{"Åland Islands", "AX"}, {"Aland", "AX"}, {"Curacao", "CW"}, {"Reunion", "RE"},
		{"Sao Tome and Principe", "ST"}, {"São Tomé & Príncipe", "ST"}, {"Santo Tomé y Príncipe", "ST"},
		{"Burma", "MM"}, {"Swaziland", "SZ"}, {"Macedonia", "MK"}, {"Czech Republic", "CZ"},
		{"  japan  ", "JP"}, {"JAPÓN", "JP"}, {"Ｊａｐａｎ", "JP"},
	}
	for _, tt := range good {
		if got, err := Country(tt.in); err != nil || got != tt.want {
			t.Errorf("Country(%q) = %q, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", " ", "X", "XX", "ZZ", "ZZZ", "EL", "Korea", "Virgin Islands", "Atlantis", "United", "States",
		"the", "el", "de la", "Soviet Union", "Yugoslavia", "UKK", "Mexico City", "Unitedstatesx",
		"123", "US1", "Россия", strings.Repeat("Mexico", 30),
	}
	for _, in := range bad {
		if got, err := Country(in); err != ErrCountry {
			t.Errorf("Country(%q) = %q, %v; want ErrCountry", in, got, err)
		}
	}
}

func TestCountryName(t *testing.T) {
	tests := []struct{ code, lang, want string }{
		{"MX", "en", "Mexico"}, {"MX", "es", "México"}, {"MX", "es-MX", "México"}, {"MX", "", "Mexico"},
		{"MX", "xx", "Mexico"}, {"MX", "en-GB", "Mexico"}, {"MX", "fr", "Mexique"}, {"MX", "fr-CA", "Mexique"},
		{"MX", "zh-Hans", "墨西哥"}, {"MX", "ar", "المكسيك"}, {"DE", "fr", "Allemagne"}, {"mx", "es", "México"}, {"US", "es", "Estados Unidos"}, {"KR", "en", "South Korea"},
		{"TR", "en", "Türkiye"}, {"XK", "en", ""}, {"", "en", ""}, {"MEX", "en", ""},
	}
	for _, tt := range tests {
		if got := CountryName(tt.code, tt.lang); got != tt.want {
			t.Errorf("CountryName(%q, %q) = %q, want %q", tt.code, tt.lang, got, tt.want)
		}
	}
}

func TestCountries(t *testing.T) {
	for _, lang := range []string{"en", "es", "fr", "zh-Hans", "ar"} {
		list := Countries(lang)
		if len(list) != len(countries) {
			t.Fatalf("Countries(%q) has %d entries, want %d", lang, len(list), len(countries))
		}
		seen := map[string]bool{}
		for _, c := range list {
			if seen[c.Code] || c.Name != CountryName(c.Code, lang) {
				t.Errorf("Countries(%q): %v repeated or misnamed", lang, c)
			}
			seen[c.Code] = true
		}
		list[0].Name = "changed"
		if Countries(lang)[0].Name == "changed" {
			t.Errorf("Countries(%q) shares its slice with callers", lang)
		}
	}
	// Collation, not byte order: accents do not push a name to the end, and
	// in Spanish Ñ comes after N.
	order := func(lang string, names ...string) {
		t.Helper()
		pos := map[string]int{}
		for i, c := range Countries(lang) {
			pos[c.Name] = i
		}
		for i := 1; i < len(names); i++ {
			if pos[names[i-1]] >= pos[names[i]] {
				t.Errorf("Countries(%q): %q should come before %q", lang, names[i-1], names[i])
			}
		}
	}
	order("en", "Afghanistan", "Åland Islands", "Albania")
	order("en", "Côte d'Ivoire", "Croatia")
	order("en", "Tunisia", "Türkiye", "Turkmenistan")
	order("es", "Afganistán", "Albania", "Alemania")
	order("es", "Islandia", "Islas Åland", "Islas Caimán")
	order("es", "Nueva Zelanda", "Omán")
	order("es", "Egipto", "El Salvador", "Emiratos Árabes Unidos")
	order("fr", "Afghanistan", "Afrique du Sud", "Albanie")
	order("fr", "Émirats arabes unis", "Équateur", "Érythrée", "Espagne")
	order("zh-Hans", "阿尔巴尼亚", "德国", "墨西哥") // pinyin: a, de, mo
	order("ar", "ألمانيا", "المكسيك", "اليابان")
	// Typed names stay English and Spanish, whatever the page's language.
	for _, s := range []string{"Mexico", "México", "Germany", "Alemania"} {
		if _, err := Country(s); err != nil {
			t.Errorf("Country(%q): %v", s, err)
		}
	}
	if first := Countries("es")[0]; first.Code != "AF" {
		t.Errorf("Countries(es) starts with %v, want Afganistán", first)
	}
}

func FuzzCountry(f *testing.F) {
	for _, s := range []string{"Mexico", "MX", "mex", "Korea, Republic of", "Côte d’Ivoire", "de", "", "St."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Country(s)
		if err != nil {
			return
		}
		if CountryName(out, "en") == "" || CountryName(out, "es") == "" {
			t.Fatalf("Country(%q) = %q, which has no name", s, out)
		}
		if again, err := Country(out); err != nil || again != out {
			t.Fatalf("Country(%q) = %q, %v; want itself", out, again, err)
		}
		for _, lang := range []string{"en", "es"} {
			if back, err := Country(CountryName(out, lang)); err != nil || back != out {
				t.Fatalf("Country(CountryName(%q, %q)) = %q, %v", out, lang, back, err)
			}
		}
	})
}

func TestBuildCountryIndexReportsConflicts(t *testing.T) {
	table := []country{
		{"AA", "AAA", "Freedonia", "Freedonia", []string{"Sylvania"}},
		{"BB", "BBB", "Sylvania", "Silvania", []string{"AAA", "-"}},
	}
	_, conflicts := buildCountryIndex(table)
	want := []string{"sylvania: AA and BB", "aaa: AA and BB", "empty key for BB"}
	if strings.Join(conflicts, "|") != strings.Join(want, "|") {
		t.Errorf("conflicts = %q, want %q", conflicts, want)
	}
}
