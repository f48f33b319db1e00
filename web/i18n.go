package web

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/casegate/casegate"
)

//go:embed locales/*.json
var localeFS embed.FS

// langCookie remembers the language a person chose with the switch.
const langCookie = "casegate_lang"

// catalog translates the pages' text and the English messages of portal and
// identity, gettext style: the English text is the message id, and a message
// without a translation is shown in English.
type catalog struct {
	loc     map[string]*i18n.Localizer
	matcher language.Matcher
}

// newCatalog loads the embedded message files, one per language.
func newCatalog() (*catalog, error) {
	b := i18n.NewBundle(language.English)
	c := &catalog{loc: map[string]*i18n.Localizer{}}
	var tags []language.Tag
	for _, lang := range casegate.Languages {
		if _, err := b.LoadMessageFileFS(localeFS, "locales/active."+lang+".json"); err != nil {
			return nil, fmt.Errorf("web: locales: %w", err)
		}
		c.loc[lang] = i18n.NewLocalizer(b, lang)
		tags = append(tags, language.Make(lang))
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// tr returns the English text id in lang. id may come from outside the web
// package (a portal message): it is never run as a template unless the
// catalog holds it.
func (c *catalog) tr(lang, id string) string {
	msg, err := c.localizer(lang).Localize(&i18n.LocalizeConfig{MessageID: id})
	if msg == "" && err != nil {
		return id
	}
	return msg
}

// trData returns the message template id, in lang, run with data. id must be
// a literal of this package or its templates.
func (c *catalog) trData(lang, id string, data map[string]any) string {
	msg, err := c.localizer(lang).Localize(&i18n.LocalizeConfig{
		DefaultMessage: &i18n.Message{ID: id, Other: id}, TemplateData: data,
	})
	if msg == "" && err != nil {
		return id
	}
	return msg
}

// trCount returns the plural message id for n in lang; the message template
// sees n as .Count.
func (c *catalog) trCount(lang, id string, n int) string {
	msg, err := c.localizer(lang).Localize(&i18n.LocalizeConfig{
		DefaultMessage: &i18n.Message{ID: id, Other: id},
		TemplateData:   map[string]any{"Count": n},
		PluralCount:    n,
	})
	if msg == "" && err != nil {
		return id
	}
	return msg
}

// has reports whether lang has its own text for id.
func (c *catalog) has(lang, id string) bool {
	_, err := c.localizer(lang).Localize(&i18n.LocalizeConfig{MessageID: id})
	var nf *i18n.MessageNotFoundErr
	return err == nil || !errors.As(err, &nf)
}

func (c *catalog) localizer(lang string) *i18n.Localizer {
	if l, ok := c.loc[lang]; ok {
		return l
	}
	return c.loc[casegate.Languages[0]]
}

// acceptLanguage picks the supported language the Accept-Language header
// prefers, English when none.
func (c *catalog) acceptLanguage(header string) string {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return casegate.Languages[0]
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return casegate.Languages[0]
	}
	return casegate.Languages[i]
}

// pageLang is the language of a page: the switch's cookie, else Accept-Language.
func (s *Server) pageLang(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && supported(ck.Value) {
		return ck.Value
	}
	return s.cat.acceptLanguage(r.Header.Get("Accept-Language"))
}

func supported(lang string) bool {
	for _, l := range casegate.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// localError returns e's message and field messages in lang.
func (c *catalog) localError(lang string, e *casegate.Error) (string, map[string]string) {
	var fields map[string]string
	if len(e.Fields) > 0 {
		fields = make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			fields[k] = c.tr(lang, v)
		}
	}
	return c.tr(lang, e.Message), fields
}

// wait says how long to wait, in lang: seconds under two minutes, else minutes.
func (c *catalog) wait(lang string, d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 120 {
		return c.trCount(lang, "{{.Count}} seconds", max(secs, 1))
	}
	return c.trCount(lang, "{{.Count}} minutes", (secs+59)/60)
}

// date writes a day in lang: "March 14, 2025" or "14 de marzo de 2025".
func (c *catalog) date(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return c.trData(lang, "{{.Month}} {{.Day}}, {{.Year}}", map[string]any{
		"Month": c.tr(lang, monthNames[t.Month()-1]), "Day": t.Day(), "Year": strconv.Itoa(t.Year()),
	})
}

// statusDescription says in lang what a catalog status means for the
// person; "" for a custom status, which has only its title.
func statusDescription(code, lang string) string {
	st, ok := casegate.Status(code)
	if !ok {
		return ""
	}
	if d := st.Description[lang]; d != "" {
		return d
	}
	return st.Description[casegate.Languages[0]]
}

// roleText names each role.
var roleText = map[casegate.Role]string{
	casegate.RoleApplicant:      "Applicant",
	casegate.RolePetitioner:     "Petitioner",
	casegate.RoleBeneficiary:    "Beneficiary",
	casegate.RoleRepresentative: "Representative",
}

var monthNames = [12]string{"January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December"}

// The messages the web package itself puts on pages or in problems.
const (
	msgChooseCountry = "Choose your country of birth from the list."
	msgRealDate      = "Enter a real date: the month as 1 to 12, the day as 1 to 31 and the year with 4 numbers."
	msgEnterCode     = "Enter the code from the message."
	msgFormUnread    = "The form could not be read. Please try again."
	msgTooLarge      = "The request is too large."
	msgNothingHere   = "There is nothing at this address."
	msgInternal      = "Something went wrong on our side. Please try again later."
	msgUnavailable   = "The service cannot reach its database just now. Please try again in a minute."
	msgCrossOrigin   = "This form was sent from another website, so we did not accept it. Go back to our page and try again."
	msgEnterNewEmail = "Enter your new email address."
	msgEnterNewPhone = "Enter your new phone number."
)

// webMessages lists every message of this package shown outside templates,
// so that a test can check each has its translations.
var webMessages = []string{
	msgChooseCountry, msgRealDate, msgEnterCode, msgFormUnread, msgTooLarge, msgNothingHere, msgInternal,
	msgUnavailable, msgCrossOrigin, msgEnterNewEmail, msgEnterNewPhone,
	"{{.Month}} {{.Day}}, {{.Year}}", "{{.Count}} seconds", "{{.Count}} minutes",
	"You have {{.Count}} attempts left.", "You can ask again in {{.Wait}}.",
}
