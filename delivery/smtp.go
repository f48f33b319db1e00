package delivery

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/casegate/casegate"
)

// Default SMTP timeouts.
const (
	DefaultSMTPDialTimeout = 10 * time.Second
	DefaultSMTPSendTimeout = 15 * time.Second
)

// DefaultSMTPConnections is how many connections SMTP keeps to its server.
const DefaultSMTPConnections = 4

// SMTP sends email through one SMTP server over a few kept connections, each
// used for one send at a time and dialled again when it has gone. SMTP is safe
// for concurrent use; up to Connections sends run at once.
type SMTP struct {
	cfg   SMTPConfig
	from  string
	idAt  string          // the From address's domain, the right side of every Message-ID
	opts  []gomail.Option // how every slot's go-mail client is made
	slots chan *smtpSlot  // the idle connections; a sender takes one and gives it back
}

// smtpSlot is one connection: its own go-mail client and the open session.
type smtpSlot struct {
	client *gomail.Client
	conn   *gosmtp.Client // nil until the first send and after an error
}

var _ casegate.Sender = (*SMTP)(nil)

// NewSMTP checks cfg and the sender address and returns a sender. It does not
// connect: a mail server that is down at start only delays deliveries.
func NewSMTP(cfg SMTPConfig, from string) (*SMTP, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("delivery: mail from %q is not an email address: %v", from, err)
	}
	idAt := addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("delivery: SMTP host and port are required")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultSMTPDialTimeout
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSMTPSendTimeout
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.SendTimeout), // the deadline of one whole send on the connection
		gomail.WithTLSConfig(&tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}),
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS, "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("delivery: unknown SMTP TLS mode %q", cfg.TLS)
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
		if cfg.TLS == TLSNone {
			// Without TLS only mechanisms that do not reveal the password, or
			// PLAIN to a server on this host (go-mail refuses it elsewhere).
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(
				gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain))
		} else {
			opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
		}
	}
	n := cfg.Connections
	if n <= 0 {
		n = DefaultSMTPConnections
	}
	s := &SMTP{cfg: cfg, from: from, idAt: idAt, opts: opts, slots: make(chan *smtpSlot, n)}
	for range n {
		client, err := gomail.NewClient(cfg.Host, opts...)
		if err != nil {
			return nil, fmt.Errorf("delivery: SMTP client: %w", err)
		}
		s.slots <- &smtpSlot{client: client}
	}
	return s, nil
}

// dial opens the slot's connection: TCP, the server's greeting, EHLO,
// STARTTLS and AUTH. Once the TCP connection is up, go-mail waits for the
// server's replies until SendTimeout whatever ctx says; so that a server that
// accepts and never answers cannot hold up a shutdown that long, dial gives
// up when ctx ends and leaves that wait to a goroutine, which closes what it
// gets. The slot then has a fresh go-mail client, the old one being in use.
func (s *SMTP) dial(ctx context.Context, slot *smtpSlot) (*gosmtp.Client, error) {
	type dialed struct {
		conn *gosmtp.Client
		err  error
	}
	done := make(chan dialed, 1)
	dialCtx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	client := slot.client
	go func() {
		conn, err := client.DialToSMTPClientWithContext(dialCtx)
		cancel()
		done <- dialed{conn, err}
	}()
	select {
	case d := <-done:
		return d.conn, d.err
	case <-ctx.Done():
		go func() {
			if d := <-done; d.conn != nil {
				d.conn.Close()
			}
		}()
		fresh, err := gomail.NewClient(s.cfg.Host, s.opts...)
		if err == nil { // it was made the same way in NewSMTP
			slot.client = fresh
		}
		return nil, ctx.Err()
	}
}

// Send delivers m as a text email, or text and HTML as multipart/alternative
// when m.HTML is set. A 5xx reply to the message's own commands is a
// *casegate.PermanentError; a failure to connect, a 4xx reply or a timeout is not.
func (s *SMTP) Send(ctx context.Context, m casegate.Message) error {
	msg, err := s.message(m)
	if err != nil {
		return &casegate.PermanentError{Err: err}
	}
	var slot *smtpSlot
	select {
	case slot = <-s.slots:
	case <-ctx.Done():
		return fmt.Errorf("delivery: SMTP send: %w", ctx.Err())
	}
	defer func() { s.slots <- slot }()

	// A kept connection may have been closed by the server in the meantime:
	// then MAIL FROM fails without a reply, nothing was offered, and one
	// fresh connection is tried.
	reused := slot.conn != nil
	err = s.send(ctx, slot, msg)
	if reused && errors.Is(err, errConnGone) && ctx.Err() == nil {
		err = s.send(ctx, slot, msg)
	}
	return err
}

// errConnGone marks a connection that failed before a message was offered:
// MAIL FROM got no reply. On a kept connection it means the server closed it.
var errConnGone = errors.New("the connection failed before the message was offered")

// send sends msg on the slot's connection, dialling first if there is none.
func (s *SMTP) send(ctx context.Context, slot *smtpSlot, msg *gomail.Msg) error {
	if slot.conn == nil {
		conn, err := s.dial(ctx, slot)
		if err != nil {
			// Connecting, TLS and AUTH concern the server, not this message: retry later.
			return fmt.Errorf("delivery: SMTP connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
		}
		slot.conn = conn
	}
	conn := slot.conn
	// Cancelling ctx closes the connection, which ends a command waiting
	// for its reply at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err := s.transact(conn, msg)
	stop()
	if err != nil {
		slot.drop()
		if ctx.Err() != nil {
			return fmt.Errorf("delivery: SMTP send: %w (%w)", ctx.Err(), err)
		}
		return classify(err)
	}
	return nil
}

// transact offers msg on conn: MAIL FROM, RCPT TO, DATA, and the message.
// The server's reply to the message's final "." is the end: a new message
// may follow with MAIL FROM (RFC 5321, 4.1.1.4). go-mail's own send added a
// NOOP before and a RSET after every message, two round trips that change
// nothing; and when the RSET's reply never came, a message the server had
// taken stayed unrecorded until the send timeout, and was sent again if the
// process died meanwhile.
func (s *SMTP) transact(conn *gosmtp.Client, msg *gomail.Msg) error {
	from, err := msg.GetSender(false)
	if err != nil {
		return err
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return err
	}
	if err := conn.UpdateDeadline(s.cfg.SendTimeout); err != nil {
		return fmt.Errorf("%w: %w", errConnGone, err)
	}
	if err := conn.Mail(from); err != nil {
		var reply *textproto.Error
		if !errors.As(err, &reply) {
			return fmt.Errorf("%w: %w", errConnGone, err)
		}
		return err
	}
	for _, r := range rcpts {
		if err := conn.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := conn.Data()
	if err != nil {
		return err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return err
	}
	return w.Close()
}

// drop closes and forgets the slot's connection.
func (slot *smtpSlot) drop() {
	if slot.conn != nil {
		slot.conn.Close()
		slot.conn = nil
	}
}

// Close ends the kept connections politely, waiting for sends in flight.
func (s *SMTP) Close() error {
	var errs []error
	for range cap(s.slots) {
		slot := <-s.slots
		if slot.conn != nil {
			errs = append(errs, slot.client.CloseWithSMTPClient(slot.conn))
			slot.drop()
		}
		defer func() { s.slots <- slot }()
	}
	return errors.Join(errs...)
}

// message builds the MIME message for m.
func (s *SMTP) message(m casegate.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if s.cfg.DKIM != nil {
		msg.SetDKIM(s.cfg.DKIM.signer())
	}
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("delivery: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, errors.New("delivery: the recipient is not a valid email address")
	}
	msg.Subject(m.Subject)
	id, err := messageID(s.idAt)
	if err != nil {
		return nil, err
	}
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	if m.Unsubscribe != "" {
		// RFC 8058: a provider may offer one-click unsubscribe, a POST to
		// this address with the body "List-Unsubscribe=One-Click".
		msg.SetGenHeader("List-Unsubscribe", "<"+m.Unsubscribe+">")
		msg.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// messageID is a fresh Message-ID at the sender's domain, 128 random bits
// before the @: the domain the message claims to come from, which spam
// filters compare with the From address, not the host's name.
func messageID(domain string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("delivery: message id: %w", err)
	}
	return hex.EncodeToString(b[:]) + "@" + domain, nil
}

// classify marks a 5xx reply as permanent and wraps everything else as it is.
func classify(err error) error {
	code := 0
	var se *gomail.SendError
	var tp *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
	case errors.As(err, &tp):
		code = tp.Code
	}
	err = fmt.Errorf("delivery: SMTP send: %w", err)
	if code >= 500 && code < 600 {
		return &casegate.PermanentError{Err: err}
	}
	return err
}
