package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/metrics"
)

// handlerFunc is a handler that returns its error for one adapter to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// api adapts h: errors become problem documents. No API answer is stored by
// caches: they carry request ids, tokens or personal data.
func (s *Server) api(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := h(w, r); err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

type ctxKey int

const sessionKey ctxKey = iota

// signedIn lets h run only with a live session, from a bearer token or the
// session cookie, and marks the answer as not to be stored.
func (s *Server) signedIn(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		sess, err := s.portal.Authenticate(r.Context(), s.sessionToken(r))
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), sessionKey, sess)))
	}
}

// session returns the session put in the context by signedIn.
func session(r *http.Request) casegate.Session {
	s, _ := r.Context().Value(sessionKey).(casegate.Session)
	return s
}

// sessionToken reads the bearer token, else the session cookie.
func (s *Server) sessionToken(r *http.Request) string {
	if t, ok := bearer(r); ok {
		return t
	}
	if c, err := r.Cookie(s.cookie); err == nil {
		return c.Value
	}
	return ""
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

const adminKey ctxKey = iota + 10

// admin lets h run only with a live admin token.
func (s *Server) admin(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		token, _ := bearer(r)
		t, err := s.portal.AuthenticateAdmin(r.Context(), token)
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), adminKey, t)))
	}
}

// adminActor names the operator of the request for the audit log.
func adminActor(r *http.Request) string {
	t, _ := r.Context().Value(adminKey).(casegate.AdminToken)
	return "admin:" + t.Name
}

// securityHeaders sets the headers every answer carries.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// logRequests logs one line per request: the method (one of seven, or
// "other") and the route pattern, never the path (paths carry request ids and
// receipt numbers) nor anything else a client chose, the status and the
// duration; and counts it in the metrics the same way.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		elapsed := time.Since(start)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := s.route(r)
		if s.metrics != nil {
			s.metrics.Request(r.Method, route, rec.status, elapsed)
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", metrics.MethodLabel(r.Method)), slog.String("route", route),
			slog.Int("status", rec.status), slog.Float64("duration_seconds", elapsed.Seconds()))
	})
}

// requestIDs gives each request its ID: the X-Request-ID a trusted proxy
// sent, when it is well-formed, else a fresh one. The ID goes back in the
// answer's X-Request-ID header and rides the request's context into its log
// lines, its problem document and the audit events it writes.
func (s *Server) requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !casegate.ValidRequestID(id) || !s.fromTrustedProxy(r) {
			id = casegate.NewRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(casegate.WithRequestID(r.Context(), id)))
	})
}

// fromTrustedProxy reports whether the socket peer of r is a trusted proxy.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	peer, _, ok := socketPeer(r)
	return ok && s.trusted(peer)
}

// socketPeer is the address r came from on the socket, and the host part of
// RemoteAddr as it is when that is not an address.
func socketPeer(r *http.Request) (netip.Addr, string, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host, false
	}
	return peer.Unmap(), host, true
}

// recoverPanics turns a panic into a 500 problem and a log line.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "route", s.route(r), "panic", v)
				err := casegate.NewError(casegate.EInternal, msgInternal)
				if isAPI(r.URL.Path) {
					s.writeProblem(w, r, err)
				} else {
					s.renderError(w, r, err)
				}
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientIP is the socket peer, or — only when the peer is a trusted proxy —
// the nearest untrusted address in X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	peer, host, ok := socketPeer(r)
	if !ok {
		return host
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := parseHop(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with a
// port ("203.0.113.9:4711", "[2001:db8::1]:4711") as some proxies write it.
func parseHop(h string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a, nil
	}
	ap, err := netip.ParseAddrPort(h)
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr(), nil
}
