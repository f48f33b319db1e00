package web

import (
	"net/http"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/catalog"
)

// langCookie remembers the language a person chose with the switch.
const langCookie = "casegate_lang"

// texts gives the pages and problems their words from the one catalog, by
// key. Every key the web package names itself is a literal at its call:
// in a template's t or tn, or a msg… constant below.
type texts struct {
	c *catalog.Catalog
}

// newCatalog returns the texts of c, or of the process's catalog when c is nil.
func newCatalog(c *catalog.Catalog) *texts {
	if c == nil {
		c = catalog.Default()
	}
	return &texts{c: c}
}

// tr returns the message key in lang.
func (t *texts) tr(lang, key string) string { return t.c.Text(lang, key, nil) }

// trData returns the message key in lang with its {{.Name}}s filled from data.
func (t *texts) trData(lang, key string, data map[string]any) string {
	return t.c.Text(lang, key, data)
}

// trCount returns the plural message key for n in lang; the message sees
// n as .Count.
func (t *texts) trCount(lang, key string, n int) string {
	return t.c.Text(lang, key, map[string]any{"Count": n})
}

// msg returns m in lang.
func (t *texts) msg(lang string, m casegate.Msg) string { return t.c.Text(lang, m.Key, m.Args) }

// acceptLanguage picks the supported language the Accept-Language header
// prefers, English when none.
func (t *texts) acceptLanguage(header string) string { return t.c.Match(header) }

// pageLang is the language of a page: the switch's cookie, else Accept-Language.
func (s *Server) pageLang(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && s.cat.c.Supported(ck.Value) {
		return ck.Value
	}
	return s.cat.acceptLanguage(r.Header.Get("Accept-Language"))
}

// localError returns e's message and field messages in lang. An error
// without a message key (an operator's, see casegate.Error.Message) keeps
// its English text; pages never get one from the public use cases.
func (t *texts) localError(lang string, e *casegate.Error) (string, map[string]string) {
	var fields map[string]string
	if len(e.Fields) > 0 {
		fields = make(map[string]string, len(e.Fields))
		for k, m := range e.Fields {
			fields[k] = t.msg(lang, m)
		}
	}
	if e.Msg.Key == "" {
		return e.Message, fields
	}
	return t.msg(lang, e.Msg), fields
}

// wait says how long to wait, in lang: seconds under two minutes, else minutes.
func (t *texts) wait(lang string, d time.Duration) string { return t.c.Wait(lang, d) }

// date writes a day in lang: "March 14, 2025" or "14 de marzo de 2025".
func (t *texts) date(lang string, tm time.Time) string { return t.c.Date(lang, "date.long", tm) }

// statusDescription says in lang what a catalog status means for a person
// with role on the case; "" for a custom status, which has only its title.
func statusDescription(code, lang string, role casegate.Role) string {
	st, ok := casegate.Status(code)
	if !ok {
		return ""
	}
	return st.DescriptionFor(lang, role)
}

// The messages the web package itself puts on pages or in problems.
const (
	msgChooseCountry  = "request.choose_country"
	msgRealDate       = "request.real_date"
	msgEnterCode      = "code.enter"
	msgAttemptsLeft   = "code.attempts_left"
	msgAskAgainIn     = "resend.ask_again_in"
	msgFormUnread     = "error.form_unread"
	msgTooLarge       = "error.too_large"
	msgNothingHere    = "error.nothing_here"
	msgInternal       = "error.internal"
	msgCrossOrigin    = "error.cross_origin"
	msgAPICrossOrigin = "api.cross_origin"
	msgEnterNewEmail  = "contact.enter_new_email"
	msgEnterNewPhone  = "contact.enter_new_phone"
)
