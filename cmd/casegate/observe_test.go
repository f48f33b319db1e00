package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/store/storetest"
)

// logLines parses every line of log as a JSON object, failing t on one that
// is not.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(log) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// lineWith returns the first line whose msg is msg and whose members hold
// the values of want.
func lineWith(lines []map[string]any, msg string, want map[string]any) map[string]any {
next:
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		return l
	}
	return nil
}

// sendWithID sends method path with body and, unless empty, X-Request-ID id;
// it returns the answer's X-Request-ID and body.
func sendWithID(t *testing.T, method, url, body, id string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.Header.Set("X-Request-ID", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestRequestIDLinksLogProblemAndAudit: one request's ID, sent by a trusted
// proxy, comes back in X-Request-ID, in the problem document, in the log
// line of the request and in the audit event the request wrote, and the
// audit chain still verifies. An ID that is not well-formed, or that comes
// from a peer that is not a trusted proxy, is replaced by a fresh one.
func TestRequestIDLinksLogProblemAndAudit(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": smtptest.Start(t).URL(), "CASEGATE_LOG_LEVEL": "info",
		"CASEGATE_TRUSTED_PROXIES": "127.0.0.1",
	}
	s := startServe(t, vars)
	const id = "edge-7f3a.42:x=1"
	// A malformed code: a 422 problem, and an audit event of the attempt.
	resp, body := sendWithID(t, "POST", s.base+"/api/v1/sessions", `{"request_id":"r-obs-1","code":"??"}`, id)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST /api/v1/sessions: %d %s, want 422", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Request-ID"); got != id {
		t.Errorf("X-Request-ID = %q, want the proxy's %q", got, id)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem: %v: %s", err, body)
	}
	if p[casegate.RequestIDKey] != id {
		t.Errorf("problem %s: %s = %v, want %q", body, casegate.RequestIDKey, p[casegate.RequestIDKey], id)
	}

	// Well-formed from the proxy but too long, or with a character outside
	// the set: a fresh ID instead.
	for _, bad := range []string{strings.Repeat("a", casegate.MaxRequestIDLen+1), "id with space", `x"}{`, "é"} {
		resp, body := sendWithID(t, "GET", s.base+"/api/v1/nowhere", "", bad)
		got := resp.Header.Get("X-Request-ID")
		if got == bad || !casegate.ValidRequestID(got) || !strings.Contains(string(body), got) {
			t.Errorf("X-Request-ID %.20q: answered with %q, body %s; want a fresh ID in both", bad, got, body)
		}
	}

	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, s.stderr.String())
	if lineWith(lines, "request", map[string]any{"route": "POST /api/v1/sessions", casegate.RequestIDKey: id}) == nil {
		t.Errorf("no request log line names %q:\n%s", id, s.stderr.String())
	}
	out, _, err := runCmd(t, vars, "audit", "list")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for line := range strings.Lines(out) {
		var ev struct {
			Action  string
			Details map[string]string
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Action == "code.redeem" && ev.Details[casegate.RequestIDKey] == id {
			found = true
		}
	}
	if !found {
		t.Errorf("no code.redeem audit event names %q:\n%s", id, out)
	}
	if out, _, err := runCmd(t, vars, "audit", "verify"); err != nil {
		t.Errorf("audit verify: %v\n%s", err, out)
	}

	// The same header from a peer that is not a trusted proxy is not believed.
	delete(vars, "CASEGATE_TRUSTED_PROXIES")
	s = startServe(t, vars)
	resp, body = sendWithID(t, "POST", s.base+"/api/v1/sessions", `{"request_id":"r-obs-2","code":"??"}`, id)
	got := resp.Header.Get("X-Request-ID")
	if got == id || !casegate.ValidRequestID(got) {
		t.Errorf("untrusted peer: X-Request-ID %q, want a fresh ID, not %q", got, id)
	}
	if err := json.Unmarshal(body, &p); err != nil || p[casegate.RequestIDKey] != got {
		t.Errorf("untrusted peer: problem %s does not carry the ID %q", body, got)
	}
}

// TestServeLogsOnlyJSON: everything serve writes is a JSON log line on
// stderr, nothing on stdout; the first line says what started (version,
// database kind, listeners, public URL) and the last how it stopped (the
// reason, how long it took, the leases handed back); durations are in
// seconds; and neither the database password nor the mail password appears.
func TestServeLogsOnlyJSON(t *testing.T) {
	const pgPassword, mailPassword = "pg-s3cret-pw", "mail-s3cret-pw"
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			mail := smtptest.Start(t).URL()
			vars := map[string]string{
				"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
				"CASEGATE_SMTP_URL":   strings.Replace(mail, "smtp://", "smtp://ops:"+mailPassword+"@", 1),
				"CASEGATE_LOG_LEVEL":  "info",
				"CASEGATE_PUBLIC_URL": "https://status.example.gov",
			}
			if kind == "postgres" {
				u, err := url.Parse(storetest.PostgresSchema(t))
				if err != nil {
					t.Fatal(err)
				}
				u.User = url.UserPassword(u.User.Username(), pgPassword) // the test server trusts; a password must not show
				vars["CASEGATE_DB"] = u.String()
			}
			var stdout strings.Builder
			s := startServeTo(t, vars, &stdout)
			sendWithID(t, "GET", s.base+"/healthz", "", "")
			sendWithID(t, "GET", s.base+"/api/v1/nowhere", "", "")
			if err := s.stop(t); err != nil {
				t.Fatal(err)
			}
			log := s.stderr.String()
			if stdout.Len() != 0 {
				t.Errorf("serve wrote to stdout: %q", stdout.String())
			}
			for _, secret := range []string{pgPassword, mailPassword} {
				if strings.Contains(log, secret) {
					t.Errorf("the log holds a password:\n%s", log)
				}
			}
			lines := logLines(t, log)
			if len(lines) < 4 {
				t.Fatalf("%d log lines, want a start line, two requests and a stop line:\n%s", len(lines), log)
			}
			start, stop := lines[0], lines[len(lines)-1]
			if start["msg"] != startedMsg || start["database"] != kind || start["public_url"] != "https://status.example.gov" ||
				start["version"] == nil || start["goversion"] == nil || len(asSlice(start["listeners"])) != 1 {
				t.Errorf("start line %v: want msg %q, database %q, version, goversion, the public URL and one listener", start, startedMsg, kind)
			}
			if u, ok := servingURL(mustJSON(t, start)); !ok || u != s.base {
				t.Errorf("start line names %q, serve answered at %q", u, s.base)
			}
			_, took := stop["duration_seconds"].(float64)
			_, handed := stop["leases_handed_back"].(float64)
			if stop["msg"] != stoppedMsg || stop["reason"] != "context canceled" || !took || !handed {
				t.Errorf("stop line %v: want msg %q, reason, duration_seconds and leases_handed_back", stop, stoppedMsg)
			}
			req := lineWith(lines, "request", map[string]any{"route": "GET /healthz"})
			if req == nil {
				t.Fatalf("no request line:\n%s", log)
			}
			if _, ok := req["duration_seconds"].(float64); !ok || req["duration"] != nil {
				t.Errorf("request line %v: want duration_seconds, a number, and no duration", req)
			}
		})
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
