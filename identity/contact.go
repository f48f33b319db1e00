package identity

import (
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// The limits of an email address (RFC 5321: 64 for the local part, 254 in
// all as it travels in a path).
const (
	maxEmailLen = 254
	maxLocalLen = 64
)

// invisibleCategories are the categories of characters an address may not hold:
// controls (Cc: line feed, NUL, NEL), format characters (Cf: zero-width
// space, byte order mark, bidirectional overrides and isolates, soft hyphen)
// and the line and paragraph separators (Zl, Zp). They cannot be seen, so
// the person cannot check the address, and some end a line in a message.
var invisibleCategories = []*unicode.RangeTable{unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp}

// hasInvisible reports whether s holds a character of invisibleCategories.
func hasInvisible(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsOneOf(invisibleCategories, r) }) >= 0
}

// Email returns the canonical form of the email address in s: a bare address
// (no display name, no angle brackets), surrounding spaces of any kind, tabs
// and ASCII line breaks trimmed, the local part as typed (some mail servers tell case apart
// there) and the domain in its ASCII form: IDNA's lookup mapping (lower case,
// NFC, full-width letters and dots made plain) and each label that is not
// ASCII as its A-label, so that bücher.de and xn--bcher-kva.de are one
// address. The domain must have a dot and no address literal; the whole must
// be at most 254 characters, hold no space and read back as itself. Any
// character of the categories Cc, Cf, Zl or Zp left after trimming is refused
// with ErrEmailInvisible; every other failure is ErrEmail.
func Email(s string) (string, error) {
	s = strings.TrimFunc(s, func(r rune) bool { return r == '\t' || r == '\r' || r == '\n' || unicode.Is(unicode.Zs, r) })
	if hasInvisible(s) {
		return "", ErrEmailInvisible
	}
	// net/mail takes any character beyond ASCII as a letter of the local
	// part, spaces such as U+00A0 and U+3000 too.
	if s == "" || len(s) > 2*maxEmailLen || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
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
	local, domain := addr.Address[:at], addr.Address[at+1:]
	if strings.HasPrefix(domain, "[") {
		return "", ErrEmail
	}
	domain, err = idna.Lookup.ToASCII(domain)
	if err != nil || !strings.Contains(domain, ".") ||
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
