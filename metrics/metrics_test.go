package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMethodLabel(t *testing.T) {
	for method, want := range map[string]string{
		"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE", "PATCH": "PATCH", "OPTIONS": "OPTIONS",
		"get": "other", "Post": "other", "FOO": "other", "CONNECT": "other", "TRACE": "other", "PROPFIND": "other", "": "other",
		strings.Repeat("X", 4096): "other",
	} {
		if got := MethodLabel(method); got != want {
			t.Errorf("MethodLabel(%.20q) = %q, want %q", method, got, want)
		}
	}
}

// TestRequestLabels: what Request is given outside its sets counts under
// one fixed value per label.
func TestRequestLabels(t *testing.T) {
	r := New()
	r.Request("BAZQUX", "", 999)
	r.Request("FOO", "", 0)
	r.Request("GET", "GET /healthz", 200)
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`casegate_http_requests_total{method="other",route="unmatched",status="other"} 2`,
		`casegate_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), "BAZQUX") || strings.Contains(string(body), "FOO") {
		t.Error("a made-up method reached the metrics")
	}
}
