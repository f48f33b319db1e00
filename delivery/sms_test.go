package delivery

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

func TestSMSRefusesWhatCannotBeSent(t *testing.T) {
	s, api := newTwilioTest(t, testSID, "from=+15551234567")
	for _, m := range []casegate.Message{
		{Channel: casegate.ChannelEmail, To: "+15555550123", Text: "hi"},
		{Channel: casegate.ChannelSMS, To: "5555550123", Text: "hi"},
		{Channel: casegate.ChannelSMS, To: "jose@example.com", Text: "hi"},
		{Channel: casegate.ChannelSMS, To: "+15555550123", Text: ""},
	} {
		if err := s.Send(context.Background(), m); !casegate.IsPermanent(err) {
			t.Errorf("Send(%+v) = %v, want a permanent error", m, err)
		}
	}
	if api.last() != nil {
		t.Error("a refused message reached the provider")
	}
}

// TestKannelRequest checks the sendsms request field by field against a
// local server; the integration test sends through a real Kannel.
func TestKannelRequest(t *testing.T) {
	var got url.Values
	var method, path string
	status, reply := http.StatusAccepted, "0: Accepted for delivery"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, path, got = r.Method, r.URL.Path, r.URL.Query()
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	defer srv.Close()
	cfg, err := ParseSMSURL("kannel://tester:foo%26bar@" + strings.TrimPrefix(srv.URL, "http://") + "?from=+15551234567&smsc=FAKE")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ text, coding string }{
		{"K7M2Q-9XH4R is your code. {€}\n@portal.example.org #K7M2Q9XH4R", "0"},
		{"Su código K7M2Q-9XH4R", "2"},
	}
	for _, tt := range tests {
		if err := s.Send(context.Background(), smsMessage(tt.text)); err != nil {
			t.Fatal(err)
		}
		want := url.Values{"username": {"tester"}, "password": {"foo&bar"}, "to": {"+15555550123"}, "from": {"+15551234567"},
			"smsc": {"FAKE"}, "text": {tt.text}, "coding": {tt.coding}, "charset": {"UTF-8"}}
		if method != http.MethodGet || path != "/cgi-bin/sendsms" || got.Encode() != want.Encode() {
			t.Errorf("%s %s ? %v, want GET /cgi-bin/sendsms ? %v", method, path, got, want)
		}
	}
	for _, tt := range []struct {
		status    int
		reply     string
		permanent bool
	}{
		{http.StatusAccepted, "3: Queued for later delivery", false},
		{http.StatusBadRequest, "Number(s) has/have been denied by white- and/or black-lists.", true},
		{http.StatusForbidden, "Not routable. Do not try again.", true},
		{http.StatusServiceUnavailable, "Not routable. Do not try again.", true},
		{http.StatusForbidden, "Authorization failed for sendsms", false},
		{http.StatusServiceUnavailable, "Sending failed.", false},
		{http.StatusInternalServerError, "", false},
	} {
		status, reply = tt.status, tt.reply
		err := s.Send(context.Background(), smsMessage("hello"))
		if tt.status == http.StatusAccepted {
			if err != nil {
				t.Errorf("%d %q: %v", tt.status, tt.reply, err)
			}
			continue
		}
		if err == nil || casegate.IsPermanent(err) != tt.permanent {
			t.Errorf("%d %q: %v, want permanent=%v", tt.status, tt.reply, err, tt.permanent)
		}
	}
}

// TestSMSConnectionErrors checks that a gateway that is not there is a
// retryable error whose text holds neither the password nor the message,
// which Kannel's request URL carries.
func TestSMSConnectionErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := ParseSMSURL("kannel://tester:Pa55word@" + addr + "?timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := NewSMS(cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), smsMessage("secret K7M2Q-9XH4R"))
	if err == nil || casegate.IsPermanent(err) {
		t.Fatalf("refused connection: %v, want a retryable error", err)
	}
	for _, leak := range []string{"Pa55word", "K7M2Q", "5555550123", "sendsms?"} {
		if strings.Contains(err.Error(), leak) || strings.Contains(logs.String(), leak) {
			t.Errorf("%q leaked: %v / %s", leak, err, logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"segments":1`) || !strings.Contains(logs.String(), `"encoding":"gsm7"`) {
		t.Errorf("the log line lacks the segment count: %s", logs.String())
	}

	// A gateway that accepts the connection and never answers.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	cfg.Endpoint.Host = strings.TrimPrefix(hang.URL, "http://")
	cfg.Timeout = time.Second
	s, err = NewSMS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Send(context.Background(), smsMessage("secret K7M2Q-9XH4R"))
	if err == nil || casegate.IsPermanent(err) || time.Since(start) > 5*time.Second {
		t.Fatalf("a silent gateway: %v after %v, want a retryable timeout", err, time.Since(start))
	}
	if strings.Contains(err.Error(), "Pa55word") || strings.Contains(err.Error(), "K7M2Q") {
		t.Errorf("timeout error leaks: %v", err)
	}
}
