package loadtest

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Sink is a real SMTP server that hands each access code to whoever waits for
// the recipient's address. Nothing is stored.
type Sink struct {
	ln  net.Listener
	srv *smtp.Server

	mu      sync.Mutex
	waiting map[string]chan arrival
	stray   int // messages nobody waited for
}

// arrival is one code and when it arrived.
type arrival struct {
	code string
	at   time.Time
}

// codePattern finds a code in display form ("K7M2Q-9XH4R") in a message.
var codePattern = regexp.MustCompile(`\b([0-9A-HJKMNP-TV-Z]{4,8}-[0-9A-HJKMNP-TV-Z]{4,8})\b`)

// StartSink listens on a loopback port.
func StartSink() (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{ln: ln, waiting: map[string]chan arrival{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }))
	s.srv.Domain = "loadtest.local"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	go s.srv.Serve(ln)
	return s, nil
}

// URL is the CASEGATE_SMTP_URL that reaches the sink.
func (s *Sink) URL() string { return "smtp://" + s.ln.Addr().String() + "?tls=none" }

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// Code calls request, which asks the server for a code sent to addr, and
// returns the code of the next message to addr: for a test that signs in
// beside a load, as the load's own cycles do.
func (s *Sink) Code(ctx context.Context, addr string, request func() error) (string, error) {
	arrived := s.expect(addr)
	defer s.forget(addr)
	if err := request(); err != nil {
		return "", err
	}
	select {
	case a := <-arrived:
		return a.code, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// expect registers interest in the next code for addr.
func (s *Sink) expect(addr string) chan arrival {
	ch := make(chan arrival, 1)
	s.mu.Lock()
	s.waiting[strings.ToLower(addr)] = ch
	s.mu.Unlock()
	return ch
}

// forget drops interest in addr.
func (s *Sink) forget(addr string) {
	s.mu.Lock()
	delete(s.waiting, strings.ToLower(addr))
	s.mu.Unlock()
}

func (s *Sink) deliver(to []string, data []byte) {
	now := time.Now()
	body := data
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		body = data[i:]
	}
	m := codePattern.FindSubmatch(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, addr := range to {
		ch, ok := s.waiting[strings.ToLower(addr)]
		if !ok || m == nil {
			s.stray++
			continue
		}
		delete(s.waiting, strings.ToLower(addr))
		ch <- arrival{code: string(m[1]), at: now}
	}
}

type sinkSession struct {
	sink *Sink
	to   []string
}

func (c *sinkSession) AuthPlain(string, string) error            { return nil }
func (c *sinkSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (c *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error { c.to = append(c.to, to); return nil }
func (c *sinkSession) Reset()                                    { c.to = nil }
func (c *sinkSession) Logout() error                             { return nil }
func (c *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.sink.deliver(c.to, data)
	return nil
}
