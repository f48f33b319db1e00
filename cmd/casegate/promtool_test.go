package main

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
)

// scrapeMetrics reads /metrics of the server at base with an operator token.
func scrapeMetrics(t *testing.T, base, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	return string(body)
}

// TestMetricsScrapePassesPromtool scrapes /metrics of a serving instance
// after some traffic (a code requested and mailed, a wrong code, a page, a
// path that does not exist) and has Prometheus's own linter read it:
// `promtool check metrics` exits 0 and finds nothing to say. The scrape
// holds the histograms, gauges and build info operators alert on.
func TestMetricsScrapePassesPromtool(t *testing.T) {
	promtool := testenv.Promtool(t)
	dir := t.TempDir()
	mail := smtptest.Start(t)
	vars := map[string]string{
		"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": mail.URL(), "CASEGATE_TRUSTED_PROXIES": "127.0.0.1",
	}
	if out, _, err := runCmd(t, vars, "import", casesFile(t, 2)); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	token, _, err := runCmd(t, vars, "admin", "token", "create", "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, vars)
	if r := send("POST", s.base+"/api/v1/access-codes", "application/json", codeRequestBody(0)); r.status != http.StatusAccepted {
		t.Fatalf("code request: %v", r)
	}
	send("POST", s.base+"/api/v1/sessions", "application/json", `{"request_id":"nope","code":"??"}`)
	send("GET", s.base+"/request", "", "")
	send("GET", s.base+"/no/such/page", "", "")
	if !testenv.Eventually(10*time.Second, func() bool { return len(mail.Messages()) == 1 }) {
		t.Fatalf("the code was not mailed within 10s:\n%s", s.stderr.String())
	}

	want := []string{
		`casegate_build_info{goversion="go`,
		`casegate_http_request_duration_seconds_bucket{method="POST",route="POST /api/v1/access-codes",le="`,
		`casegate_http_request_duration_seconds_count{method="GET",route="/"}`,
		`casegate_delivery_queued_to_sent_seconds_count{channel="email"} 1`,
		`casegate_delivery_queue_depth 0`,
		`casegate_audit_chain_intact 1`,
		`casegate_sms_budget_size{share="code"}`,
	}
	var body string
	testenv.Eventually(10*time.Second, func() bool { // the recorded send and the first audit verification land shortly after
		body = scrapeMetrics(t, s.base, token)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	})
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the scrape lacks %s", w)
		}
	}

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || out.Len() != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// TestServeReportsABrokenAuditChain: serve verifies the audit chain when it
// starts; an event rewritten without the key sets casegate_audit_chain_intact
// to 0 (what CasegateAuditChainBroken alerts on) and logs an error naming it.
func TestServeReportsABrokenAuditChain(t *testing.T) {
	vars := auditFixture(t)
	vars["CASEGATE_SMTP_URL"] = smtptest.Start(t).URL()
	token, _, err := runCmd(t, vars, "admin", "token", "create", "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tamper bool
		want   string
	}{
		{"intact", false, "casegate_audit_chain_intact 1"},
		{"rewritten", true, "casegate_audit_chain_intact 0"},
	} {
		if tc.tamper {
			rewriteUnkeyed(t, vars["CASEGATE_DB"], 3)
		}
		s := startServe(t, vars)
		var body string
		testenv.Eventually(10*time.Second, func() bool {
			body = scrapeMetrics(t, s.base, token)
			return strings.Contains(body, "casegate_audit_chain_intact ")
		})
		if !strings.Contains(body, tc.want) {
			t.Errorf("%s: the scrape lacks %q:\n%s", tc.name, tc.want, grepLines(body, "casegate_audit"))
		}
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
		broken := strings.Contains(s.stderr.String(), `"msg":"audit chain broken: run casegate audit verify","events":2,"broken_at":3`)
		if broken != tc.tamper {
			t.Errorf("%s: logged a break: %v, want %v:\n%s", tc.name, broken, tc.tamper, s.stderr.String())
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			b.WriteString(line)
		}
	}
	return b.String()
}
