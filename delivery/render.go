package delivery

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/branding"
	"github.com/casegate/casegate/catalog"
)

// Message templates live in templates/ as two files per kind of message,
// the same for every language:
//
//	<template>.txt   text/template defining "subject", "text" and "sms"
//	<template>.html  html/template defining "body", shown inside layout.html
//
// Every word in them comes from the catalog ({{.T "key"}}, or {{.H "key"}}
// in HTML), in the delivery's language, so a language is added by adding
// its message file to the catalog, not templates here.
//
//go:embed templates
var templateFS embed.FS

// templateSet is the text and HTML templates of one kind of message.
type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates maps a template name to its templates, parsed once at start.
var templates = mustLoadTemplates(templateFS)

func mustLoadTemplates(fsys fs.FS) map[string]templateSet {
	c, err := loadTemplates(fsys)
	if err != nil {
		panic(err)
	}
	return c
}

// loadTemplates parses every template under templates/ and checks that each
// has both files and that the text defines its three parts.
func loadTemplates(fsys fs.FS) (map[string]templateSet, error) {
	layout, err := htmltemplate.ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("delivery: parse layout: %w", err)
	}
	names, err := fs.Glob(fsys, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	c := map[string]templateSet{}
	for _, name := range names {
		tmpl := strings.TrimSuffix(path.Base(name), ".txt")
		text, err := texttemplate.New(tmpl).Option("missingkey=error").ParseFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("delivery: parse %s: %w", name, err)
		}
		for _, part := range []string{"subject", "text", "sms"} {
			if text.Lookup(part) == nil {
				return nil, fmt.Errorf("delivery: %s does not define %q", name, part)
			}
		}
		html, err := htmltemplate.Must(layout.Clone()).ParseFS(fsys, "templates/"+tmpl+".html")
		if err != nil {
			return nil, fmt.Errorf("delivery: parse %s.html: %w", tmpl, err)
		}
		c[tmpl] = templateSet{text: text, html: html}
	}
	if len(c) == 0 {
		return nil, errors.New("delivery: no message templates")
	}
	return c, nil
}

// Render fills delivery d's template in d's language (English when the
// catalog has none in that language). code is the canonical access code, ""
// for notices; publicURL is where codes are entered; times are shown in loc
// (UTC when nil). An SMS gets only Text; an email gets Subject, Text and HTML.
func Render(d casegate.Delivery, code, publicURL string, loc *time.Location) (casegate.Message, error) {
	return RenderAgency(branding.Agency{}, d, code, publicURL, loc)
}

// RenderAgency is Render signed by agency a: an email ends with its name,
// contact lines and help address, in the text and the HTML; a text message
// starts with its name when that adds no segment. The zero Agency adds nothing.
func RenderAgency(a branding.Agency, d casegate.Delivery, code, publicURL string, loc *time.Location) (casegate.Message, error) {
	return renderMessage(a, d, code, publicURL, loc, "")
}

// renderMessage is RenderAgency with the message's unsubscribe address, "" for
// none: shown in the notice's text and HTML, and set for the
// List-Unsubscribe header.
func renderMessage(a branding.Agency, d casegate.Delivery, code, publicURL string, loc *time.Location, unsubscribe string) (casegate.Message, error) {
	set, ok := templates[d.Template]
	if !ok {
		return casegate.Message{}, fmt.Errorf("delivery: no template %q", d.Template)
	}
	cat := catalog.Default()
	lang, ok := cat.Language(d.Language)
	if !ok {
		lang = catalog.Reference
	}
	v, err := newView(d, code, publicURL, lang, loc)
	if err != nil {
		return casegate.Message{}, err
	}
	v.agency = a
	v.unsubscribe = unsubscribe
	m := casegate.Message{Channel: d.Channel, To: d.Destination}
	switch d.Channel {
	case casegate.ChannelSMS:
		if m.Text, err = execText(set.text, "sms", v); err != nil {
			return casegate.Message{}, err
		}
		if a.Name != "" {
			// The name goes first only when it costs nothing: a code must
			// stay in as few segments as without it (one, in GSM-7
			// languages; docs/sms.md), and in the same encoding.
			named := v.isolate(a.Name) + ": " + m.Text
			if was, is := MeasureSMS(m.Text), MeasureSMS(named); is.Encoding == was.Encoding && is.Segments <= was.Segments {
				m.Text = named
			}
		}
	case casegate.ChannelEmail:
		if m.Subject, err = execText(set.text, "subject", v); err != nil {
			return casegate.Message{}, err
		}
		if m.Text, err = execText(set.text, "text", v); err != nil {
			return casegate.Message{}, err
		}
		m.Text += v.signature()
		var b bytes.Buffer
		if err := set.html.ExecuteTemplate(&b, "layout", v); err != nil {
			return casegate.Message{}, fmt.Errorf("delivery: render %s.%s html: %w", d.Template, lang, err)
		}
		m.HTML = b.String()
		m.Unsubscribe = unsubscribe
	default:
		return casegate.Message{}, fmt.Errorf("delivery: unknown channel %q", d.Channel)
	}
	return m, nil
}

// execText runs one part of a text template. The subject becomes one line;
// other parts lose surrounding blank space and end with one newline.
func execText(t *texttemplate.Template, part string, v view) (string, error) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, part, v); err != nil {
		return "", fmt.Errorf("delivery: render %s %s: %w", t.Name(), part, err)
	}
	s := strings.TrimSpace(b.String())
	if part == "subject" {
		return strings.Join(strings.Fields(s), " "), nil
	}
	if part == "sms" {
		return s, nil
	}
	return s + "\n", nil
}

// view is what templates see. Methods that need a value the delivery may
// lack return an error, so a template that uses it fails to render instead
// of sending a message with a hole.
type view struct {
	Lang      string
	PublicURL string // without a trailing slash
	Host      string // the public URL's host name, for SMS and the origin-bound line

	code        string
	unsubscribe string // the one-click unsubscribe address, or ""
	params      map[string]string
	loc         *time.Location
	cat         *catalog.Catalog
	agency      branding.Agency
}

// AgencyName is the agency's name, "" when not configured.
func (v view) AgencyName() string { return v.agency.Name }

// ContactLines are the agency's contact lines, as given.
func (v view) ContactLines() []string { return v.agency.Contact }

// HelpAddress is the agency's help address, "" when not configured.
func (v view) HelpAddress() string { return v.agency.Help }

// HelpLink is a link to the help address, for H.
func (v view) HelpLink() htmltemplate.HTML {
	return htmltemplate.HTML(`<a href="` + htmltemplate.HTMLEscapeString(v.agency.HelpHref()) + `" dir="ltr">` +
		htmltemplate.HTMLEscapeString(v.agency.Help) + "</a>")
}

// isolate keeps a text given as is (a name, an address line) from mixing
// with the words around it in a right-to-left message: first-strong
// isolation marks, as a plain text has no element to say so.
func (v view) isolate(s string) string {
	if v.Dir() == "rtl" {
		return "\u2068" + s + "\u2069"
	}
	return s
}

// signature is what ends an email's text: the agency's name, contact lines
// and help address after a signature line, or nothing.
func (v view) signature() string {
	a := v.agency
	if a.Name == "" && len(a.Contact) == 0 && a.Help == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n-- \n")
	for _, line := range append([]string{a.Name}, a.Contact...) {
		if line != "" {
			b.WriteString(v.isolate(line) + "\n")
		}
	}
	if a.Help != "" {
		b.WriteString(v.T("msg.need_help", "Address", a.Help) + "\n")
	}
	return b.String()
}

func newView(d casegate.Delivery, code, publicURL, lang string, loc *time.Location) (view, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return view{}, fmt.Errorf("delivery: public URL %q is not an absolute http(s) URL", publicURL)
	}
	if code != "" && !accesscode.Valid(code) {
		return view{}, errors.New("delivery: the access code is not a canonical code")
	}
	if loc == nil {
		loc = time.UTC
	}
	return view{
		Lang:      lang,
		PublicURL: strings.TrimSuffix(publicURL, "/"),
		Host:      u.Hostname(),
		code:      code,
		params:    d.Params,
		loc:       loc,
		cat:       catalog.Default(),
	}, nil
}

// Dir is the message's writing direction, "ltr" or "rtl", for the HTML
// layout.
func (v view) Dir() string { return v.cat.Direction(v.Lang) }

// Code is the access code in display form, "K7M2Q-9XH4R".
func (v view) Code() (string, error) {
	if v.code == "" {
		return "", errors.New("the template needs an access code and there is none")
	}
	return accesscode.Display(v.code), nil
}

// CodeCanonical is the access code without a hyphen, for the origin-bound SMS line.
func (v view) CodeCanonical() (string, error) {
	if v.code == "" {
		return "", errors.New("the template needs an access code and there is none")
	}
	return v.code, nil
}

// ExpiresAt is the clock time from the expires_at parameter, "14:05 UTC".
func (v view) ExpiresAt() (string, error) {
	t, err := v.timeParam("expires_at")
	if err != nil {
		return "", err
	}
	if t.IsZero() {
		return "", errors.New("the template needs expires_at and there is none")
	}
	return clock(t), nil
}

// Unsubscribe is the address that stops these messages, "" when there is none.
func (v view) Unsubscribe() string { return v.unsubscribe }

// ValidMinutes is the valid_minutes parameter, or 0 when it is absent.
func (v view) ValidMinutes() (int, error) {
	s := v.params["valid_minutes"]
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("valid_minutes %q is not a number of minutes", s)
	}
	return n, nil
}

// Locked reports whether the locked_until parameter names a time; without
// one, the party stays locked until staff unlock it.
func (v view) Locked() (bool, error) {
	t, err := v.timeParam("locked_until")
	return !t.IsZero(), err
}

// LockedUntilTime is the clock time of locked_until, "14:05 UTC".
func (v view) LockedUntilTime() (string, error) {
	t, err := v.timeParam("locked_until")
	return clock(t), err
}

// LockedUntilDate is the date of locked_until in the message's language.
func (v view) LockedUntilDate() (string, error) {
	t, err := v.timeParam("locked_until")
	if err != nil {
		return "", err
	}
	return v.cat.Date(v.Lang, "msg.date", t), nil
}

// Receipt is the receipt_number parameter: the only case detail a notification carries.
func (v view) Receipt() (string, error) {
	if r := v.params["receipt_number"]; r != "" {
		return r, nil
	}
	return "", errors.New("the template needs receipt_number and there is none")
}

// StatusTitle names the status parameter in the message's language: the
// catalog's title, else the custom title parameter.
func (v view) StatusTitle() (string, error) {
	if v.params["status"] == "" {
		return "", errors.New("the template needs status and there is none")
	}
	return casegate.StatusTitle(v.params["status"], v.params["title"], v.Lang), nil
}

// StatusDescription says what a catalog status means, in the words for
// the party's role parameter (the applicant's, else a watcher's); "" for a
// custom status.
func (v view) StatusDescription() string {
	st, ok := casegate.Status(v.params["status"])
	if !ok {
		return ""
	}
	return st.DescriptionFor(v.Lang, casegate.Role(v.params["role"]))
}

// ChangedEmail reports whether the changed parameter says the email address
// changed (else the phone number did).
func (v view) ChangedEmail() (bool, error) {
	switch v.params["changed"] {
	case "email":
		return true, nil
	case "phone":
		return false, nil
	}
	return false, fmt.Errorf("changed %q is neither email nor phone", v.params["changed"])
}

// timeParam reads an RFC 3339 parameter in the view's location; absent is the zero time.
func (v view) timeParam(name string) (time.Time, error) {
	s := v.params[name]
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time", name, s)
	}
	return t.In(v.loc), nil
}

// clock formats a time of day with its zone: "14:05 UTC".
func clock(t time.Time) string { return t.Format("15:04 MST") }

// T is the catalog's message key in the message's language, its {{.Name}}s
// filled from kv, name and value pairs.
func (v view) T(key string, kv ...any) string { return v.cat.Text(v.Lang, key, pairs(kv)) }

// H is T for HTML: the message and its values are escaped, except values
// that are HTML already (Strong, Link).
func (v view) H(key string, kv ...any) htmltemplate.HTML {
	args := pairs(kv)
	var marks []string
	for name, val := range args {
		if name == "Count" {
			continue // a number, and it picks the plural form
		}
		h, ok := val.(htmltemplate.HTML)
		if !ok {
			h = htmltemplate.HTML(htmltemplate.HTMLEscapeString(fmt.Sprint(val)))
		}
		args[name] = markOpen + strconv.Itoa(len(marks)) + markClose
		marks = append(marks, string(h))
	}
	out := htmltemplate.HTMLEscapeString(v.cat.Text(v.Lang, key, args))
	for i, h := range marks {
		out = strings.ReplaceAll(out, markOpen+strconv.Itoa(i)+markClose, h)
	}
	return htmltemplate.HTML(out)
}

// markOpen and markClose wrap the stand-in for a value while H escapes its
// message: private-use characters, which escaping keeps and no message holds.
const markOpen, markClose = "\ue000", "\ue001"

// Strong is s in bold, for H.
func (v view) Strong(s string) htmltemplate.HTML {
	return htmltemplate.HTML("<strong>" + htmltemplate.HTMLEscapeString(s) + "</strong>")
}

// Link is a link to url showing url, for H.
func (v view) Link(url string) htmltemplate.HTML {
	u := htmltemplate.HTMLEscapeString(url)
	return htmltemplate.HTML(`<a href="` + u + `">` + u + "</a>")
}

// Expires says when the code expires, at the time at and, with the
// valid_minutes parameter, in how many minutes.
func (v view) Expires(at string) (string, error) {
	n, err := v.ValidMinutes()
	if n == 0 {
		return v.T("msg.expires_at", "Time", at), err
	}
	return v.T("msg.expires_at_in", "Time", at, "Count", n), err
}

// ExpiresHTML is Expires for HTML; at may be HTML already.
func (v view) ExpiresHTML(at any) (htmltemplate.HTML, error) {
	n, err := v.ValidMinutes()
	if n == 0 {
		return v.H("msg.expires_at", "Time", at), err
	}
	return v.H("msg.expires_at_in", "Time", at, "Count", n), err
}

// pairs makes template arguments (name, value, name, value …) a map.
func pairs(kv []any) map[string]any {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}
