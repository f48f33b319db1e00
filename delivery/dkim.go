package delivery

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// DKIM is how email is signed (RFC 6376): the signing domain (d=), the
// selector (s=) under which the public key is published at
// SELECTOR._domainkey.DOMAIN, and the private key, RSA (rsa-sha256) or
// Ed25519 (ed25519-sha256, RFC 8463).
type DKIM struct {
	Domain   string
	Selector string
	Key      crypto.Signer
}

// dkimSignedHeaders are the header fields every signature covers. The
// List-Unsubscribe pair must be signed for a mail provider to offer one-click
// unsubscribe (RFC 8058, section 4); a field the message lacks is left out
// of the signature by go-mail, so code emails are signed the same way.
//
// The list is kept short on purpose: go-mail 0.8.1 folds the signature
// header at 76 columns, and a tag longer than a line is broken inside its
// value, where relaxed canonicalization then sees a space the signer never
// hashed, and the signature fails everywhere. "h=" with this list is 74
// characters; TestDKIMSignsCodesAndNotices verifies the result.
var dkimSignedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// maxTagValue is the longest d= or s= value go-mail folds without breaking
// it (see dkimSignedHeaders): the tag and its "; " within 75 columns.
const maxTagValue = 71

// minRSABits is the smallest RSA key accepted: RFC 8301 requires verifiers
// to refuse keys under 1024 bits and signers to use at least that; 2048 is
// what receivers expect today.
const minRSABits = 2048

// The selector or domain LoadDKIM was given cannot be signed with.
var (
	ErrDKIMSelector = errors.New("DKIM selector")
	ErrDKIMDomain   = errors.New("DKIM domain")
)

// LoadDKIM reads a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8
// "PRIVATE KEY", RSA of at least 2048 bits or Ed25519) from path. Errors name
// the path and say what is wrong with the file, never its contents.
func LoadDKIM(path, selector, domain string) (*DKIM, error) {
	if !validDNSLabels(selector) || len(selector) > maxTagValue {
		return nil, fmt.Errorf("%w %q: want DNS labels of letters, digits and hyphens, such as casegate1", ErrDKIMSelector, selector)
	}
	if !validDNSLabels(domain) || !strings.Contains(domain, ".") || len(domain) > maxTagValue {
		return nil, fmt.Errorf("%w %q: want a domain name such as example.gov", ErrDKIMDomain, domain)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("DKIM key file %s: %w", path, err)
	}
	key, err := gomail.PrivKeyFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("DKIM key file %s: not a PEM RSA or Ed25519 private key (%v); make one with `openssl genpkey -algorithm ed25519` or `openssl genrsa 2048`", path, err)
	}
	if k, ok := key.(*rsa.PrivateKey); ok && k.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("DKIM key file %s: the RSA key has %d bits, want at least %d", path, k.N.BitLen(), minRSABits)
	}
	return &DKIM{Domain: strings.ToLower(domain), Selector: strings.ToLower(selector), Key: key}, nil
}

// signer is a fresh go-mail signer for one message: go-mail's signer records
// its algorithm on first use, so one shared by concurrent sends would race.
func (d *DKIM) signer() *gomail.DKIMSigner {
	s := gomail.NewDKIMSigner(d.Domain, d.Selector, d.Key)
	s.SignHeaders(dkimSignedHeaders...)
	return s
}

// DNSRecord is the TXT record that publishes the public key: its name,
// SELECTOR._domainkey.DOMAIN, and its value, "v=DKIM1; k=rsa; p=…".
func (d *DKIM) DNSRecord() (name, value string, err error) {
	name = d.Selector + "._domainkey." + d.Domain
	switch pub := d.Key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", "", err
		}
		return name, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		// RFC 8463: the raw 32-byte key, not a SubjectPublicKeyInfo.
		return name, "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	}
	return "", "", errors.New("DKIM: the key is neither RSA nor Ed25519")
}

// validDNSLabels accepts a dot-separated name of letters, digits and inner
// hyphens, as selectors and domains are.
func validDNSLabels(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i] | 0x20
			if !(c >= 'a' && c <= 'z' || label[i] >= '0' && label[i] <= '9' || label[i] == '-') {
				return false
			}
		}
	}
	return true
}
