package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// scrape returns what r serves at /metrics.
func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// hasLine reports whether scraped has a line starting with prefix.
func hasLine(scraped, prefix string) bool {
	for line := range strings.Lines(scraped) {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// TestLatencyHistogramsInSeconds: requests are observed in seconds, by
// method and route pattern only, and deliveries from queue to provider by
// channel.
func TestLatencyHistogramsInSeconds(t *testing.T) {
	r := New()
	r.Request("GET", "GET /healthz", 200, 30*time.Millisecond)
	r.Request("GET", "GET /healthz", 503, 2*time.Second)
	r.Request("MADEUP", "", 404, time.Millisecond)
	r.DeliverySent(casegate.ChannelEmail, 90*time.Second)
	got := scrape(t, r)
	for _, want := range []string{
		`casegate_http_request_duration_seconds_bucket{method="GET",route="GET /healthz",le="0.05"} 1`,
		`casegate_http_request_duration_seconds_bucket{method="GET",route="GET /healthz",le="2.5"} 2`,
		`casegate_http_request_duration_seconds_sum{method="GET",route="GET /healthz"} 2.03`,
		`casegate_http_request_duration_seconds_count{method="other",route="unmatched"} 1`,
		`casegate_delivery_queued_to_sent_seconds_bucket{channel="email",le="60"} 0`,
		`casegate_delivery_queued_to_sent_seconds_bucket{channel="email",le="120"} 1`,
		`casegate_delivery_queued_to_sent_seconds_sum{channel="email"} 90`,
	} {
		if !hasLine(got, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestBuildInfo(t *testing.T) {
	r := New()
	r.BuildInfo("v1.2.3", "abc123", "go1.26.8")
	want := `casegate_build_info{goversion="go1.26.8",revision="abc123",version="v1.2.3"} 1`
	if got := scrape(t, r); !hasLine(got, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, got)
	}
}

// TestAuditChainGaugeAbsentUntilVerified: no verdict is reported before a
// verification gave one, so an alert on 0 cannot fire at start.
func TestAuditChainGaugeAbsentUntilVerified(t *testing.T) {
	r := New()
	if got := scrape(t, r); strings.Contains(got, "casegate_audit_chain_intact ") {
		t.Fatalf("a verdict before any verification:\n%s", got)
	}
	r.AuditVerified(false, time.Unix(1_700_000_000, 0))
	got := scrape(t, r)
	for _, want := range []string{"casegate_audit_chain_intact 0", "casegate_audit_chain_verified_timestamp_seconds 1.7e+09"} {
		if !hasLine(got, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	r.AuditVerified(true, time.Unix(1_700_000_060, 0))
	if got := scrape(t, r); !hasLine(got, "casegate_audit_chain_intact 1") {
		t.Errorf("intact not reported:\n%s", got)
	}
}

// failingStore is a real store whose reads fail while broken is set.
type failingStore struct {
	casegate.Store
	broken atomic.Bool
}

func (f *failingStore) View(ctx context.Context, fn func(casegate.Tx) error) error {
	if f.broken.Load() {
		return errors.New("database is down")
	}
	return f.Store.View(ctx, fn)
}

// TestQueueDepthOnADatabaseError: a failed read reports the last depth read
// (never -1) and is counted; before any read succeeded there is no depth.
func TestQueueDepthOnADatabaseError(t *testing.T) {
	real, _ := testenv.SQLite(t)
	st := &failingStore{Store: real}
	r := New()
	r.WatchQueue(st)

	st.broken.Store(true)
	got := scrape(t, r)
	if hasLine(got, "casegate_delivery_queue_depth ") {
		t.Errorf("a depth before any read succeeded:\n%s", got)
	}
	if !hasLine(got, "casegate_delivery_queue_depth_errors_total 1") {
		t.Errorf("the failed read is not counted:\n%s", got)
	}

	st.broken.Store(false)
	if got := scrape(t, r); !hasLine(got, "casegate_delivery_queue_depth 0") {
		t.Fatalf("no depth once the database answers:\n%s", got)
	}
	st.broken.Store(true)
	got = scrape(t, r)
	if !hasLine(got, "casegate_delivery_queue_depth 0") || strings.Contains(got, "casegate_delivery_queue_depth -1") {
		t.Errorf("the last depth is not kept on an error:\n%s", got)
	}
	if !hasLine(got, "casegate_delivery_queue_depth_errors_total 2") {
		t.Errorf("the second failed read is not counted:\n%s", got)
	}
}

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
	r.Request("BAZQUX", "", 999, time.Millisecond)
	r.Request("FOO", "", 0, time.Millisecond)
	r.Request("GET", "GET /healthz", 200, time.Millisecond)
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
