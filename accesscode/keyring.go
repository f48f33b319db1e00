package accesscode

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// The HKDF info strings; one key per purpose, so no key is used for two things.
const (
	infoCodeMAC = "casegate code-mac v1"
	infoSeal    = "casegate seal v1"
	infoTag     = "casegate tag v1"
	infoAudit   = "casegate audit v1"
	infoLink    = "casegate link v1"
)

// sealVersion is the first byte of a sealed value.
const sealVersion = 1

// Keyring holds the keys derived from the instance secrets. The last secret is
// current: it makes every new MAC, sealed value and tag. Older secrets still
// verify MACs and open sealed values made with them. A Keyring is safe for
// concurrent use.
type Keyring struct {
	current string
	keys    map[string]*keySet
}

// keySet is what one secret derives to.
type keySet struct {
	mac   []byte
	seal  cipher.AEAD
	tag   []byte
	audit []byte
	link  cipher.AEAD // seals the links in messages (unsubscribe)
}

// NewKeyring derives the keys of each secret. It needs at least one secret,
// valid ids without duplicates, and at least 32 bytes per secret.
func NewKeyring(secrets []Secret) (*Keyring, error) {
	if len(secrets) == 0 {
		return nil, errors.New("accesscode: keyring needs at least one secret")
	}
	k := &Keyring{keys: make(map[string]*keySet, len(secrets))}
	for i, s := range secrets {
		if !validID(s.ID) {
			return nil, fmt.Errorf("accesscode: secret %d: the key id must be 1–16 characters from a–z and 0–9", i+1)
		}
		if _, dup := k.keys[s.ID]; dup {
			return nil, fmt.Errorf("accesscode: secret %d: key id %q is used twice", i+1, s.ID)
		}
		if len(s.Bytes) < minSecretBytes {
			return nil, fmt.Errorf("accesscode: secret %q is %d bytes, need at least %d", s.ID, len(s.Bytes), minSecretBytes)
		}
		ks, err := deriveKeys(s.Bytes)
		if err != nil {
			return nil, fmt.Errorf("accesscode: secret %q: %w", s.ID, err)
		}
		k.keys[s.ID] = ks
		k.current = s.ID
	}
	return k, nil
}

// deriveKeys derives the four 32-byte keys of one secret with HKDF-SHA256.
func deriveKeys(secret []byte) (*keySet, error) {
	macKey, err := hkdf.Key(sha256.New, secret, nil, infoCodeMAC, 32)
	if err != nil {
		return nil, err
	}
	sealKey, err := hkdf.Key(sha256.New, secret, nil, infoSeal, 32)
	if err != nil {
		return nil, err
	}
	tagKey, err := hkdf.Key(sha256.New, secret, nil, infoTag, 32)
	if err != nil {
		return nil, err
	}
	auditKey, err := hkdf.Key(sha256.New, secret, nil, infoAudit, 32)
	if err != nil {
		return nil, err
	}
	linkKey, err := hkdf.Key(sha256.New, secret, nil, infoLink, 32)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(sealKey)
	if err != nil {
		return nil, err
	}
	link, err := newAEAD(linkKey)
	if err != nil {
		return nil, err
	}
	return &keySet{mac: macKey, seal: aead, tag: tagKey, audit: auditKey, link: link}, nil
}

// newAEAD is AES-256-GCM with a random nonce under key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// String names the current key without any key material.
func (k *Keyring) String() string {
	return fmt.Sprintf("accesscode.Keyring(current %s, %d keys)", k.current, len(k.keys))
}

// MAC returns HMAC-SHA256 over requestID and code with the current code-MAC
// key, and that key's id to store beside it. code should be canonical.
func (k *Keyring) MAC(requestID, code string) (keyID string, mac []byte) {
	return k.current, codeMAC(k.keys[k.current].mac, requestID, code)
}

// Verify reports, in constant time, whether mac was made by MAC for requestID
// and code with the key keyID. An unknown keyID gives false.
func (k *Keyring) Verify(keyID string, mac []byte, requestID, code string) bool {
	ks, ok := k.keys[keyID]
	if !ok {
		return false
	}
	return hmac.Equal(mac, codeMAC(ks.mac, requestID, code))
}

// codeMAC is HMAC-SHA256(key, len(requestID) ‖ requestID ‖ code), the length
// an 8-byte big-endian count so no two pairs share an input.
func codeMAC(key []byte, requestID, code string) []byte {
	h := hmac.New(sha256.New, key)
	writePrefixed(h, requestID)
	h.Write([]byte(code))
	return h.Sum(nil)
}

// writePrefixed writes s after its length.
func writePrefixed(h io.Writer, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// Seal encrypts plaintext with AES-256-GCM under the current seal key and a
// random nonce. The result is: version byte, key id length, key id, nonce,
// ciphertext and tag; the version and key id are authenticated too.
func (k *Keyring) Seal(plaintext string) []byte {
	aead := k.keys[k.current].seal
	header := append([]byte{sealVersion, byte(len(k.current))}, k.current...)
	out := make([]byte, len(header), len(header)+aead.Overhead()+len(plaintext))
	copy(out, header)
	return aead.Seal(out, nil, []byte(plaintext), header)
}

// Open decrypts what Seal made with any key still in the keyring. It fails if
// the value was changed or its key was removed.
func (k *Keyring) Open(sealed []byte) (string, error) {
	if len(sealed) < 2 || sealed[0] != sealVersion {
		return "", errors.New("accesscode: sealed value has an unknown format")
	}
	end := 2 + int(sealed[1])
	if len(sealed) < end {
		return "", errors.New("accesscode: sealed value is truncated")
	}
	id := string(sealed[2:end])
	ks, ok := k.keys[id]
	if !ok {
		if validID(id) {
			return "", fmt.Errorf("accesscode: sealed with key id %q, which is not in the keyring", id)
		}
		return "", errors.New("accesscode: sealed value has an invalid key id")
	}
	plaintext, err := ks.seal.Open(nil, nil, sealed[end:], sealed[:end])
	if err != nil {
		return "", errors.New("accesscode: sealed value was altered or is corrupt")
	}
	return string(plaintext), nil
}

// Tag returns a keyed hash of value for purpose with the current tag key: 32
// hex characters (16 bytes of HMAC-SHA256). Use it for client IPs in audit
// records and for rate-limit keys. Tags change when the current key rotates.
func (k *Keyring) Tag(purpose, value string) string {
	h := hmac.New(sha256.New, k.keys[k.current].tag)
	writePrefixed(h, purpose)
	h.Write([]byte(value))
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}

// AuditKeyID names the audit key that chains new audit events: the current one.
func (k *Keyring) AuditKeyID() string { return k.current }

// AuditMAC returns HMAC-SHA256 of msg under the audit key of keyID, and
// false when the keyring has no such key. Old keys stay to verify the events
// they chained.
func (k *Keyring) AuditMAC(keyID string, msg []byte) ([]byte, bool) {
	ks, ok := k.keys[keyID]
	if !ok {
		return nil, false
	}
	h := hmac.New(sha256.New, ks.audit)
	h.Write(msg)
	return h.Sum(nil), true
}
