package casegate

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"log/slog"
)

// RequestIDKey is the name the request ID goes by in log lines, problem
// documents and audit events. It is not "request_id", which the API already
// uses for a request for an access code.
const RequestIDKey = "http_request_id"

// MaxRequestIDLen bounds a request ID accepted from a trusted proxy.
const MaxRequestIDLen = 128

type requestIDKey struct{}

// WithRequestID returns ctx carrying the ID of the HTTP request it serves.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the ID of the HTTP request ctx serves, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

var requestIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewRequestID returns a fresh request ID: 16 random bytes in unpadded
// base32, 26 characters.
func NewRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return requestIDEncoding.EncodeToString(b)
}

// ValidRequestID reports whether id may be used as a request ID that came
// from outside: 1 to MaxRequestIDLen characters of letters, digits and
// "-", "_", ".", ":" and "=", so that it cannot break a log line, a header or
// a JSON document, nor carry much of anything else.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '=':
		default:
			return false
		}
	}
	return true
}

// RequestLogHandler adds the request ID of a record's context, when there is
// one, to every record h handles: a line logged with the context of a
// request names that request.
func RequestLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestLogHandler); ok {
		return h
	}
	return requestLogHandler{h}
}

type requestLogHandler struct{ slog.Handler }

func (h requestLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String(RequestIDKey, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestLogHandler{h.Handler.WithAttrs(as)}
}

func (h requestLogHandler) WithGroup(name string) slog.Handler {
	return requestLogHandler{h.Handler.WithGroup(name)}
}
