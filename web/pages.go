package web

import (
	"cmp"
	"context"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

// homePage is the data of the home page.
type homePage struct {
	SignedOut bool
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	d := s.newPage(r, homePage{SignedOut: r.URL.Query().Get("signed_out") == "1"})
	return s.render(w, r, http.StatusOK, "home", d)
}

// pageNotFound is the HTML 404 for any address without a page.
func (s *Server) pageNotFound(w http.ResponseWriter, r *http.Request) error {
	return casegate.NewError(casegate.ENotFound, msgNothingHere)
}

// signedInPage lets h run only with a live session; without one the person
// is sent to request a code. Nothing it answers may be stored.
func (s *Server) signedInPage(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		sess, err := s.portal.Authenticate(r.Context(), s.sessionToken(r))
		if casegate.ErrorCodeOf(err) == casegate.EUnauthenticated {
			return toRequest(w, r)
		}
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), sessionKey, sess)))
	}
}

// dashboardPage is the data of the signed-in home.
type dashboardPage struct {
	Party          portal.PartyView
	Cases          []portal.CaseView
	ContactChanged bool // a contact change was just confirmed
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	db, err := s.portal.Dashboard(r.Context(), session(r))
	if err != nil {
		return err
	}
	d := s.newPage(r, dashboardPage{Party: db.Party, Cases: db.Cases, ContactChanged: r.URL.Query().Get("contact_changed") == "1"})
	d.SignedIn, d.Path = true, "/dashboard" // the language switch does not bring the notice back
	return s.render(w, r, http.StatusOK, "dashboard", d)
}

// casePage is the data of one case's page.
type casePage struct {
	portal.CaseView
	MinCases           int  // a published processing time comes from at least this many cases
	HasEmail, HasPhone bool // the party has this contact on file, so it can be notified there
	NotifyEmail        bool // the boxes as shown: the subscription, or what was just posted
	NotifySMS          bool
	Saved              bool // the subscription was just saved
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request) error {
	d := s.newPage(r, nil)
	return s.renderCase(w, r, http.StatusOK, d, nil, r.URL.Query().Get("subscribed") == "1")
}

// renderCase shows the case of the request's path with what is already in
// d. posted, when not nil, is the subscription form as sent, shown instead of
// the stored subscription.
func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, status int, d *pageData, posted *casegate.Subscription, saved bool) error {
	ctx, sess := r.Context(), session(r)
	c, err := s.portal.Case(ctx, sess, r.PathValue("receipt"))
	if err != nil {
		return err
	}
	db, err := s.portal.Dashboard(ctx, sess)
	if err != nil {
		return err
	}
	p := casePage{CaseView: c, MinCases: s.portal.ProcessingMinCases(), HasEmail: db.Party.Email != "", HasPhone: db.Party.Phone != "", Saved: saved}
	sub := c.Subscription
	if posted != nil {
		sub = *posted
	}
	p.NotifyEmail, p.NotifySMS = sub.Email, sub.SMS
	d.Page, d.SignedIn, d.Path = p, true, "/cases/"+c.ReceiptNumber
	return s.render(w, r, status, "case", d)
}

// signOut ends the session server-side, whatever state it is in, and clears
// the cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.portal.Authenticate(r.Context(), s.sessionToken(r))
	switch {
	case err == nil:
		if err := s.portal.SignOut(r.Context(), sess, s.clientIP(r)); err != nil {
			return err
		}
	case casegate.ErrorCodeOf(err) != casegate.EUnauthenticated:
		return err
	}
	s.setSessionCookie(w, "")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/?signed_out=1", http.StatusSeeOther)
	return nil
}

// switchLanguage remembers the chosen language and goes back to the page it
// was chosen on, when that is a local address.
func (s *Server) switchLanguage(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	if lang := r.PostForm.Get("lang"); s.cat.c.Supported(lang) {
		http.SetCookie(w, &http.Cookie{
			Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
		})
		// Signed in, the choice is the party's too: the notices it does not
		// cause speak it from now on (docs/decisions.md).
		if c, err := r.Cookie(s.cookie); err == nil && c.Value != "" {
			if sess, err := s.portal.Authenticate(r.Context(), c.Value); err == nil {
				if err := s.portal.SetLanguage(r.Context(), sess, lang); err != nil {
					return err
				}
			}
		}
	}
	next := r.PostForm.Get("next")
	if !localPath(next) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// localPath reports whether p is an address on this site: a path from the
// root, not "//host" or "/\host" (which browsers read as another site), with
// no scheme, host, whitespace or control characters (browsers drop tabs and
// newlines, turning "/\t/evil" into "//evil").
func localPath(p string) bool {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && !u.IsAbs()
}

// processingTime is one row of the processing-times table.
type processingTime struct {
	FormType, Category, Office string
	MedianDays, P80Days, Cases int
	WholeForm                  bool // every category and office of the form together
	Withheld                   bool // too few cases: no figures, "not enough recent cases"
}

// timesPage is the data of the processing-times page.
type timesPage struct {
	Forms, Offices []string // the choices, from the published rows
	Form, Office   string   // the chosen ones; "" for all
	Chosen         bool     // the form was sent: the rows show only then, so a phone is not handed every row at once
	Rows           []processingTime
	Categories     bool              // some row has a category: the table shows the column
	AsOf           time.Time         // when the figures were computed
	MinCases       int               // a figure comes from at least this many cases
	OfficeNames    map[string]string // the office catalog's names by code; a code without one shows as itself
}

// processingTimes returns the published processing times, by form, category
// and office, and the date they were computed: the newest of the rows'.
func (s *Server) processingTimes(ctx context.Context) ([]processingTime, time.Time, error) {
	pts, err := s.portal.ProcessingTimes(ctx, "", "")
	if err != nil {
		return nil, time.Time{}, err
	}
	rows := make([]processingTime, 0, len(pts))
	var asOf time.Time
	for _, pt := range pts {
		rows = append(rows, processingTime{FormType: pt.FormType, Category: pt.Category, Office: pt.Office,
			MedianDays: pt.MedianDays, P80Days: pt.P80Days, Cases: pt.Cases, WholeForm: pt.WholeForm(), Withheld: pt.Withheld})
		if pt.ComputedAt.After(asOf) {
			asOf = pt.ComputedAt
		}
	}
	slices.SortFunc(rows, func(a, b processingTime) int {
		return cmp.Or(cmp.Compare(a.FormType, b.FormType), cmp.Compare(a.Category, b.Category), cmp.Compare(a.Office, b.Office))
	})
	return rows, asOf, nil
}

func (s *Server) processingTimesPage(w http.ResponseWriter, r *http.Request) error {
	rows, asOf, err := s.processingTimes(r.Context())
	if err != nil {
		return err
	}
	offices, err := s.portal.Offices(r.Context())
	if err != nil {
		return err
	}
	p := timesPage{AsOf: asOf, MinCases: s.portal.ProcessingMinCases(), OfficeNames: make(map[string]string, len(offices))}
	for code, o := range offices {
		p.OfficeNames[code] = o.Name
	}
	for _, row := range rows {
		if !slices.Contains(p.Forms, row.FormType) {
			p.Forms = append(p.Forms, row.FormType)
		}
		if !row.WholeForm && !slices.Contains(p.Offices, row.Office) {
			p.Offices = append(p.Offices, row.Office)
		}
	}
	slices.Sort(p.Forms)
	slices.Sort(p.Offices)
	q := r.URL.Query()
	p.Chosen = q.Has("form") || q.Has("office")
	if f := q.Get("form"); slices.Contains(p.Forms, f) {
		p.Form = f
	}
	if o := q.Get("office"); slices.Contains(p.Offices, o) {
		p.Office = o
	}
	for _, row := range rows {
		if !p.Chosen {
			break
		}
		// A whole-form row covers every office, so an office's choice keeps it.
		if (p.Form == "" || row.FormType == p.Form) && (p.Office == "" || row.WholeForm || row.Office == p.Office) {
			p.Rows = append(p.Rows, row)
			p.Categories = p.Categories || row.Category != ""
		}
	}
	return s.render(w, r, http.StatusOK, "times", s.newPage(r, p))
}

// mailboxPage shows the demo mailbox: a page for browsers, JSON for everyone
// else (API clients and scripts send no Accept: text/html).
func (s *Server) mailboxPage(w http.ResponseWriter, r *http.Request) error {
	if !acceptsHTML(r) {
		return s.devMailbox(w, r)
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "mailbox", s.newPage(r, s.mailbox.Messages()))
}

// acceptsHTML reports whether the Accept header names text/html.
func acceptsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/html" {
			return true
		}
	}
	return false
}

// isAPI reports whether path belongs to the JSON APIs, which answer errors
// with problems rather than pages.
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/admin/")
}

// crossOrigin answers a request that CrossOriginProtection refused: a
// problem (code cross_origin) on the APIs, as every API error is, and a page
// elsewhere.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	if isAPI(r.URL.Path) {
		s.writeProblem(w, r, casegate.NewError(casegate.ECrossOrigin, msgAPICrossOrigin))
		return
	}
	d := s.newPage(r, errorPage{Status: http.StatusForbidden, Message: s.cat.tr(s.pageLang(r), msgCrossOrigin)})
	d.Path = "/"
	w.Header().Set("Cache-Control", "no-store")
	if err := s.render(w, r, http.StatusForbidden, "error", d); err != nil {
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
	}
}
