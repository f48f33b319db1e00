package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"text/template/parse"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// An agency changes the wording of casegate without a rebuild by laying
// partial message files over the built-in ones: a folder holding
// locales/<lang>.json, each a JSON object of key → text (or, for a plural
// key, key → {"one": …, "other": …}) in the language's own forms. Only keys
// the catalog has may be overridden, with the same {{.Placeholders}} as the
// English text; anything else stops the start with the file and key named.

// MaxOverrideBytes is the largest override file read: the whole English
// catalog is far smaller.
const MaxOverrideBytes = 1 << 20

// Override is one overridden message: Text for a plain key, Forms (CLDR
// plural form → text) for a plural one.
type Override struct {
	Text  string
	Forms map[string]string
}

// pluralForms are the CLDR plural forms a message may have.
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// ParseOverrides reads one override file: a JSON object whose members are
// keys, each a non-empty string or an object of plural forms. A key given
// twice, an empty text, or any other shape is an error naming the key.
// Whether the keys exist is checked by LoadWithOverrides, which knows the
// catalog.
func ParseOverrides(data []byte) (map[string]Override, error) {
	if len(data) > MaxOverrideBytes {
		return nil, fmt.Errorf("is larger than %d KiB", MaxOverrideBytes>>10)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("is not UTF-8 text")
	}
	d := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(d, '{'); err != nil {
		return nil, fmt.Errorf("is not a JSON object of key → text: %w", err)
	}
	out := map[string]Override{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("is not valid JSON: %w", err)
		}
		key := tok.(string) // inside an object, the decoder yields only string keys here
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("key %q: given twice", key)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, fmt.Errorf("key %q: is not valid JSON: %w", key, err)
		}
		o, err := parseOverride(raw)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		out[key] = o
	}
	if err := expectDelim(d, '}'); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("holds more than one JSON object")
	}
	return out, nil
}

func expectDelim(d *json.Decoder, want json.Delim) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// parseOverride reads one member's value.
func parseOverride(raw json.RawMessage) (Override, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Override{}, err
		}
		if strings.TrimSpace(s) == "" {
			return Override{}, errors.New("the text is empty")
		}
		return Override{Text: s}, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return Override{}, errors.New(`want a text, or an object of plural forms such as {"one": "…", "other": "…"}`)
	}
	var forms map[string]json.RawMessage
	if err := json.Unmarshal(raw, &forms); err != nil {
		return Override{}, err
	}
	o := Override{Forms: map[string]string{}}
	for form, v := range forms {
		if !slices.Contains(pluralForms, form) {
			return Override{}, fmt.Errorf("%q is not a plural form; want %s", form, strings.Join(pluralForms, ", "))
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return Override{}, fmt.Errorf("the %q form is not a text", form)
		}
		if strings.TrimSpace(s) == "" {
			return Override{}, fmt.Errorf("the %q form is empty", form)
		}
		o.Forms[form] = s
	}
	if len(o.Forms) == 0 {
		return Override{}, errors.New("no plural forms")
	}
	return o, nil
}

// placeholders are the {{.Name}}s a message text uses, or an error when the
// text is not a template the catalog can fill (only {{.Name}} is allowed).
func placeholders(text string) (map[string]bool, error) {
	trees, err := parse.Parse("m", text, "{{", "}}")
	if err != nil {
		return nil, fmt.Errorf("is not a valid message: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	out := map[string]bool{}
	for _, t := range trees {
		for _, n := range t.Root.Nodes {
			switch n := n.(type) {
			case *parse.TextNode:
			case *parse.ActionNode:
				if len(n.Pipe.Cmds) != 1 || len(n.Pipe.Decl) != 0 || len(n.Pipe.Cmds[0].Args) != 1 {
					return nil, fmt.Errorf("uses %s; a message may hold only placeholders such as {{.Name}}", n)
				}
				f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
				if !ok || len(f.Ident) != 1 {
					return nil, fmt.Errorf("uses %s; a message may hold only placeholders such as {{.Name}}", n)
				}
				out[f.Ident[0]] = true
			default:
				return nil, fmt.Errorf("uses %s; a message may hold only placeholders such as {{.Name}}", n)
			}
		}
	}
	return out, nil
}

// messagePlaceholders is the union of the placeholders of m's forms.
func messagePlaceholders(m *i18n.Message) map[string]bool {
	out := map[string]bool{}
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		p, _ := placeholders(s)
		maps.Copy(out, p)
	}
	return out
}

// forms are the plural forms m has.
func forms(m *i18n.Message) []string {
	var out []string
	for i, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if s != "" {
			out = append(out, pluralForms[i])
		}
	}
	return out
}

// plural reports whether m is a plural message in its file: more than one
// form, or one that is not "other".
func plural(m *i18n.Message) bool {
	f := forms(m)
	return len(f) > 1 || (len(f) == 1 && f[0] != "other")
}

// checkOverride checks o, overriding key in lang, against the base message
// of lang and English's placeholders, and returns it as a message.
func (c *Catalog) checkOverride(lang, key string, o Override) (*i18n.Message, error) {
	base, ok := c.msgs[lang][key]
	en := c.msgs[Reference][key]
	if !ok || en == nil {
		return nil, errors.New("is not a key of the catalog")
	}
	if strings.HasPrefix(key, "language.") {
		return nil, errors.New("names the language itself and cannot be overridden")
	}
	m := &i18n.Message{ID: key}
	if plural(base) {
		if o.Forms == nil {
			return nil, fmt.Errorf("is a plural message: want an object with the forms %s", strings.Join(forms(base), ", "))
		}
		got := slices.Sorted(maps.Keys(o.Forms))
		want := slices.Clone(forms(base))
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return nil, fmt.Errorf("has the plural forms %s; %s needs %s", strings.Join(got, ", "), lang, strings.Join(want, ", "))
		}
		m.Zero, m.One, m.Two = o.Forms["zero"], o.Forms["one"], o.Forms["two"]
		m.Few, m.Many, m.Other = o.Forms["few"], o.Forms["many"], o.Forms["other"]
	} else {
		if o.Forms != nil {
			return nil, errors.New("is not a plural message: want a text")
		}
		m.Other = o.Text
	}
	used := map[string]bool{}
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		p, err := placeholders(s)
		if err != nil {
			return nil, err
		}
		maps.Copy(used, p)
	}
	want := messagePlaceholders(en)
	for p := range used {
		if !want[p] {
			return nil, fmt.Errorf("uses {{.%s}}, which the English text does not have (it has %s)", p, placeholderList(want))
		}
	}
	for p := range want {
		if !used[p] && p != "Count" { // a plural form may say the number in words
			return nil, fmt.Errorf("leaves out {{.%s}}, which the English text has: keep every one of %s", p, placeholderList(want))
		}
	}
	return m, nil
}

func placeholderList(ps map[string]bool) string {
	if len(ps) == 0 {
		return "none"
	}
	var out []string
	for _, p := range slices.Sorted(maps.Keys(ps)) {
		out = append(out, "{{."+p+"}}")
	}
	return strings.Join(out, ", ")
}

// LoadWithOverrides is Load of fsys with the override files of over laid on
// top (nil: none). over holds only locales/<lang>.json for languages fsys
// has; entries whose names begin with "." are skipped (a mounted
// configuration volume keeps its bookkeeping there). Any other file, an
// unknown language or key, a text with other placeholders than English's,
// or bad JSON is an error naming the file and the key.
func LoadWithOverrides(fsys, over fs.FS) (*Catalog, error) {
	c, b, err := load(fsys)
	if err != nil || over == nil {
		return c, err
	}
	files := map[string][]byte{}
	err = fs.WalkDir(over, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p == "locales" {
				return nil
			}
			return fmt.Errorf("%s: not a folder of overrides; only locales/<lang>.json are read", p)
		}
		if path.Dir(p) != "locales" || path.Ext(p) != ".json" {
			return fmt.Errorf("%s: not an override file; only locales/<lang>.json are read (%s)", p, strings.Join(c.langs, ", "))
		}
		lang := strings.TrimSuffix(path.Base(p), ".json")
		if !c.Supported(lang) {
			return fmt.Errorf("%s: %q is not a language of the catalog (%s)", p, lang, strings.Join(c.langs, ", "))
		}
		data, err := readLimited(over, p)
		if err != nil {
			return err
		}
		files[lang] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	for _, lang := range slices.Sorted(maps.Keys(files)) {
		name := "locales/" + lang + ".json"
		ovs, err := ParseOverrides(files[lang])
		if err != nil {
			return nil, fmt.Errorf("overrides: %s: %w", name, err)
		}
		msgs := make([]*i18n.Message, 0, len(ovs))
		for _, key := range slices.Sorted(maps.Keys(ovs)) {
			m, err := c.checkOverride(lang, key, ovs[key])
			if err != nil {
				return nil, fmt.Errorf("overrides: %s: key %q %w", name, key, err)
			}
			msgs = append(msgs, m)
		}
		if err := b.AddMessages(c.tags[lang], msgs...); err != nil {
			return nil, fmt.Errorf("overrides: %s: %w", name, err)
		}
		c.overridden[lang] = len(msgs)
	}
	return c, nil
}

// readLimited reads the file p of fsys, refusing one over MaxOverrideBytes.
func readLimited(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxOverrideBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(data) > MaxOverrideBytes {
		return nil, fmt.Errorf("%s: is larger than %d KiB", p, MaxOverrideBytes>>10)
	}
	return data, nil
}

// LoadOverrides is the built-in catalog with the overrides of the folder
// dir laid on top; "" is the built-in catalog alone.
func LoadOverrides(dir string) (*Catalog, error) {
	if dir == "" {
		return loadDefault(), nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("overrides: %s is not a folder", dir)
	}
	return LoadWithOverrides(localeFS, os.DirFS(dir))
}

// Overridden is how many messages of lang the overrides replaced.
func (c *Catalog) Overridden(lang string) int { return c.overridden[lang] }

// current is the catalog Default returns once SetDefault was called.
var current atomic.Pointer[Catalog]

// SetDefault makes c the catalog Default returns, everywhere in the
// process: serve calls it once at start with the agency's overrides,
// before anything is shown. nil brings back the built-in catalog.
func SetDefault(c *Catalog) { current.Store(c) }
