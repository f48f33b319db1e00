package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/casegate/casegate"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[casegate.ErrorCode]int{
	casegate.EInvalid:         http.StatusBadRequest,
	casegate.ETooLarge:        http.StatusRequestEntityTooLarge,
	casegate.ECodeMalformed:   http.StatusUnprocessableEntity,
	casegate.ECodeIncorrect:   http.StatusUnauthorized,
	casegate.ECodeExpired:     http.StatusGone,
	casegate.ECodeUsed:        http.StatusGone,
	casegate.ETooManyAttempts: http.StatusTooManyRequests,
	casegate.EResendTooSoon:   http.StatusTooManyRequests,
	casegate.ERateLimited:     http.StatusTooManyRequests,
	casegate.EUnauthenticated: http.StatusUnauthorized,
	casegate.EReauthRequired:  http.StatusForbidden,
	casegate.ECrossOrigin:     http.StatusForbidden,
	casegate.ENotFound:        http.StatusNotFound,
	casegate.EConflict:        http.StatusConflict,
	casegate.EUnavailable:     http.StatusServiceUnavailable,
	casegate.EInternal:        http.StatusInternalServerError,
}

// problem is an RFC 9457 problem document with casegate's members.
type problem struct {
	Type              string             `json:"type"`
	Title             string             `json:"title"`
	Status            int                `json:"status"`
	Detail            string             `json:"detail,omitempty"`
	Code              casegate.ErrorCode `json:"code"`
	Errors            map[string]string  `json:"errors,omitempty"`
	AttemptsRemaining *int               `json:"attempts_remaining,omitempty"`
	RetryAfter        *int               `json:"retry_after,omitempty"`
	// RequestID names the HTTP request, as its X-Request-ID header does,
	// so that a person reporting a problem can quote it and an operator
	// find its log lines and audit events.
	RequestID string `json:"http_request_id,omitempty"`
}

// writeProblem answers err as application/problem+json, its detail and field
// messages in the language of Accept-Language. Only internal errors are
// logged, with their detail; the client gets a plain message.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	e := s.errorOf(r, err)
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	lang := s.cat.acceptLanguage(r.Header.Get("Accept-Language"))
	detail, fields := s.cat.localError(lang, e)
	w.Header().Set("Content-Language", lang)
	p := problem{
		Type:      s.problemType(e.Code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Code:      e.Code,
		Errors:    fields,
		RequestID: casegate.RequestID(r.Context()),
	}
	if e.Code == casegate.ECodeIncorrect {
		n := e.AttemptsRemaining
		p.AttemptsRemaining = &n
	}
	// Retry-After only where waiting helps: a dead challenge stays dead.
	if e.RetryAfter > 0 || e.Code == casegate.ERateLimited || e.Code == casegate.EResendTooSoon || e.Code == casegate.EUnavailable {
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		p.RetryAfter = &secs
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	writeJSONType(w, status, "application/problem+json", p)
}

// problemType is the type URI of a problem with code: "about:blank" (RFC
// 9457 §4.2.1: the problem is no more than its HTTP status, whose phrase is
// the title) unless the operator named a base URL of their own, under which
// each code has its page (base + code).
func (s *Server) problemType(code casegate.ErrorCode) string {
	if s.problemBase == "" {
		return "about:blank"
	}
	return s.problemBase + string(code)
}

// errorOf returns the *casegate.Error that err is answered with. An error
// without one is internal and logged with its detail, unless it is an
// oversized body or the client went away. Unavailable dependencies (the
// store marks a database that cannot be reached, is busy past its timeout or
// is full) are logged as warnings, for API and pages alike.
func (s *Server) errorOf(r *http.Request, err error) *casegate.Error {
	e, ok := casegate.AsError(err)
	var mbe *http.MaxBytesError
	switch {
	case ok:
	case errors.As(err, &mbe):
		return casegate.NewError(casegate.ETooLarge, msgTooLarge)
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The client went away mid-request: nobody reads the answer, and
		// nothing went wrong on our side.
		s.log.DebugContext(r.Context(), "client gone", "route", s.route(r))
		return casegate.NewError(casegate.EInternal, msgInternal)
	default:
		s.log.ErrorContext(r.Context(), "internal error", "route", s.route(r), "err", err)
		return casegate.NewError(casegate.EInternal, msgInternal)
	}
	if e.Code == casegate.EUnavailable {
		s.log.WarnContext(r.Context(), "dependency unavailable", "route", s.route(r), "err", err)
	}
	return e
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, "application/json", v)
}

func writeJSONType(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"code":"internal"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// notFound answers any route that does not exist.
func notFound(w http.ResponseWriter, r *http.Request) error {
	return casegate.NewError(casegate.ENotFound, msgNothingHere)
}
