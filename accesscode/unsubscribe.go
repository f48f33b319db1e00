package accesscode

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Unsubscribe is what an unsubscribe link stands for: stop the status
// notices of one case (by receipt number) to one party, until Expires.
type Unsubscribe struct {
	PartyID int64
	Receipt string
	Expires time.Time
}

// The reasons ParseUnsubscribe refuses a token.
var (
	ErrLinkInvalid = errors.New("accesscode: the link is not one casegate made, or it was changed")
	ErrLinkExpired = errors.New("accesscode: the link has expired")
)

// linkVersion is the first byte of a sealed link; linkAD binds the sealed
// value to its use, so no other sealed link could pass for an unsubscribe.
const (
	linkVersion    = 1
	linkAD         = "unsubscribe"
	maxTokenLen    = 256 // far more than any token made here
	maxReceiptLen  = 64
	linkFixedBytes = 8 + 8 // party id, expiry
)

// UnsubscribeToken seals u under the current link key into a URL-safe
// token. The party and receipt number are encrypted, not only signed: the
// link travels in mail and in provider logs, and says nothing to a reader.
func (k *Keyring) UnsubscribeToken(u Unsubscribe) string {
	plain := make([]byte, linkFixedBytes, linkFixedBytes+len(u.Receipt))
	binary.BigEndian.PutUint64(plain[0:8], uint64(u.PartyID))
	binary.BigEndian.PutUint64(plain[8:16], uint64(u.Expires.Unix()))
	plain = append(plain, u.Receipt...)
	header := append([]byte{linkVersion, byte(len(k.current))}, k.current...)
	aead := k.keys[k.current].link
	sealed := aead.Seal(header, nil, plain, append(header[:len(header):len(header)], linkAD...))
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// ParseUnsubscribe opens a token UnsubscribeToken made with any key still in
// the keyring. It returns ErrLinkInvalid for anything altered, malformed or
// made with a key no longer kept, and ErrLinkExpired for a genuine link
// whose time has passed at now.
func (k *Keyring) ParseUnsubscribe(token string, now time.Time) (Unsubscribe, error) {
	if token == "" || len(token) > maxTokenLen {
		return Unsubscribe{}, ErrLinkInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 2 || raw[0] != linkVersion {
		return Unsubscribe{}, ErrLinkInvalid
	}
	end := 2 + int(raw[1])
	if len(raw) < end {
		return Unsubscribe{}, ErrLinkInvalid
	}
	ks, ok := k.keys[string(raw[2:end])]
	if !ok {
		return Unsubscribe{}, ErrLinkInvalid
	}
	header := raw[:end:end]
	plain, err := ks.link.Open(nil, nil, raw[end:], append(header, linkAD...))
	if err != nil || len(plain) < linkFixedBytes || len(plain) > linkFixedBytes+maxReceiptLen {
		return Unsubscribe{}, ErrLinkInvalid
	}
	u := Unsubscribe{
		PartyID: int64(binary.BigEndian.Uint64(plain[0:8])),
		Expires: time.Unix(int64(binary.BigEndian.Uint64(plain[8:16])), 0).UTC(),
		Receipt: string(plain[linkFixedBytes:]),
	}
	if u.PartyID <= 0 || u.Receipt == "" {
		return Unsubscribe{}, ErrLinkInvalid
	}
	if !now.Before(u.Expires) {
		return Unsubscribe{}, ErrLinkExpired
	}
	return u, nil
}
