package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/smtptest"
)

// newTestSMTP returns a sender to server, with credentials when user is set.
func newTestSMTP(t *testing.T, server *smtptest.Server, user string) *SMTP {
	t.Helper()
	return newTestSMTPWith(t, server, user, nil)
}

// newTestSMTPWith is newTestSMTP with the configuration changed by edit, when set.
func newTestSMTPWith(t *testing.T, server *smtptest.Server, user string, edit func(*SMTPConfig)) *SMTP {
	t.Helper()
	raw := server.URL()
	if user != "" {
		raw = "smtp://" + url.UserPassword(user, "p@ss:w/rd").String() + "@" + server.Addr() + "?tls=none"
	}
	cfg, err := ParseSMTPURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DialTimeout, cfg.SendTimeout = 2*time.Second, 5*time.Second
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewSMTP(cfg, "Case Portal <no-reply@portal.example.org>")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSMTPSendsTextAndHTML(t *testing.T) {
	server := smtptest.Start(t)
	s := newTestSMTP(t, server, "")
	m := casegate.Message{Channel: casegate.ChannelEmail, To: "jose@example.com",
		Subject: "Su código de acceso", Text: "Código: K7M2Q-9XH4R — ¡listo!\n", HTML: "<p>Código: <b>K7M2Q-9XH4R</b></p>"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), casegate.Message{To: "ana@example.com", Subject: "Plain", Text: "only text\n"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := server.WaitFor(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := msgs[0]
	if got.Subject != m.Subject {
		t.Errorf("subject = %q", got.Subject)
	}
	if strings.TrimRight(got.Text, "\r\n") != strings.TrimRight(m.Text, "\n") {
		t.Errorf("text = %q", got.Text)
	}
	if got.HTML != m.HTML {
		t.Errorf("html = %q", got.HTML)
	}
	if got.From != "no-reply@portal.example.org" || strings.Join(got.To, ",") != "jose@example.com" {
		t.Errorf("envelope %q → %q", got.From, got.To)
	}
	if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type = %q", ct)
	}
	if got.Header.Get("Message-Id") == "" || got.Header.Get("Date") == "" {
		t.Error("no Message-ID or Date")
	}
	if got.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got.Header.Get("Auto-Submitted"))
	}
	if ct := msgs[1].Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || msgs[1].HTML != "" {
		t.Errorf("text-only message: Content-Type %q, html %q", ct, msgs[1].HTML)
	}
}

func TestSMTPAuthenticates(t *testing.T) {
	server := smtptest.Start(t)
	s := newTestSMTP(t, server, "relay@portal.example.org")
	if err := s.Send(context.Background(), casegate.Message{To: "a@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := server.WaitFor(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].User != "relay@portal.example.org" {
		t.Errorf("AUTH user = %q", msgs[0].User)
	}
}

// openConns returns the connections the sender keeps open.
func openConns(s *SMTP) map[any]bool {
	out := map[any]bool{}
	var slots []*smtpSlot
	for range cap(s.slots) {
		slot := <-s.slots
		slots = append(slots, slot)
		if slot.conn != nil {
			out[slot.conn] = true
		}
	}
	for _, slot := range slots {
		s.slots <- slot
	}
	return out
}

func TestSMTPReusesConnections(t *testing.T) {
	server := smtptest.Start(t)
	s := newTestSMTP(t, server, "")
	send := func(n int) {
		for i := range n {
			if err := s.Send(context.Background(), casegate.Message{To: fmt.Sprintf("u%d@example.com", i), Subject: "s", Text: "t"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(8)
	first := openConns(s)
	if len(first) == 0 || len(first) > DefaultSMTPConnections {
		t.Fatalf("%d connections kept after 8 sends, want 1 to %d", len(first), DefaultSMTPConnections)
	}
	send(8)
	again := openConns(s)
	if len(again) != len(first) {
		t.Fatalf("%d connections after 8 more sends, want the same %d", len(again), len(first))
	}
	for c := range again {
		if !first[c] {
			t.Error("a new connection was dialled although the old ones were fine")
		}
	}
}

func TestSMTPSendsInParallel(t *testing.T) {
	server := smtptest.Start(t)
	s := newTestSMTP(t, server, "")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := s.Send(context.Background(), casegate.Message{To: fmt.Sprintf("p%d@example.com", i), Subject: "s", Text: "t"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := server.WaitFor(20, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(openConns(s)); n < 2 {
		t.Errorf("%d connections used by 20 concurrent sends, want several", n)
	}
}

func TestSMTPRedialsAfterServerRestart(t *testing.T) {
	server := smtptest.Start(t)
	s := newTestSMTP(t, server, "")
	ctx := context.Background()
	if err := s.Send(ctx, casegate.Message{To: "a@example.com", Subject: "1", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	server.Stop()
	err := s.Send(ctx, casegate.Message{To: "a@example.com", Subject: "2", Text: "t"})
	if err == nil || casegate.IsPermanent(err) {
		t.Fatalf("send to a stopped server: %v, want a transient error", err)
	}
	server.Restart()
	if err := s.Send(ctx, casegate.Message{To: "a@example.com", Subject: "3", Text: "t"}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	// The server drops the kept connection: the next send notices and re-dials once.
	server.Stop()
	server.Restart()
	if err := s.Send(ctx, casegate.Message{To: "a@example.com", Subject: "4", Text: "t"}); err != nil {
		t.Fatalf("after the kept connection was closed: %v", err)
	}
	var subjects []string
	for _, m := range server.Messages() {
		subjects = append(subjects, m.Subject)
	}
	if got := strings.Join(subjects, ","); got != "1,3,4" {
		t.Errorf("delivered %s, want 1,3,4", got)
	}
}

func TestSMTPClassifiesErrors(t *testing.T) {
	server := smtptest.Start(t)
	server.RejectRecipients(func(addr string) bool { return addr == "gone@example.com" })
	s := newTestSMTP(t, server, "")
	ctx := context.Background()
	err := s.Send(ctx, casegate.Message{To: "gone@example.com", Subject: "s", Text: "t"})
	if !casegate.IsPermanent(err) {
		t.Fatalf("550: err = %v, want permanent", err)
	}
	if err := s.Send(ctx, casegate.Message{To: "ok@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatalf("after a rejected recipient: %v", err)
	}
	if err := s.Send(ctx, casegate.Message{To: "not an address", Subject: "s", Text: "t"}); !casegate.IsPermanent(err) {
		t.Errorf("bad address: err = %v, want permanent", err)
	} else if strings.Contains(err.Error(), "not an address") {
		t.Errorf("error repeats the address: %v", err)
	}

	// Nothing listens: a transient error, quickly.
	server.Stop()
	start := time.Now()
	err = s.Send(ctx, casegate.Message{To: "ok@example.com", Subject: "s", Text: "t"})
	if err == nil || casegate.IsPermanent(err) {
		t.Errorf("refused connection: err = %v, want transient", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("a refused connection took %v", time.Since(start))
	}
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Send(ctxDone, casegate.Message{To: "ok@example.com", Subject: "s", Text: "t"}); err == nil || casegate.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want transient context.Canceled", err)
	}
}

func TestNewSMTPChecksConfig(t *testing.T) {
	good := SMTPConfig{Host: "mail.example.org", Port: 587, TLS: TLSStartTLS}
	tests := []struct {
		name string
		cfg  SMTPConfig
		from string
	}{
		{"bad from", good, "not-an-address"},
		{"empty from", good, ""},
		{"no host", SMTPConfig{Port: 587}, "a@example.org"},
		{"bad port", SMTPConfig{Host: "h", Port: 0}, "a@example.org"},
		{"bad tls", SMTPConfig{Host: "h", Port: 25, TLS: "ssl"}, "a@example.org"},
	}
	for _, tt := range tests {
		if _, err := NewSMTP(tt.cfg, tt.from); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	for _, mode := range []TLSMode{TLSNone, TLSStartTLS, TLSImplicit} {
		cfg := good
		cfg.TLS = mode
		cfg.Username, cfg.Password = "u", "p"
		if _, err := NewSMTP(cfg, "Portal <a@example.org>"); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
	}
}

// TestSMTPStartTLSIsRequired: with tls=starttls a server without STARTTLS
// gets nothing, not even the message in plain text.
func TestSMTPStartTLSIsRequired(t *testing.T) {
	server := smtptest.Start(t)
	cfg, err := ParseSMTPURL("smtp://" + server.Addr() + "?tls=starttls")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMTP(cfg, "no-reply@portal.example.org")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Send(context.Background(), casegate.Message{To: "a@example.com", Subject: "s", Text: "t"})
	if err == nil || casegate.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("err = %v, want a transient STARTTLS error", err)
	}
	if n := len(server.Messages()); n != 0 {
		t.Errorf("%d messages sent without TLS", n)
	}
}

// TestSMTPGivesUpOnASilentServerWhenCancelled: a server that accepts the
// connection and never greets holds go-mail until its send timeout; a
// cancelled send must not wait for it (a shutdown waited 15 s).
func TestSMTPGivesUpOnASilentServerWhenCancelled(t *testing.T) {
	cfg, err := ParseSMTPURL(smtptest.Silent(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Connections = 1
	s, err := NewSMTP(cfg, "no-reply@portal.example.org")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second send uses the slot the first gave up
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := s.Send(ctx, casegate.Message{To: "ok@example.com", Subject: "s", Text: "t"})
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || casegate.IsPermanent(err) {
			t.Errorf("send %d: err = %v, want a transient deadline error", i, err)
		}
		if took > 2*time.Second {
			t.Errorf("send %d returned %v after its context ended", i, took-200*time.Millisecond)
		}
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("close took %v", took)
	}
}
