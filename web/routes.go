package web

import "net/http"

// routes is every route of casegate, API and pages, in one place.
func (s *Server) routes() http.Handler {
	mux := &patternMux{ServeMux: http.NewServeMux(), patterns: map[string]bool{}}
	s.patterns = mux.patterns

	// Public API.
	mux.Handle("POST /api/v1/access-codes", s.api(s.requestCode))
	mux.Handle("POST /api/v1/access-codes/{request_id}/resend", s.api(s.resendCode))
	mux.Handle("POST /api/v1/sessions", s.api(s.createSession))
	mux.Handle("DELETE /api/v1/sessions/current", s.api(s.signedIn(s.deleteSession)))
	mux.Handle("DELETE /api/v1/sessions", s.api(s.signedIn(s.deleteAllSessions)))
	mux.Handle("GET /api/v1/me", s.api(s.signedIn(s.me)))
	mux.Handle("GET /api/v1/cases/{receipt_number}", s.api(s.signedIn(s.getCase)))
	mux.Handle("PUT /api/v1/cases/{receipt_number}/subscription", s.api(s.signedIn(s.setSubscription)))
	mux.Handle("POST /api/v1/me/contact", s.api(s.signedIn(s.startContactChange)))
	mux.Handle("POST /api/v1/me/contact/{change_id}/confirm", s.api(s.signedIn(s.confirmContactChange)))
	mux.Handle("GET /api/v1/processing-times", s.api(s.processingTimesAPI))
	mux.HandleFunc("GET /api/openapi.yaml", s.openAPI)

	// Operator API.
	mux.Handle("POST /admin/v1/cases", s.api(s.admin(s.importCases)))
	mux.Handle("POST /admin/v1/cases/{receipt_number}/events", s.api(s.admin(s.postEvent)))
	mux.Handle("POST /admin/v1/processing-times/recompute", s.api(s.admin(s.recomputeProcessingTimes)))
	mux.Handle("GET /admin/v1/audit", s.api(s.admin(s.listAudit)))
	mux.Handle("GET /admin/v1/deliveries", s.api(s.admin(s.listDeliveries)))
	mux.Handle("POST /admin/v1/parties/{id}/unlock", s.api(s.admin(s.unlockParty)))

	// Health.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.api(s.admin(s.metricsHandler)))

	// Pages.
	mux.Handle("GET /{$}", s.page(s.home))
	mux.Handle("GET /request", s.page(s.requestPage))
	mux.Handle("POST /request", s.page(s.submitRequest))
	mux.Handle("GET /verify", s.page(s.verifyPage))
	mux.Handle("POST /verify", s.page(s.submitCode))
	mux.Handle("POST /verify/resend", s.page(s.resend))
	mux.Handle("GET /dashboard", s.page(s.signedInPage(s.dashboard)))
	mux.Handle("GET /cases/{receipt}", s.page(s.signedInPage(s.casePage)))
	mux.Handle("POST /cases/{receipt}/subscription", s.page(s.signedInPage(s.submitSubscription)))
	mux.Handle("GET /contact", s.page(s.signedInPage(s.contactPage)))
	mux.Handle("POST /contact", s.page(s.signedInPage(s.submitContact)))
	mux.Handle("POST /contact/confirm", s.page(s.signedInPage(s.confirmContact)))
	mux.Handle("GET /processing-times", s.page(s.processingTimesPage))
	mux.Handle("POST /signout", s.page(s.signOut))
	mux.Handle("POST /language", s.page(s.switchLanguage))
	mux.Handle("GET /static/{name}", s.page(s.serveStatic))
	mux.Handle("GET /unsubscribe", s.page(s.unsubscribeGet))
	mux.Handle("POST /unsubscribe", s.page(s.unsubscribePost))

	// Demo only: a page for browsers, JSON for API clients.
	if s.mailbox != nil {
		mux.Handle("GET /dev/mailbox", s.page(s.mailboxPage))
	}

	// Anything else under the API answers with a problem; elsewhere, a page.
	mux.Handle("/api/", s.api(notFound))
	mux.Handle("/admin/", s.api(notFound))
	mux.Handle("/", s.page(s.pageNotFound))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))
	// RFC 8058 POSTs come from mail providers, which may send a browser's
	// Sec-Fetch-Site; the link's token, not the origin, authorizes them.
	cop.AddInsecureBypassPattern("POST /unsubscribe")
	return s.requestIDs(s.recoverPanics(s.securityHeaders(s.logRequests(cop.Handler(mux)))))
}

// patternMux is a ServeMux that remembers the patterns it was given, so that
// metrics and logs name a request by one of them and by nothing else.
type patternMux struct {
	*http.ServeMux
	patterns map[string]bool
}

func (m *patternMux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.patterns[pattern] = true
}

func (m *patternMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.ServeMux.HandleFunc(pattern, h)
	m.patterns[pattern] = true
}

// route names the route that answered r: its pattern, or "" when none did.
// The mux sets r.Pattern from the request in one case (a CONNECT
// redirected to a path with a slash added), so only registered ones count.
func (s *Server) route(r *http.Request) string {
	if s.patterns[r.Pattern] {
		return r.Pattern
	}
	return ""
}
