package smtptest

import (
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
)

// send delivers raw with the standard library's SMTP client.
func send(addr string, auth smtp.Auth, from string, to []string, raw string) error {
	return smtp.SendMail(addr, auth, from, to, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

const plainMessage = `From: Sender <sender@example.org>
To: a@example.com
Subject: =?UTF-8?Q?Caf=C3=A9_ready?=
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Hello =E2=80=94 your order is ready.=
 Soft break joined.
`

const alternativeMessage = `From: sender@example.org
To: b@example.com
Subject: Both
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="XYZ"

--XYZ
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Code K7M2Q-9XH4R =3D here
--XYZ
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+Q29kZSA8Yj5LN00yUS05WEg0
UjwvYj48L3A+
--XYZ--
`

func TestServerReceivesAndDecodes(t *testing.T) {
	s := Start(t)
	if err := send(s.Addr(), nil, "sender@example.org", []string{"a@example.com"}, plainMessage); err != nil {
		t.Fatal(err)
	}
	if err := send(s.Addr(), nil, "sender@example.org", []string{"b@example.com", "c@example.com"}, alternativeMessage); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.WaitFor(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	first, second := msgs[0], msgs[1]
	if first.Subject != "Café ready" {
		t.Errorf("subject = %q", first.Subject)
	}
	if want := "Hello — your order is ready. Soft break joined.\r\n"; first.Text != want {
		t.Errorf("text = %q, want %q", first.Text, want)
	}
	if first.HTML != "" {
		t.Errorf("html = %q, want none", first.HTML)
	}
	if first.From != "sender@example.org" || len(first.To) != 1 || first.To[0] != "a@example.com" {
		t.Errorf("envelope = %q → %q", first.From, first.To)
	}
	if first.Header.Get("From") != "Sender <sender@example.org>" {
		t.Errorf("From header = %q", first.Header.Get("From"))
	}
	if !strings.Contains(string(first.Raw), "=E2=80=94") {
		t.Errorf("raw message lost its encoding: %q", first.Raw)
	}
	if second.Text != "Code K7M2Q-9XH4R = here" {
		t.Errorf("text = %q", second.Text)
	}
	if second.HTML != "<p>Code <b>K7M2Q-9XH4R</b></p>" {
		t.Errorf("html = %q", second.HTML)
	}
	if strings.Join(second.To, ",") != "b@example.com,c@example.com" {
		t.Errorf("to = %q", second.To)
	}
}

func TestServerAcceptsPlainAuth(t *testing.T) {
	s := Start(t)
	host, _, _ := net.SplitHostPort(s.Addr())
	auth := smtp.PlainAuth("", "relay-user", "s3cret", host)
	if err := send(s.Addr(), auth, "sender@example.org", []string{"a@example.com"}, plainMessage); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.WaitFor(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].User != "relay-user" {
		t.Errorf("user = %q, want relay-user", msgs[0].User)
	}
}

func TestServerRejectsRecipients(t *testing.T) {
	s := Start(t)
	s.RejectRecipients(func(addr string) bool { return strings.HasPrefix(addr, "bounce") })
	err := send(s.Addr(), nil, "sender@example.org", []string{"bounce@example.com"}, plainMessage)
	var tpErr *textproto.Error
	if !errors.As(err, &tpErr) || tpErr.Code != 550 {
		t.Fatalf("err = %v, want a 550 reply", err)
	}
	if err := send(s.Addr(), nil, "sender@example.org", []string{"ok@example.com"}, plainMessage); err != nil {
		t.Fatalf("accepted recipient: %v", err)
	}
	s.RejectRecipients(nil)
	if err := send(s.Addr(), nil, "sender@example.org", []string{"bounce@example.com"}, plainMessage); err != nil {
		t.Fatalf("after RejectRecipients(nil): %v", err)
	}
	if got := len(s.Messages()); got != 2 {
		t.Errorf("%d messages stored, want 2", got)
	}
}

func TestServerStopAndRestart(t *testing.T) {
	s := Start(t)
	addr := s.Addr()
	if err := send(addr, nil, "sender@example.org", []string{"a@example.com"}, plainMessage); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Stop() // a second Stop is harmless
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("dial succeeded while stopped")
	}
	s.Restart()
	if s.Addr() != addr {
		t.Fatalf("address changed: %s → %s", addr, s.Addr())
	}
	if err := send(addr, nil, "sender@example.org", []string{"a@example.com"}, plainMessage); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got := len(s.Messages()); got != 2 {
		t.Errorf("%d messages kept across restart, want 2", got)
	}
}

func TestServerStopClosesOpenConnections(t *testing.T) {
	s := Start(t)
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := c.Noop(); err == nil {
		t.Fatal("NOOP succeeded on a connection the server closed")
	}
}

func TestWaitForTimesOut(t *testing.T) {
	s := Start(t)
	start := time.Now()
	msgs, err := s.WaitFor(1, 50*time.Millisecond)
	if err == nil || len(msgs) != 0 {
		t.Fatalf("WaitFor = %d messages, %v; want a timeout", len(msgs), err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("WaitFor returned before its timeout")
	}
}

func TestURL(t *testing.T) {
	s := Start(t)
	if want := "smtp://" + s.Addr() + "?tls=none"; s.URL() != want {
		t.Errorf("URL = %q, want %q", s.URL(), want)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q, want loopback", s.Addr())
	}
}

func FuzzParseMail(f *testing.F) {
	f.Add([]byte(strings.ReplaceAll(plainMessage, "\n", "\r\n")))
	f.Add([]byte(strings.ReplaceAll(alternativeMessage, "\n", "\r\n")))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n--a--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseMail(raw)
		if err == nil && string(m.Raw) != string(raw) {
			t.Fatal("Raw differs from the input")
		}
	})
}

func TestServerHoldsReplies(t *testing.T) {
	s := Start(t)
	s.HoldReplies(2 * time.Second)
	sent := make(chan error, 1)
	go func() { sent <- send(s.Addr(), nil, "sender@example.org", []string{"a@example.com"}, plainMessage) }()
	if !testenv.Eventually(5*time.Second, func() bool { return s.Holding() == 1 }) {
		t.Fatal("no reply held within 5s")
	}
	select {
	case err := <-sent:
		t.Fatalf("the send returned (%v) while its reply was held", err)
	default:
	}
	if got := len(s.Messages()); got != 1 {
		t.Errorf("%d messages kept while the reply was held, want 1", got)
	}
	if err := <-sent; err != nil {
		t.Fatalf("send after the hold: %v", err)
	}
	if n := s.Holding(); n != 0 {
		t.Errorf("%d replies still held after the send returned", n)
	}
	s.HoldReplies(0)
	if err := send(s.Addr(), nil, "sender@example.org", []string{"b@example.com"}, plainMessage); err != nil || s.Holding() != 0 {
		t.Errorf("after HoldReplies(0): %v, %d held", err, s.Holding())
	}
}
