package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate/portal"
)

// flowCookie carries a code request between /request and /verify, so that the
// request id is never in a URL or a form.
const flowCookie = "casegate_flow"

// flow is what the flow cookie holds: the request and the times the verify
// page shows. The cookie lasts as long as the portal says the request does
// (portal.CodeIssued.Until), so that an expired code can still be resent
// for as long as the portal allows it, and no longer.
type flow struct {
	RequestID   string
	ExpiresAt   time.Time // the code's expiry
	ResendAfter time.Time // no resend before
	Until       time.Time // the cookie's own expiry, checked on every read
}

// flowOf is the flow that carries issued.
func flowOf(issued portal.CodeIssued) flow {
	return flow{RequestID: issued.RequestID, ExpiresAt: issued.ExpiresAt, ResendAfter: issued.ResendAfter, Until: issued.Until}
}

// flowSigner makes and checks the flow cookie's keyed hash.
type flowSigner func(payload string) string

// randomFlowSigner signs with a key made for this process only: flows do not
// survive a restart or cross instances. For when no keyring is given.
func randomFlowSigner() flowSigner {
	key := make([]byte, 32)
	rand.Read(key)
	return func(payload string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(payload))
		return hex.EncodeToString(m.Sum(nil)[:16])
	}
}

// encode returns the cookie value: the fields, then their keyed hash.
func (f flow) encode(sign flowSigner) string {
	payload := strings.Join([]string{"v1", f.RequestID,
		strconv.FormatInt(f.ExpiresAt.Unix(), 10),
		strconv.FormatInt(f.ResendAfter.Unix(), 10),
		strconv.FormatInt(f.Until.Unix(), 10)}, ".")
	return payload + "." + sign(payload)
}

// decodeFlow checks a cookie value's hash and expiry, reporting false for
// anything altered, malformed or stale.
func decodeFlow(value string, sign flowSigner, now time.Time) (flow, bool) {
	if len(value) > 256 {
		return flow{}, false
	}
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return flow{}, false
	}
	payload, tag := value[:i], value[i+1:]
	if subtle.ConstantTimeCompare([]byte(sign(payload)), []byte(tag)) != 1 {
		return flow{}, false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 5 || parts[0] != "v1" || !validRequestID(parts[1]) {
		return flow{}, false
	}
	var times [3]time.Time
	for k, p := range parts[2:] {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return flow{}, false
		}
		times[k] = time.Unix(n, 0).UTC()
	}
	f := flow{RequestID: parts[1], ExpiresAt: times[0], ResendAfter: times[1], Until: times[2]}
	if !now.Before(f.Until) {
		return flow{}, false
	}
	return f, true
}

// validRequestID accepts the shape of the portal's request ids.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// setFlow sets the flow cookie for f.
func (s *Server) setFlow(w http.ResponseWriter, f flow) {
	now := s.now()
	http.SetCookie(w, &http.Cookie{
		Name: flowCookie, Value: f.encode(s.signFlow), Path: "/",
		MaxAge: max(int(f.Until.Sub(now)/time.Second), 1), HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearFlow deletes the flow cookie.
func (s *Server) clearFlow(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// readFlow returns the request the flow cookie carries, if it is valid.
func (s *Server) readFlow(r *http.Request) (flow, bool) {
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return flow{}, false
	}
	return decodeFlow(c.Value, s.signFlow, s.now())
}
