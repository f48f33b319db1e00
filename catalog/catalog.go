// Package catalog holds every text casegate shows a person — pages, error
// messages, status names, emails and text messages — as one message file
// per language, by key (locales/<lang>.json, go-i18n's format with CLDR
// plural forms). English (en.json) is the reference: each other file has
// exactly its keys. A language is added by adding its file.
//
// The package depends on nothing else of casegate, so that the domain
// package, identity, web and delivery can all import it.
package catalog

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed locales/*.json
var localeFS embed.FS

// Reference is the language every key is written in first, and the one a
// person gets when the catalog speaks none of theirs.
const Reference = "en"

// Catalog is the loaded message files.
type Catalog struct {
	langs   []string // Reference first, then the others in file-name order
	loc     map[string]*i18n.Localizer
	keys    map[string][]string // by language, sorted
	matcher language.Matcher

	msgs       map[string]map[string]*i18n.Message // the files' messages by language and key
	tags       map[string]language.Tag
	overridden map[string]int // messages replaced by overrides, by language
}

// Load parses the message files of fsys (locales/<lang>.json).
func Load(fsys fs.FS) (*Catalog, error) { return LoadWithOverrides(fsys, nil) }

// load parses the message files of fsys and returns the bundle too, for
// overrides to be added to.
func load(fsys fs.FS) (*Catalog, *i18n.Bundle, error) {
	files, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, nil, err
	}
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &Catalog{
		loc: map[string]*i18n.Localizer{}, keys: map[string][]string{},
		msgs: map[string]map[string]*i18n.Message{}, tags: map[string]language.Tag{}, overridden: map[string]int{},
	}
	for _, f := range files {
		lang := strings.TrimSuffix(path.Base(f), ".json")
		tag, err := language.Parse(lang)
		if err != nil {
			return nil, nil, fmt.Errorf("catalog: %s: %w", f, err)
		}
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, nil, err
		}
		mf, err := b.ParseMessageFileBytes(data, f)
		if err != nil {
			return nil, nil, fmt.Errorf("catalog: %w", err)
		}
		if !mf.Tag.IsRoot() && mf.Tag != tag {
			return nil, nil, fmt.Errorf("catalog: %s holds %s", f, mf.Tag)
		}
		c.tags[lang] = mf.Tag
		if mf.Tag.IsRoot() {
			c.tags[lang] = tag
		}
		c.msgs[lang] = map[string]*i18n.Message{}
		for _, m := range mf.Messages {
			c.keys[lang] = append(c.keys[lang], m.ID)
			c.msgs[lang][m.ID] = m
		}
		slices.Sort(c.keys[lang])
		c.loc[lang] = i18n.NewLocalizer(b, lang)
		if lang == Reference {
			c.langs = append([]string{lang}, c.langs...)
		} else {
			c.langs = append(c.langs, lang)
		}
	}
	if _, ok := c.loc[Reference]; !ok {
		return nil, nil, errors.New("catalog: no " + Reference + ".json")
	}
	tags := make([]language.Tag, len(c.langs))
	for i, l := range c.langs {
		tags[i] = language.Make(l)
	}
	c.matcher = language.NewMatcher(tags)
	return c, b, nil
}

var loadDefault = sync.OnceValue(func() *Catalog {
	c, err := Load(localeFS)
	if err != nil {
		panic(err) // the files are embedded and tested: this is a build mistake
	}
	return c
})

// Default is the catalog built into the binary, with the agency's
// overrides once SetDefault was given them.
func Default() *Catalog {
	if c := current.Load(); c != nil {
		return c
	}
	return loadDefault()
}

// English is key's reference text: for logs, the command line and Error methods.
func English(key string, args map[string]any) string { return Default().Text(Reference, key, args) }

// Languages are the catalog's languages, the reference first.
func (c *Catalog) Languages() []string { return slices.Clone(c.langs) }

// Supported reports whether lang has a message file.
func (c *Catalog) Supported(lang string) bool { _, ok := c.loc[lang]; return ok }

// Language is the catalog language a language tag names, as written in
// the catalog ("zh-Hans"), and whether there is one: the tag itself, any
// case, or the tag with its last subtags dropped ("es-MX" is "es",
// "zh-hans-CN" is "zh-Hans"). Every place that takes a language from
// outside — a request, an import line, a stored delivery — reads it here,
// so a language added as a file is taken everywhere at once.
func (c *Catalog) Language(tag string) (string, bool) {
	tag = strings.TrimSpace(tag)
	for tag != "" {
		for _, l := range c.langs {
			if strings.EqualFold(tag, l) {
				return l, true
			}
		}
		i := strings.LastIndexAny(tag, "-_")
		if i < 0 {
			break
		}
		tag = tag[:i]
	}
	return "", false
}

// Keys are the keys of lang's file, sorted.
func (c *Catalog) Keys(lang string) []string { return slices.Clone(c.keys[lang]) }

// Text is the message key in lang (in English when lang lacks it), its
// {{.Name}}s filled from args. An int "Count" in args also picks the
// plural form by lang's CLDR rules. A key the catalog lacks comes back as
// itself, so a missing message shows as its key rather than as nothing.
func (c *Catalog) Text(lang, key string, args map[string]any) string {
	l, ok := c.loc[lang]
	if !ok {
		l = c.loc[Reference]
	}
	cfg := &i18n.LocalizeConfig{MessageID: key, TemplateData: args}
	if n, ok := args["Count"]; ok {
		cfg.PluralCount = n
	}
	msg, err := l.Localize(cfg)
	if msg == "" && err != nil {
		return key
	}
	return msg
}

// Has reports whether lang's own file holds key.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := slices.BinarySearch(c.keys[lang], key)
	return ok
}

// Direction is "rtl" for a language written right to left, else "ltr"; each
// file says so under language.direction.
func (c *Catalog) Direction(lang string) string {
	if c.Text(lang, "language.direction", nil) == "rtl" {
		return "rtl"
	}
	return "ltr"
}

// Match picks the catalog language an Accept-Language header prefers, the
// reference when it names none of them.
func (c *Catalog) Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Reference
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return Reference
	}
	return c.langs[i]
}

// Date writes the day of t with lang's pattern key (date.long on pages,
// msg.date in messages) and month names (month.1 … month.12). x/text has no
// date formatting, so the pattern and the names are messages like any other.
func (c *Catalog) Date(lang, pattern string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return c.Text(lang, pattern, map[string]any{
		"Month": c.Text(lang, "month."+strconv.Itoa(int(t.Month())), nil),
		"Day":   t.Day(), "Year": strconv.Itoa(t.Year()),
	})
}

// Wait says how long to wait in lang: seconds under two minutes, else minutes.
func (c *Catalog) Wait(lang string, d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 120 {
		return c.Text(lang, "wait.seconds", map[string]any{"Count": max(secs, 1)})
	}
	return c.Text(lang, "wait.minutes", map[string]any{"Count": (secs + 59) / 60})
}

// Number writes n with lang's grouping (CLDR, through x/text) in Latin
// digits: receipt numbers, codes, dates and counts in messages are written
// in them in every language, so a table's figures are too (CLDR's default
// for Arabic would be Arabic-Indic digits).
func (c *Catalog) Number(lang string, n int) string {
	tag, err := language.Make(lang).SetTypeForKey("nu", "latn")
	if err != nil {
		tag = language.Make(lang)
	}
	return message.NewPrinter(tag).Sprint(number.Decimal(n))
}
