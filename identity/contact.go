package identity

import (
	"net/mail"
	"strings"
)

// The limits of an email address (RFC 5321: 64 for the local part, 254 in
// all as it travels in a path).
const (
	maxEmailLen = 254
	maxLocalLen = 64
)

// Email returns the canonical form of the email address in s: a bare address
// (no display name, no angle brackets), surrounding space trimmed, the domain
// in lower case and the local part as typed (some mail servers tell case
// apart there). The domain must have a dot and no address literal; the whole
// must be at most 254 characters and must read back as itself.
func Email(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2*maxEmailLen {
		return "", ErrEmail
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" {
		return "", ErrEmail
	}
	at := strings.LastIndexByte(addr.Address, '@')
	if at <= 0 || at > maxLocalLen {
		return "", ErrEmail
	}
	local, domain := addr.Address[:at], strings.ToLower(addr.Address[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", ErrEmail
	}
	out := local + "@" + domain
	if len(out) > maxEmailLen {
		return "", ErrEmail
	}
	// A quoted local part comes back unquoted and may then not be an
	// address at all ("a b"@example.com); only forms that survive a second
	// reading are kept, so the stored address always parses.
	if again, err := mail.ParseAddress(out); err != nil || again.Address != out || again.Name != "" {
		return "", ErrEmail
	}
	return out, nil
}
