// Package smtptest runs a real SMTP server in the test process, so code that
// sends mail is tested against the protocol and not against a mock.
//
// The server listens on 127.0.0.1 without TLS, accepts any AUTH PLAIN
// credentials but does not require them, and keeps every message it accepts.
// It can be stopped and restarted on the same port to test retries, and told
// to refuse some recipients with a permanent 550.
package smtptest

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is an SMTP server on a loopback port. It is safe for concurrent use.
type Server struct {
	tb   testing.TB
	addr string // fixed at Start; Restart listens here again

	mu       sync.Mutex
	srv      *smtp.Server // nil while stopped
	listener net.Listener
	done     chan struct{} // closed when srv.Serve returned
	messages []Mail
	changed  chan struct{} // closed and replaced whenever messages grow
	reject   func(addr string) bool
	hold     time.Duration // how long the reply to a message waits after it is kept
	holding  int           // replies waiting now
}

// Start starts a server on 127.0.0.1 at a free port and stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{tb: tb, addr: l.Addr().String(), changed: make(chan struct{})}
	s.serve(l)
	tb.Cleanup(s.Stop)
	return s
}

// Addr returns the server's host:port; it does not change across restarts.
func (s *Server) Addr() string { return s.addr }

// URL returns an smtp:// URL for the server without TLS, as casegate's
// CASEGATE_SMTP_URL expects it.
func (s *Server) URL() string { return "smtp://" + s.addr + "?tls=none" }

// Stop closes the listener and every open connection. Until Restart, new
// connections are refused. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, l, done := s.srv, s.listener, s.done
	s.srv, s.listener, s.done = nil, nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Close() // closes the connections
	l.Close()   // srv.Close misses a listener that Serve has not registered yet
	<-done
}

// Restart listens again on the same port after Stop. It fails the test when
// the port cannot be bound again. Restarting a running server does nothing.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		return
	}
	l, err := testenv.ListenAgain(s.addr) // the port is usually free at once; allow for a slow close
	if err != nil {
		s.tb.Fatalf("smtptest: listen again on %s: %v", s.addr, err)
	}
	s.serve(l)
}

// RejectRecipients makes the server answer RCPT TO with a permanent
// "550 5.1.1" for every address reject returns true for. nil accepts all.
func (s *Server) RejectRecipients(reject func(addr string) bool) {
	s.mu.Lock()
	s.reject = reject
	s.mu.Unlock()
}

// HoldReplies makes the server keep each message it accepts from now on at
// once, as accepted, and wait d before telling the client so: a send that
// the mail server has taken and the sender does not yet know about. 0 ends it.
func (s *Server) HoldReplies(d time.Duration) {
	s.mu.Lock()
	s.hold = d
	s.mu.Unlock()
}

// Holding returns how many replies to accepted messages wait now (HoldReplies).
func (s *Server) Holding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holding
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.messages...)
}

// WaitFor waits until at least n messages were accepted and returns them all,
// or returns what arrived and an error after timeout.
func (s *Server) WaitFor(n int, timeout time.Duration) ([]Mail, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs := append([]Mail(nil), s.messages...)
		changed := s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return msgs, fmt.Errorf("smtptest: %d of %d messages after %v", len(msgs), n, timeout)
		}
	}
}

// serve runs a fresh go-smtp server on l; a closed go-smtp server cannot be reused.
func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{server: s}, nil
	}))
	srv.Domain = "smtptest.localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	s.mu.Lock()
	s.srv, s.listener, s.done = srv, l, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
}

// accept stores a message that arrived and returns how long its reply is
// held (counted in holding until the caller has waited).
func (s *Server) accept(m Mail) (hold time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
	if s.hold > 0 {
		s.holding++
	}
	return s.hold
}

// rejects reports whether addr is to be refused.
func (s *Server) rejects(addr string) bool {
	s.mu.Lock()
	reject := s.reject
	s.mu.Unlock()
	return reject != nil && reject(addr)
}

// session is one SMTP conversation.
type session struct {
	server *Server
	user   string
	from   string
	to     []string
}

var errNoSuchUser = &smtp.SMTPError{
	Code:         550,
	EnhancedCode: smtp.EnhancedCode{5, 1, 1},
	Message:      "No such user here",
}

func (c *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (c *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		c.user = username
		return nil
	}), nil
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if c.server.rejects(to) {
		return errNoSuchUser
	}
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(c.to) == 0 {
		return errors.New("smtptest: no recipients")
	}
	m, err := parseMail(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Cannot parse message: " + err.Error()}
	}
	m.From, m.To, m.User = c.from, append([]string(nil), c.to...), c.user
	if hold := c.server.accept(m); hold > 0 {
		time.Sleep(hold) // the held reply: the message is kept, the client waits
		c.server.mu.Lock()
		c.server.holding--
		c.server.mu.Unlock()
	}
	return nil
}

func (c *session) Reset() {
	c.from, c.to = "", nil
}

func (c *session) Logout() error { return nil }
