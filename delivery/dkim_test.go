package delivery

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
)

// dnsStub answers TXT look-ups with the one record of d, as the agency's
// DNS would once the record DNSRecord prints is published.
func dnsStub(t testing.TB, d *DKIM) func(string) ([]string, error) {
	name, value, err := d.DNSRecord()
	if err != nil {
		t.Fatal(err)
	}
	return func(domain string) ([]string, error) {
		if strings.EqualFold(strings.TrimSuffix(domain, "."), name) {
			return []string{value}, nil
		}
		return nil, errors.New("NXDOMAIN " + domain)
	}
}

// verifyDKIM checks raw's signatures with an independent verifier and
// returns the one verification, failing unless there is exactly one.
func verifyDKIM(t *testing.T, raw []byte, lookup func(string) ([]string, error)) *dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d DKIM signatures, want 1:\n%s", len(vs), raw)
	}
	return vs[0]
}

func TestDKIMSignsCodesAndNotices(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		name, block string
		key         any
	}{
		{"rsa pkcs1", "RSA PRIVATE KEY", rsaKey},
		{"rsa pkcs8", "PRIVATE KEY", rsaKey},
		{"ed25519", "PRIVATE KEY", edKey},
	} {
		t.Run(k.name, func(t *testing.T) {
			d, err := LoadDKIM(testenv.KeyFile(t, k.key, k.block == "RSA PRIVATE KEY"), "casegate1", "Portal.Example.org")
			if err != nil {
				t.Fatal(err)
			}
			lookup := dnsStub(t, d)
			for _, m := range sendSigned(t, d) {
				v := verifyDKIM(t, m.Raw, lookup)
				if v.Err != nil {
					t.Fatalf("%q: signature does not verify: %v\n%s", m.Subject, v.Err, m.Raw)
				}
				if v.Domain != "portal.example.org" {
					t.Errorf("d= %q", v.Domain)
				}
				for _, h := range []string{"from", "to", "subject", "date", "message-id"} {
					if !slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
						t.Errorf("%q: %s not signed (h=%v)", m.Subject, h, v.HeaderKeys)
					}
				}
				notice := m.Header.Get("List-Unsubscribe") != ""
				signsUnsub := slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, "List-Unsubscribe-Post") })
				if notice && !signsUnsub {
					t.Errorf("notice: List-Unsubscribe-Post is not signed (h=%v); RFC 8058 asks for it", v.HeaderKeys)
				}
				// The verifier is real: a changed body or subject fails it.
				for _, tamper := range []func([]byte) []byte{
					func(b []byte) []byte { return bytes.Replace(b, []byte("\r\n\r\n"), []byte("\r\n\r\nX"), 1) },
					func(b []byte) []byte { return bytes.Replace(b, []byte("Subject: "), []byte("Subject: Re: "), 1) },
				} {
					if v := verifyDKIM(t, tamper(bytes.Clone(m.Raw)), lookup); v.Err == nil {
						t.Errorf("%q: a changed message still verifies", m.Subject)
					}
				}
			}
		})
	}
}

// sendSigned has a worker send a code email and a status notice signed by
// d through a real SMTP server, and returns them as the server received them.
func sendSigned(t *testing.T, d *DKIM) []smtptest.Mail {
	t.Helper()
	e := newEnv(t)
	w := e.worker()
	w.Senders[casegate.ChannelEmail] = newTestSMTPWith(t, e.server, "", func(c *SMTPConfig) { c.DKIM = d })
	e.queueCode("ch-dkim", "jose@example.com")
	e.queueNotice("jose@example.com")
	e.runOnce(w, 2)
	msgs, err := e.server.WaitFor(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestDKIMRecord(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	d, err := LoadDKIM(testenv.KeyFile(t, edKey, false), "casegate", "example.gov")
	if err != nil {
		t.Fatal(err)
	}
	name, value, err := d.DNSRecord()
	if err != nil || name != "casegate._domainkey.example.gov" || !strings.HasPrefix(value, "v=DKIM1; k=ed25519; p=") {
		t.Errorf("DNSRecord = %q %q %v", name, value, err)
	}
}

func TestLoadDKIMRefuses(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	good := testenv.KeyFile(t, edKey, false)
	notPEM := filepath.Join(t.TempDir(), "key.txt")
	os.WriteFile(notPEM, []byte("this is not a key\n"), 0o600)
	missing := filepath.Join(t.TempDir(), "absent.pem")
	tests := []struct {
		name, path, selector, domain, want string
	}{
		{"missing file", missing, "casegate", "example.gov", missing},
		{"not PEM", notPEM, "casegate", "example.gov", notPEM},
		{"RSA under 2048 bits", testenv.KeyFile(t, small, true), "casegate", "example.gov", "1024 bits"},
		{"ECDSA", testenv.KeyFile(t, ec, false), "casegate", "example.gov", "not a PEM RSA or Ed25519"},
		{"empty selector", good, "", "example.gov", "selector"},
		{"selector with a space", good, "case gate", "example.gov", "selector"},
		{"domain without a dot", good, "casegate", "localhost", "domain"},
		{"domain with a slash", good, "casegate", "example.gov/x", "domain"},
		// go-mail would fold d= inside the value, and no signature would verify.
		{"domain too long to sign", good, "casegate", strings.Repeat("a", 60) + ".example.gov", "domain"},
	}
	for _, tt := range tests {
		_, err := LoadDKIM(tt.path, tt.selector, tt.domain)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY-----") {
			t.Errorf("%s: the error shows the key: %v", tt.name, err)
		}
	}
}

func TestMessageIDAtFromDomain(t *testing.T) {
	server := smtptest.Start(t)
	s := newTestSMTP(t, server, "")
	for _, to := range []string{"a@example.com", "b@example.com"} {
		if err := s.Send(t.Context(), casegate.Message{Channel: casegate.ChannelEmail, To: to, Subject: "s", Text: "t\n"}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := server.WaitFor(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	var ids []string
	for _, m := range msgs {
		id := m.Header.Get("Message-Id")
		if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@portal.example.org>") || len(id) < len("<@portal.example.org>")+32 {
			t.Errorf("Message-ID %q, want <random@portal.example.org>", id)
		}
		if host != "" && host != "portal.example.org" && strings.Contains(id, "@"+host) {
			t.Errorf("Message-ID %q names the host", id)
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] {
		t.Errorf("two messages share Message-ID %q", ids[0])
	}
}

// queueNotice queues an emailed status notice of case IOE0912345678 to the
// env's party, in Spanish unless edit changes it.
func (e *env) queueNotice(to string, edit ...func(*casegate.Delivery)) int64 {
	e.t.Helper()
	d := casegate.Delivery{PartyID: e.party, Channel: casegate.ChannelEmail, Destination: to,
		Template: casegate.TemplateStatusUpdate, Language: "es", CreatedAt: e.clock.Now(),
		Params: map[string]string{"receipt_number": "IOE0912345678", "status": "approved", "role": "applicant"}}
	for _, f := range edit {
		f(&d)
	}
	e.update(func(tx casegate.Tx) error { return tx.EnqueueDelivery(e.ctx, &d) })
	return d.ID
}
