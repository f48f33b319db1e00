package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

const testWebhookSecret = "7f1c0d2e9a8b4c3d5e6f708192a3b4c5"

// webhookReceiver is an operator's endpoint: it checks the signature the
// way docs/sms.md tells receivers to, with its own HMAC, and keeps what came.
type webhookReceiver struct {
	t      *testing.T
	secret string

	mu     sync.Mutex
	got    []map[string]any
	raw    [][]byte
	status int
}

func (rc *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := rc.t
	if r.Method != http.MethodPost || r.URL.Path != "/hooks/sms" || r.URL.Query().Get("tenant") != "a b" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("X-Casegate-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("timestamp %q is not now", ts)
	}
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write([]byte(ts + "." + string(body)))
	if want := hex.EncodeToString(mac.Sum(nil)); r.Header.Get("X-Casegate-Signature") != want {
		t.Errorf("signature %q, want %q", r.Header.Get("X-Casegate-Signature"), want)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Errorf("body is not JSON: %v", err)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, m)
	rc.raw = append(rc.raw, body)
	status := rc.status
	rc.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, "thanks")
}

func writeSecret(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sms-webhook.key")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newWebhookTest(t *testing.T) (*SMS, *webhookReceiver) {
	t.Helper()
	rc := &webhookReceiver{t: t, secret: testWebhookSecret, status: http.StatusAccepted}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	raw := "webhook+http://" + strings.TrimPrefix(srv.URL, "http://") + "/hooks/sms?tenant=a+b&secret_file=" + writeSecret(t, testWebhookSecret)
	cfg, err := ParseSMSURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, rc
}

func TestWebhookSend(t *testing.T) {
	s, rc := newWebhookTest(t)
	texts := []string{
		"K7M2Q-9XH4R is your access code.\n\n@portal.example.org #K7M2Q9XH4R",
		"Código ó " + strings.Repeat("x", 70),
	}
	for _, text := range texts {
		if err := s.Send(context.Background(), smsMessage(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(context.Background(), smsMessage(texts[0])); err != nil { // a retry of the first
		t.Fatal(err)
	}
	if len(rc.got) != 3 {
		t.Fatalf("%d requests", len(rc.got))
	}
	want := []struct {
		encoding string
		segments string
	}{{"gsm7", "1"}, {"ucs2", "2"}, {"gsm7", "1"}}
	for i, m := range rc.got {
		if len(m) != 5 || m["to"] != "+15555550123" || m["text"] != texts[i%2] || m["encoding"] != want[i].encoding ||
			m["segments"].(json.Number).String() != want[i].segments {
			t.Errorf("message %d = %v", i, m)
		}
		if id, _ := m["message_id"].(string); len(id) != 32 {
			t.Errorf("message %d: message_id %q", i, m["message_id"])
		}
	}
	if rc.got[0]["message_id"] != rc.got[2]["message_id"] || rc.got[0]["message_id"] == rc.got[1]["message_id"] {
		t.Errorf("message ids %v %v %v: want the same for a repeat, different otherwise", rc.got[0]["message_id"], rc.got[1]["message_id"], rc.got[2]["message_id"])
	}
}

func TestWebhookErrorClasses(t *testing.T) {
	s, rc := newWebhookTest(t)
	for _, tt := range []struct {
		status    int
		permanent bool
	}{{400, true}, {404, true}, {410, true}, {422, true}, {408, false}, {429, false}, {500, false}, {502, false}, {503, false}, {301, false}} {
		rc.mu.Lock()
		rc.status = tt.status
		rc.mu.Unlock()
		err := s.Send(context.Background(), smsMessage("hello"))
		if err == nil || casegate.IsPermanent(err) != tt.permanent {
			t.Errorf("HTTP %d: %v, want permanent=%v", tt.status, err, tt.permanent)
		}
	}
}

func TestVerifyWebhook(t *testing.T) {
	secret := []byte(testWebhookSecret)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"to":"+15555550123"}`)
	sig := SignWebhook(secret, ts, body)
	if err := VerifyWebhook(secret, ts, sig, body, now.Add(30*time.Second), 5*time.Minute); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	bad := []struct {
		name          string
		ts, sig, body string
		secret        string
		at            time.Time
	}{
		{"other body", ts, sig, `{"to":"+15555550124"}`, testWebhookSecret, now},
		{"other secret", ts, sig, string(body), testWebhookSecret + "x", now},
		{"other timestamp", strconv.FormatInt(now.Unix()+1, 10), sig, string(body), testWebhookSecret, now},
		{"too old", ts, sig, string(body), testWebhookSecret, now.Add(6 * time.Minute)},
		{"from the future", ts, sig, string(body), testWebhookSecret, now.Add(-6 * time.Minute)},
		{"not hex", ts, "zz" + sig[2:], string(body), testWebhookSecret, now},
		{"truncated", ts, sig[:62], string(body), testWebhookSecret, now},
		{"no timestamp", "", sig, string(body), testWebhookSecret, now},
	}
	for _, tt := range bad {
		if err := VerifyWebhook([]byte(tt.secret), tt.ts, tt.sig, []byte(tt.body), tt.at, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", tt.name)
		}
	}
}

func TestWebhookSecretFile(t *testing.T) {
	cfg, err := ParseSMSURL("webhook+https://hooks.example.org/sms?secret_file=" + filepath.Join(t.TempDir(), "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSMS(cfg, nil); err == nil {
		t.Error("a missing secret file was accepted")
	}
	cfg.SecretFile = writeSecret(t, "short")
	if _, err := NewSMS(cfg, nil); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("a short secret: %v", err)
	}
}
