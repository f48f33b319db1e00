package accesscode

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Secret is one instance secret. The keys that MAC codes, seal them in the
// outbox and tag client IPs are derived from it.
type Secret struct {
	ID    string // 1–16 characters a–z and 0–9; stored beside what the secret made
	Bytes []byte // at least minSecretBytes random bytes
}

const (
	minSecretBytes = 32
	maxIDLength    = 16
)

// String names the secret without its bytes, so printing one never leaks it.
func (s Secret) String() string { return "accesscode.Secret(" + s.ID + ")" }

// GoString is String, for %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue keeps the bytes out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// NewSecret returns a secret with the given id and 32 bytes from crypto/rand.
func NewSecret(id string) (Secret, error) {
	if !validID(id) {
		return Secret{}, errors.New("accesscode: key id must be 1–16 characters from a–z and 0–9")
	}
	b := make([]byte, minSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, fmt.Errorf("accesscode: read random: %w", err)
	}
	return Secret{ID: id, Bytes: b}, nil
}

// validID reports whether id is 1–16 characters from a–z and 0–9.
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLength {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ParseSecretFile reads lines of "<id> <secret>", the secret in base64url or
// standard base64, padded or not. Blank lines and lines starting with '#' are
// skipped. The last secret is the current one. Errors name the line and never
// repeat what it holds, except a valid key id.
func ParseSecretFile(data []byte) ([]Secret, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var secrets []Secret
	seen := map[string]int{} // id → line
	for i, line := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("accesscode: secret file line %d: want \"<id> <secret>\", found %d fields", lineNo, len(fields))
		}
		id, encoded := fields[0], fields[1]
		if !validID(id) {
			return nil, fmt.Errorf("accesscode: secret file line %d: the key id must be 1–16 characters from a–z and 0–9", lineNo)
		}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("accesscode: secret file line %d: key id %q is already used on line %d", lineNo, id, prev)
		}
		b, ok := decodeSecret(encoded)
		if !ok {
			return nil, fmt.Errorf("accesscode: secret file line %d: the secret is not valid base64", lineNo)
		}
		if len(b) < minSecretBytes {
			return nil, fmt.Errorf("accesscode: secret file line %d: the secret is %d bytes, need at least %d", lineNo, len(b), minSecretBytes)
		}
		seen[id] = lineNo
		secrets = append(secrets, Secret{ID: id, Bytes: b})
	}
	if len(secrets) == 0 {
		return nil, errors.New("accesscode: secret file holds no secret")
	}
	return secrets, nil
}

// decodeSecret decodes base64url or standard base64, with or without padding.
func decodeSecret(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawURLEncoding
	if strings.ContainsAny(s, "+/") {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	return b, err == nil
}

// secretFileHeader explains the file to whoever opens it.
const secretFileHeader = `# casegate instance secrets. Keep this file private (mode 0600) and backed up.
#
# One secret per line: "<id> <secret>", the id 1-16 characters a-z and 0-9,
# the secret at least 32 random bytes in base64url.
#
# The last line is the current key: new codes, sealed messages and tags use it.
# To rotate, add a new line at the end with a new id. Keep old lines so old
# codes still verify and queued messages still open; remove a line only when
# nothing made with it can still be in use (codes and outbox rows expire
# within minutes; IP tags made with it will no longer match).
`

// FormatSecretFile writes secrets in the form ParseSecretFile reads, after a
// comment header explaining the file.
func FormatSecretFile(secrets []Secret) []byte {
	var b bytes.Buffer
	b.WriteString(secretFileHeader)
	for _, s := range secrets {
		b.WriteString(s.ID)
		b.WriteByte(' ')
		b.WriteString(base64.RawURLEncoding.EncodeToString(s.Bytes))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
