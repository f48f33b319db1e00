// Package branding is what an agency says about itself on every page, email
// and text message: its name, a logo, contact lines and a help address. All
// of it comes from configuration, read and checked once at start, so that a
// deployment is branded without a rebuild and a mistake stops the start
// with a message naming the setting rather than showing a broken page.
//
// The name and the contact lines are shown as given, in every language: they
// are the agency's own words, not text to translate.
package branding

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Agency is the agency's name, contact lines and help address. The zero
// Agency shows nothing of them.
type Agency struct {
	Name    string   // shown in page titles, the header, the footer, emails and texts
	Contact []string // address and phone lines, shown as given in the footer and in emails
	Help    string   // an email address or an https:// URL where people get help
}

// HelpHref is the link to the help address: mailto: for an email address.
func (a Agency) HelpHref() string {
	if a.Help == "" || strings.HasPrefix(a.Help, "https://") {
		return a.Help
	}
	return (&url.URL{Scheme: "mailto", Opaque: a.Help}).String()
}

// Limits of what the settings take: a page header or an email footer has
// room for a name and a few short lines, not a document.
const (
	MaxNameRunes    = 120
	MaxContactLines = 6
	MaxLineRunes    = 200
	MaxHelpBytes    = 500
	MaxLogoBytes    = 256 << 10
)

// ParseName checks the agency's name: one line of printable text.
func ParseName(v string) (string, error) {
	v = strings.TrimSpace(v)
	if err := checkLine(v, MaxNameRunes); err != nil {
		return "", fmt.Errorf("the agency name %w", err)
	}
	return v, nil
}

// ParseContact splits the contact setting into lines. Lines are separated
// by "|" (an environment value or a systemd Environment= line holds no
// newline easily) or by newlines; blank space around each line is dropped,
// and so are empty lines. Each line is shown exactly as written.
func ParseContact(v string) ([]string, error) {
	var out []string
	for part := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == '|' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if err := checkLine(part, MaxLineRunes); err != nil {
			return nil, fmt.Errorf("contact line %d %w", len(out)+1, err)
		}
		out = append(out, part)
	}
	if len(out) > MaxContactLines {
		return nil, fmt.Errorf("want at most %d contact lines separated by |, got %d", MaxContactLines, len(out))
	}
	return out, nil
}

// checkLine reports what is wrong with one line of text shown to people.
func checkLine(s string, most int) error {
	if !utf8.ValidString(s) {
		return errors.New("is not UTF-8 text")
	}
	if n := utf8.RuneCountInString(s); n > most {
		return fmt.Errorf("is %d characters long; the most is %d", n, most)
	}
	for _, r := range s {
		// Control and format characters (bidi overrides among them) would
		// reorder or hide what the page around them says. The zero-width
		// joiner and non-joiner are spelling in some scripts (Persian).
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d' {
			return fmt.Errorf("holds the invisible character %U", r)
		}
	}
	return nil
}

// ParseHelp checks the help address: a bare email address
// (help@example.gov) or an https:// URL with a host.
func ParseHelp(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	want := fmt.Errorf("want an email address such as help@example.gov or an https:// URL, got %q", v)
	if len(v) > MaxHelpBytes || checkLine(v, MaxHelpBytes) != nil || strings.ContainsAny(v, " \t") {
		return "", want
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			return "", want
		}
		return u.String(), nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		return "", want
	}
	return v, nil
}

// Logo is the agency's logo as served: its file name on the static route
// (logo.svg or logo.png), its content type and its bytes.
type Logo struct {
	Name        string
	ContentType string
	Body        []byte
}

// LoadLogo reads and checks the logo file at path.
func LoadLogo(path string) (*Logo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the logo: %w", err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxLogoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the logo %s: %w", path, err)
	}
	if len(body) > MaxLogoBytes {
		return nil, fmt.Errorf("the logo %s is larger than %d KiB", path, MaxLogoBytes>>10)
	}
	l, err := CheckLogo(filepath.Ext(path), body)
	if err != nil {
		return nil, fmt.Errorf("the logo %s %w", path, err)
	}
	return l, nil
}

// CheckLogo checks a logo's bytes against its file extension (.svg or
// .png, any case). An SVG must be an <svg> document with no script, no
// event handler, no embedded document, no animation, no javascript: or
// data: URL and no link out of the file: it is served from the portal's
// own origin, where a script in it would run.
func CheckLogo(ext string, body []byte) (*Logo, error) {
	if len(body) > MaxLogoBytes {
		return nil, fmt.Errorf("is larger than %d KiB", MaxLogoBytes>>10)
	}
	switch strings.ToLower(ext) {
	case ".png":
		cfg, err := png.DecodeConfig(bytes.NewReader(body))
		if err != nil {
			return nil, errors.New("is not a PNG image")
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > 4096 || cfg.Height > 4096 {
			return nil, fmt.Errorf("is %d×%d pixels; want at most 4096×4096", cfg.Width, cfg.Height)
		}
		return &Logo{Name: "logo.png", ContentType: "image/png", Body: body}, nil
	case ".svg":
		if err := checkSVG(body); err != nil {
			return nil, err
		}
		return &Logo{Name: "logo.svg", ContentType: "image/svg+xml", Body: body}, nil
	}
	return nil, fmt.Errorf("has the extension %q; want .svg or .png", ext)
}

// runScheme returns "javascript:", "vbscript:" or "data:" when an
// attribute value would be read as a URL of that scheme, else "". It
// looks at every attribute, not only href: no drawing needs such a value,
// and a list of the attributes a browser reads as URLs would have to keep
// up with every browser. The value is read as a URL parser reads it:
// leading spaces and control characters dropped, tabs and line breaks
// dropped anywhere, the scheme in any case, so " JaVa\tScript:" counts
// (the XML decoder has already turned &#9; into a tab). data: is refused
// as well, as a data: URL carries a whole document or script of its own.
func runScheme(v string) string {
	v = strings.TrimLeftFunc(v, func(r rune) bool { return r <= ' ' })
	v = urlBlanks.Replace(v)
	for _, s := range []string{"javascript:", "vbscript:", "data:"} {
		if len(v) >= len(s) && strings.EqualFold(v[:len(s)], s) {
			return s
		}
	}
	return ""
}

// urlBlanks drops what a URL parser drops anywhere in a URL.
var urlBlanks = strings.NewReplacer("\t", "", "\n", "", "\r", "")

// checkSVG walks an SVG document and refuses what could run or fetch.
func checkSVG(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	root := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if root {
				return errors.New("is not an SVG image (no <svg> element)")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("is not well-formed SVG: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root && t.Name.Local != "svg" {
				return fmt.Errorf("is not an SVG image: it starts with <%s>, want <svg>", t.Name.Local)
			}
			root = false
			switch strings.ToLower(t.Name.Local) {
			case "script", "foreignobject", "iframe", "embed", "object", "handler", "listener",
				// SMIL animation sets an attribute after the check
				// has read it: <set attributeName="href"
				// to="javascript:…"> turns a checked link into a
				// script. A logo needs no animation, so every
				// animation element is refused, not only those
				// aimed at href: a list of safe targets would have
				// to follow every attribute a browser resolves.
				"set", "animate", "animatemotion", "animatetransform", "animatecolor", "discard":
				return fmt.Errorf("holds a <%s> element; a logo may hold only drawing", t.Name.Local)
			}
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(name, "on") {
					return fmt.Errorf("holds the event handler %s=; a logo may hold only drawing", a.Name.Local)
				}
				if name == "href" && !strings.HasPrefix(strings.TrimSpace(a.Value), "#") {
					return fmt.Errorf("links to %q; a logo may link only inside itself (#id)", a.Value)
				}
				if s := runScheme(a.Value); s != "" {
					return fmt.Errorf("holds a %s URL in %s=; a logo may hold only drawing", s, a.Name.Local)
				}
			}
		case xml.Directive:
			// A DOCTYPE may declare entities that expand without bound.
			return errors.New("holds a <!DOCTYPE> or other declaration; remove it")
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("holds the processing instruction <?%s?>; remove it", t.Target)
			}
		}
	}
}
