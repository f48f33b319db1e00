package identity

import (
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// CountryEntry is a country with its name in one language.
type CountryEntry struct {
	Code string // ISO 3166-1 alpha-2
	Name string
}

// country is one ISO 3166-1 entry: its codes, the short names shown to people
// in English and Spanish, and other names people type for it.
type country struct {
	alpha2, alpha3 string
	en, es         string
	aliases        []string
}

var (
	// countryIndex maps each lookup key (see countryKey) to an alpha-2 code.
	countryIndex map[string]string
	// countryByCode maps an alpha-2 code to its entry.
	countryByCode map[string]*country
)

func init() {
	countryIndex, _ = buildCountryIndex(countries)
	countryByCode = make(map[string]*country, len(countries))
	for i := range countries {
		countryByCode[countries[i].alpha2] = &countries[i]
	}
}

// buildCountryIndex maps the codes, names and aliases of every entry to its
// alpha-2 code, and lists each key that two entries claim (the tests require
// none).
func buildCountryIndex(table []country) (map[string]string, []string) {
	index := make(map[string]string, 8*len(table))
	var conflicts []string
	add := func(key, code string) {
		if key == "" {
			conflicts = append(conflicts, "empty key for "+code)
			return
		}
		if prev, ok := index[key]; ok && prev != code {
			conflicts = append(conflicts, key+": "+prev+" and "+code)
			return
		}
		index[key] = code
	}
	for _, c := range table {
		add(strings.ToLower(c.alpha2), c.alpha2)
		add(strings.ToLower(c.alpha3), c.alpha2)
		for _, name := range append([]string{c.en, c.es}, c.aliases...) {
			add(countryKey(Tokens(name)), c.alpha2)
		}
	}
	return index, conflicts
}

// countryStopWords are left out of a country name's key, so that "Bosnia and
// Herzegovina", "Bosnia & Herzegovina" and "Bosnia y Herzegovina", or "The
// Gambia" and "Gambia", are one key.
var countryStopWords = map[string]bool{
	"the": true, "of": true, "and": true,
	"y": true, "de": true, "del": true, "el": true, "la": true, "las": true, "los": true,
}

// countryKey reduces the words of a country name (its Tokens: no accents, no
// case) to the key it is looked up by: stop words dropped, "St" spelled "saint", and the rest joined without
// spaces, so that spacing and punctuation never matter ("Guinea-Bissau",
// "Guinea Bissau"; "U.S.A.", "USA").
func countryKey(words []string) string {
	var b strings.Builder
	for _, w := range words {
		if countryStopWords[w] {
			continue
		}
		if w == "st" {
			w = "saint"
		}
		b.WriteString(w)
	}
	return b.String()
}

// Country returns the ISO 3166-1 alpha-2 code of the country in s, typed as
// its alpha-2 or alpha-3 code or by an English or Spanish name ("United
// States", "USA", "Estados Unidos", "Korea, Republic of", "Corea del Sur"),
// ignoring case, accents, spacing and punctuation. A name shared by two
// countries is not accepted for either: "Korea" and "Virgin Islands" are not
// enough.
func Country(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrCountry
	}
	words := Tokens(s)
	// Two or three letters are a code before they are a name: "DE" is
	// Germany, though "de" is a stop word.
	if raw := strings.Join(words, ""); len(raw) <= 3 {
		if code, ok := countryIndex[raw]; ok {
			return code, nil
		}
		return "", ErrCountry
	}
	if code, ok := countryIndex[countryKey(words)]; ok {
		return code, nil
	}
	return "", ErrCountry
}

// CountryName returns the short name of the country with alpha-2 code code in
// lang: the table's Spanish name when lang is "es" (or a regional Spanish
// such as "es-MX"), CLDR's name (golang.org/x/text/language/display) for
// another language CLDR names regions in ("fr", "zh-Hans", "ar"), and the
// table's English name otherwise; "" when the code is unknown. Only the
// table's names, English and Spanish, are matched when typed (Country).
func CountryName(code, lang string) string {
	c, ok := countryByCode[strings.ToUpper(code)]
	if !ok {
		return ""
	}
	return c.name(countryLanguage(lang))
}

// countryNames is a language country names are shown in: English or
// Spanish from the table, or another language's CLDR names.
type countryNames struct {
	key   string // "en", "es" or the tag, for the cache of sorted lists
	tag   language.Tag
	cldr  display.Namer // nil for English and Spanish
	table func(*country) string
}

// countryLanguage is the language country names are given in for lang.
func countryLanguage(lang string) countryNames {
	if spanish(lang) {
		return countryNames{key: "es", tag: language.Spanish, table: func(c *country) string { return c.es }}
	}
	english := countryNames{key: "en", tag: language.English, table: func(c *country) string { return c.en }}
	tag, err := language.Parse(lang)
	if err != nil {
		return english
	}
	if base, _ := tag.Base(); base.String() == "en" {
		return english
	}
	namer := display.Regions(tag)
	if namer == nil {
		return english
	}
	return countryNames{key: tag.String(), tag: tag, cldr: namer, table: english.table}
}

// name is c's name in n: CLDR's when n has CLDR names and CLDR names c,
// else the table's.
func (c *country) name(n countryNames) string {
	if n.cldr != nil {
		if r, err := language.ParseRegion(c.alpha2); err == nil {
			if s := n.cldr.Name(r); s != "" {
				return s
			}
		}
	}
	return n.table(c)
}

// spanish reports whether lang asks for Spanish.
func spanish(lang string) bool {
	lang = strings.ToLower(lang)
	return lang == "es" || strings.HasPrefix(lang, "es-")
}

// sortedCountries caches Countries by countryNames.key.
var sortedCountries sync.Map

// Countries returns every country with its name in lang (as CountryName
// names it), sorted by that name as a reader of the language expects
// (Spanish: Ñ after N, accents ignored; Chinese by pinyin). The slice is the
// caller's to keep.
func Countries(lang string) []CountryEntry {
	n := countryLanguage(lang)
	if list, ok := sortedCountries.Load(n.key); ok {
		return slices.Clone(list.([]CountryEntry))
	}
	list, _ := sortedCountries.LoadOrStore(n.key, sortCountries(n))
	return slices.Clone(list.([]CountryEntry))
}

// sortCountries lists the countries named in n, collated in its language.
func sortCountries(n countryNames) []CountryEntry {
	list := make([]CountryEntry, len(countries))
	for i := range countries {
		list[i] = CountryEntry{Code: countries[i].alpha2, Name: countries[i].name(n)}
	}
	col := collate.New(n.tag)
	slices.SortStableFunc(list, func(a, b CountryEntry) int { return col.CompareString(a.Name, b.Name) })
	return list
}
