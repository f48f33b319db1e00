package web_test

import (
	"net/http"
	"testing"
)

// BenchmarkFullCycle runs request → code by SMTP → redeem → /api/v1/me in
// one process, the cycle `casegate loadtest` drives, for profiling:
// go test -run '^$' -bench FullCycle -cpuprofile /tmp/cycle.prof ./web/
func BenchmarkFullCycle(b *testing.B) {
	s := newStack(b, relaxed)
	n := 0
	for b.Loop() {
		n++
		iss := s.requestCode(jose)
		_, code := s.waitCode(n)
		status, body := s.redeem(iss.RequestID, code)
		if status != http.StatusCreated {
			b.Fatalf("redeem: %d %s", status, body)
		}
		var sess struct {
			Token string `json:"token"`
		}
		mustJSON(b, body, &sess)
		if resp, _ := s.do("GET", "/api/v1/me", nil, bearerH(sess.Token)); resp.StatusCode != http.StatusOK {
			b.Fatalf("me: %d", resp.StatusCode)
		}
	}
}
