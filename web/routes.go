package web

import "net/http"

// routes is every route of casegate, API and pages, in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Public API.
	mux.Handle("POST /api/v1/access-codes", s.api(s.requestCode))
	mux.Handle("POST /api/v1/access-codes/{request_id}/resend", s.api(s.resendCode))
	mux.Handle("POST /api/v1/sessions", s.api(s.createSession))
	mux.Handle("DELETE /api/v1/sessions/current", s.api(s.signedIn(s.deleteSession)))
	mux.Handle("DELETE /api/v1/sessions", s.api(s.signedIn(s.deleteAllSessions)))
	mux.Handle("GET /api/v1/me", s.api(s.signedIn(s.me)))
	mux.Handle("GET /api/v1/cases/{receipt_number}", s.api(s.signedIn(s.getCase)))

	// Operator API.
	mux.Handle("POST /admin/v1/cases", s.api(s.admin(s.importCases)))
	mux.Handle("GET /admin/v1/audit", s.api(s.admin(s.listAudit)))
	mux.Handle("GET /admin/v1/deliveries", s.api(s.admin(s.listDeliveries)))
	mux.Handle("POST /admin/v1/parties/{id}/unlock", s.api(s.admin(s.unlockParty)))

	// Health.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)

	// Demo only.
	if s.mailbox != nil {
		mux.Handle("GET /dev/mailbox", s.api(s.devMailbox))
	}

	// Anything else under the API answers with a problem, not a page.
	mux.Handle("/api/", s.api(notFound))
	mux.Handle("/admin/", s.api(notFound))
	mux.Handle("/", s.api(notFound))

	cop := http.NewCrossOriginProtection()
	return s.recoverPanics(s.securityHeaders(s.logRequests(cop.Handler(mux))))
}
