package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/branding"
)

//go:embed templates
var templateFS embed.FS

// pageSet holds every page parsed once per language: pageSet[lang][name].
type pageSet map[string]map[string]*template.Template

// parsePages parses the layout with each page, once per language, so that
// each set's "t" function speaks its language; times are shown in loc.
func parsePages(cat *texts, a assets, ag branding.Agency, loc *time.Location) (pageSet, error) {
	names, err := fs.Glob(templateFS, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	set := pageSet{}
	for _, lang := range casegate.Languages {
		base, err := template.New("layout.html").Funcs(pageFuncs(cat, a, ag, lang, loc)).
			ParseFS(templateFS, "templates/layout.html", "templates/parts.html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		set[lang] = map[string]*template.Template{}
		for _, file := range names {
			name := strings.TrimSuffix(strings.TrimPrefix(file, "templates/page_"), ".html")
			t, err := template.Must(base.Clone()).ParseFS(templateFS, file)
			if err != nil {
				return nil, fmt.Errorf("web: templates: %w", err)
			}
			set[lang][name] = t
		}
	}
	return set, nil
}

// pageFuncs are the template functions of one language, showing times in loc.
func pageFuncs(cat *texts, a assets, ag branding.Agency, lang string, loc *time.Location) template.FuncMap {
	return template.FuncMap{
		// agency is the agency's name, contact lines and help address.
		"agency": func() branding.Agency { return ag },
		// logo is the address of the agency's logo, "" when there is none.
		"logo": func() string {
			for _, name := range []string{"logo.svg", "logo.png"} {
				if u, err := a.url(name); err == nil {
					return u
				}
			}
			return ""
		},
		// isolate keeps a name given as is (the agency's) from mixing with
		// the words around it where no element can: in the page title of a
		// right-to-left page, first-strong isolation marks.
		"isolate": func(s string) string {
			if cat.c.Direction(lang) == "rtl" {
				return "\u2068" + s + "\u2069"
			}
			return s
		},
		// t is the catalog's message id; key/value pairs fill its {{.Key}}s.
		"t": func(id string, kv ...any) (string, error) {
			if len(kv) == 0 {
				return cat.tr(lang, id), nil
			}
			if len(kv)%2 != 0 {
				return "", fmt.Errorf("t %q: odd key/value pairs", id)
			}
			data := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return "", fmt.Errorf("t %q: key %v is not a string", id, kv[i])
				}
				data[k] = kv[i+1]
			}
			return cat.trData(lang, id, data), nil
		},
		// tn is the plural message id for the count n ({{.Count}}).
		"tn":    func(id string, n int) string { return cat.trCount(lang, id, n) },
		"asset": a.url,
		// dir is the page's writing direction, "ltr" or "rtl".
		"dir": func() string { return cat.c.Direction(lang) },
		// otherLanguages are the languages the switch offers, each named in itself.
		"otherLanguages": func() []languageChoice { return otherLanguages(cat, lang) },
		// date writes a calendar day (a case's received or inquiry date) as it is.
		"date": func(t time.Time) string { return cat.date(lang, t) },
		// day writes the day of an instant (a status change, a computation)
		// as it was in the deployment's time zone.
		"day": func(t time.Time) string { return cat.date(lang, t.In(loc)) },
		// status names a status in lang: the catalog title, else the custom title.
		"status":      func(code, title string) string { return casegate.StatusTitle(code, title, lang) },
		"description": func(code string, role casegate.Role) string { return statusDescription(code, lang, role) },
		"role": func(r casegate.Role) string {
			if r.Valid() {
				return cat.tr(lang, "role."+string(r))
			}
			return string(r)
		},
		"wait":    func(d time.Duration) string { return cat.wait(lang, d) },
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"field":   field,
		"datePart": func(d *pageData, id, label string) fieldView {
			f := field(d, id, label, "")
			f.Error = d.FieldErrs["dob_month"] // the date's one message, on its first box
			return f
		},
	}
}

// languageChoice is one button of the language switch.
type languageChoice struct {
	Code, Name, Dir string
}

// otherLanguages lists the catalog's languages but lang, each named in itself.
func otherLanguages(cat *texts, lang string) []languageChoice {
	var out []languageChoice
	for _, l := range cat.c.Languages() {
		if l != lang {
			out = append(out, languageChoice{Code: l, Name: cat.tr(l, "language.name"), Dir: cat.c.Direction(l)})
		}
	}
	return out
}

// pageData is what every page template gets.
type pageData struct {
	Lang      string            // the page's language
	Path      string            // the local address the language switch returns to
	SignedIn  bool              // shows "Your cases" and the sign-out form
	PublicURL string            // the only address where codes are entered
	Errors    []summaryItem     // the error summary, in form order
	Form      map[string]string // what the person typed, by field id
	FieldErrs map[string]string // messages by field id
	Page      any               // the page's own data
}

// ShowsError reports whether the page shows an error, a form's or the error
// page's: its title then begins "Error:", the first thing a screen reader says.
func (d *pageData) ShowsError() bool {
	_, isErr := d.Page.(errorPage)
	return isErr || len(d.Errors) > 0
}

// summaryItem is one line of the error summary: a link to its field.
type summaryItem struct {
	ID, Message string
}

// newPage starts the data of a page for r.
func (s *Server) newPage(r *http.Request, page any) *pageData {
	p := r.URL.Path
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		p = r.URL.RequestURI()
	}
	return &pageData{Lang: s.pageLang(r), Path: p, PublicURL: s.public.String(), Page: page, SignedIn: s.signedInNow(r)}
}

// signedInNow reports whether r comes with a live session: the header then
// offers the way back to the cases and out, on every page.
func (s *Server) signedInNow(r *http.Request) bool {
	if sess, ok := r.Context().Value(sessionKey).(casegate.Session); ok && sess.PartyID != 0 {
		return true
	}
	c, err := r.Cookie(s.cookie)
	if err != nil || c.Value == "" {
		return false
	}
	_, err = s.portal.Authenticate(r.Context(), c.Value)
	return err == nil
}

// render executes page name into a buffer and only then writes it, so that a
// template error becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d *pageData) error {
	t, ok := s.pages[d.Lang][name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", d.Lang)
	h.Add("Vary", "Cookie, Accept-Language")
	if d.SignedIn {
		h.Set("Cache-Control", "no-store") // it shows who is signed in
	} else if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}

// page adapts h for pages: errors become an HTML error page.
func (s *Server) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string        // translated; empty for a 500
	Wait    time.Duration // for a 429
}

// renderError answers err with the error page. Internal errors are logged
// with their detail and shown without it.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.errorOf(r, err)
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	d := s.newPage(r, nil)
	ep := errorPage{Status: status}
	if status != http.StatusInternalServerError {
		ep.Message, _ = s.cat.localError(d.Lang, e)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		ep.Wait = max(e.RetryAfter, time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(int((ep.Wait+time.Second-1)/time.Second)))
	}
	d.Page = ep
	w.Header().Set("Cache-Control", "no-store")
	if err := s.render(w, r, status, "error", d); err != nil {
		s.log.ErrorContext(r.Context(), "render error page", "err", err)
		http.Error(w, http.StatusText(status), status)
	}
}

// fieldView is one form field as the "input" template shows it.
type fieldView struct {
	ID, Label, Hint, Value, Error string
	Autocomplete, InputMode       string
	Width                         string // a CSS class for the expected length
}

// inputAttrs are the browser hints of each text field.
var inputAttrs = map[string]fieldView{
	"receipt_number": {Autocomplete: "off", Width: "w-15"},
	"a_number":       {Autocomplete: "off", Width: "w-12"},
	"given_name":     {Autocomplete: "given-name", Width: "w-30"},
	"family_name":    {Autocomplete: "family-name", Width: "w-30"},
	"dob_month":      {Autocomplete: "bday-month", InputMode: "numeric", Width: "w-2"},
	"dob_day":        {Autocomplete: "bday-day", InputMode: "numeric", Width: "w-2"},
	"dob_year":       {Autocomplete: "bday-year", InputMode: "numeric", Width: "w-4"},
	"code":           {Autocomplete: "one-time-code", Width: "w-12"},
}

// field builds the view of the field id of d with its label and hint.
func field(d *pageData, id, label, hint string) fieldView {
	f := inputAttrs[id]
	f.ID, f.Label, f.Hint = id, label, hint
	f.Value, f.Error = d.Form[id], d.FieldErrs[id]
	return f
}
