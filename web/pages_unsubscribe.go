package web

import (
	"mime"
	"net/http"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

// unsubscribePage is the data of the unsubscribe page: the case whose
// emails the link stops, the link's token for the button, and whether
// they are stopped now.
type unsubscribePage struct {
	Receipt string
	Token   string
	Done    bool
}

// unsubscribeToken is where the token of an unsubscribe link is read: the
// query of the link (the page, and a one-click POST to the address in
// List-Unsubscribe), else the form the page's button sends.
func unsubscribeToken(r *http.Request) string {
	if t := r.URL.Query().Get("t"); t != "" {
		return t
	}
	return r.PostFormValue("t")
}

// unsubscribeGet asks whether to stop the emails. It never stops them: mail
// scanners open every link in a message, and a GET must change nothing.
func (s *Server) unsubscribeGet(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("t")
	receipt, err := s.portal.UnsubscribeLink(tok)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "unsubscribe", s.newPage(r, unsubscribePage{Receipt: receipt, Token: tok}))
}

// unsubscribePost stops the emails: a mail provider's one-click POST (RFC
// 8058, body "List-Unsubscribe=One-Click", token in the query) or the page's
// button (token in the form). Neither carries a session or comes from this
// site's pages only, so the route is exempt from the cross-origin check; the
// token is what authorizes it (docs/decisions.md).
func (s *Server) unsubscribePost(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// RFC 8058 allows the one-click body as multipart/form-data too,
		// which ParseForm leaves unread.
		if err := r.ParseMultipartForm(maxFormBody); err != nil {
			return casegate.NewError(casegate.EInvalid, msgFormUnread)
		}
	}
	via := portal.UnsubscribePage
	if r.PostForm.Get("List-Unsubscribe") == "One-Click" {
		via = portal.UnsubscribeOneClick
	}
	receipt, err := s.portal.Unsubscribe(r.Context(), unsubscribeToken(r), via, s.clientIP(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "unsubscribe", s.newPage(r, unsubscribePage{Receipt: receipt, Done: true}))
}
