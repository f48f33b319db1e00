package casegate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// AuditEvent is one append-only, hash-chained record of something that happened.
// It never carries a code, a token or a secret.
type AuditEvent struct {
	Seq      int64
	At       time.Time
	Actor    string // "public", "party:12", "admin:ops-laptop", "system"
	Action   string // "code.request", "code.redeem", "party.lock", ...
	Target   string // "challenge:<request_id>", "party:12", "case:IOE…"
	Outcome  string // "ok", "decoy", "incorrect", ...
	IPHash   string // keyed hash of the client IP, or empty
	Details  map[string]string
	KeyID    string // the audit key that made Hash; empty for an event of the unkeyed chain of old releases
	PrevHash string // hex
	Hash     string // hex HMAC-SHA256(audit key, prev_hash ‖ canonical event)
}

// GenesisHash is the prev_hash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditKeys make and check the keyed hashes of the audit chain; the
// keyring derived from the instance secrets (accesscode.Keyring) is one.
type AuditKeys interface {
	// AuditKeyID names the key that chains new events.
	AuditKeyID() string
	// AuditMAC returns HMAC-SHA256 of msg under the audit key keyID, and
	// false when the keyring does not hold that key.
	AuditMAC(keyID string, msg []byte) ([]byte, bool)
}

// Canonical returns the event's canonical serialisation: fixed field order,
// times in UTC with nanoseconds, details sorted by key, and the key id when
// there is one. The hashes are not part of it.
func (e AuditEvent) Canonical() []byte {
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	field := func(name, value string) {
		q, _ := json.Marshal(value)
		fmt.Fprintf(&b, "%s=%s\n", name, q)
	}
	field("seq", fmt.Sprint(e.Seq))
	field("at", e.At.UTC().Format(time.RFC3339Nano))
	field("actor", e.Actor)
	field("action", e.Action)
	field("target", e.Target)
	field("outcome", e.Outcome)
	field("ip", e.IPHash)
	for _, k := range keys {
		field("d."+k, e.Details[k])
	}
	if e.KeyID != "" {
		field("key", e.KeyID)
	}
	return []byte(b.String())
}

// AuditHash returns the hash that chains e to prev: hex HMAC-SHA256 under the
// audit key e.KeyID of prev ‖ canonical event, or, for an event of the
// unkeyed chain (no KeyID), hex SHA-256 of the same. ok is false when keys
// lack e.KeyID.
func AuditHash(keys AuditKeys, prev string, e AuditEvent) (hash string, ok bool) {
	msg := append([]byte(prev), e.Canonical()...)
	if e.KeyID == "" {
		sum := sha256.Sum256(msg)
		return hex.EncodeToString(sum[:]), true
	}
	mac, ok := keys.AuditMAC(e.KeyID, msg)
	if !ok {
		return "", false
	}
	return hex.EncodeToString(mac), true
}

// ChainWalk checks the audit chain a page at a time, in sequence order. Start
// it at the genesis (Prev GenesisHash, Seq 0) or at the anchor a purge left.
type ChainWalk struct {
	Keys  AuditKeys
	Prev  string // the hash of the last event checked
	Seq   int64  // its sequence number
	Count int    // how many events held so far

	keyed bool // an event of the keyed chain was seen: no unkeyed one may follow
}

// Next checks events, which follow what was checked before. It returns the
// sequence number of the first one that does not hold and why, or 0 and "".
func (w *ChainWalk) Next(events []AuditEvent) (broken int64, why string) {
	for _, e := range events {
		switch {
		case e.Seq != w.Seq+1:
			return w.Seq + 1, fmt.Sprintf("event %d is missing (the next stored is %d)", w.Seq+1, e.Seq)
		case e.PrevHash != w.Prev:
			return e.Seq, "its prev_hash is not the hash of the event before it"
		case e.KeyID == "" && w.keyed:
			return e.Seq, "an unkeyed event follows keyed ones"
		}
		hash, ok := AuditHash(w.Keys, w.Prev, e)
		switch {
		case !ok:
			return e.Seq, fmt.Sprintf("it was chained with audit key %q, which the secret file no longer holds", e.KeyID)
		case !hmac.Equal([]byte(hash), []byte(e.Hash)):
			return e.Seq, "its hash does not match its content: it was changed"
		}
		w.keyed = w.keyed || e.KeyID != ""
		w.Prev, w.Seq = e.Hash, e.Seq
		w.Count++
	}
	return 0, ""
}

// VerifyChain checks events that follow prev in sequence order and returns the
// sequence number of the first broken event, or 0 when all hold.
func VerifyChain(keys AuditKeys, prev string, prevSeq int64, events []AuditEvent) int64 {
	w := ChainWalk{Keys: keys, Prev: prev, Seq: prevSeq}
	broken, _ := w.Next(events)
	return broken
}

// AuditCheckpoint is a signed statement that the audit event Seq had Hash
// at time At. Operators keep checkpoints away from the database, so that
// cutting or rewriting history before one shows (`casegate audit verify
// -checkpoint`); a purge keeps one as the anchor the remaining chain starts
// from.
type AuditCheckpoint struct {
	Seq   int64     `json:"seq"`
	Hash  string    `json:"hash"`
	At    time.Time `json:"at"`
	KeyID string    `json:"key_id"`
	MAC   string    `json:"mac"`
}

// checkpointMessage is what a checkpoint's MAC covers.
func (c AuditCheckpoint) message() []byte {
	return fmt.Appendf(nil, "casegate audit checkpoint v1\nseq=%d\nhash=%s\nat=%s\n", c.Seq, c.Hash, c.At.UTC().Format(time.RFC3339Nano))
}

// SignCheckpoint returns c signed with the current audit key.
func SignCheckpoint(keys AuditKeys, c AuditCheckpoint) AuditCheckpoint {
	c.At = c.At.UTC()
	c.KeyID = keys.AuditKeyID()
	mac, _ := keys.AuditMAC(c.KeyID, c.message())
	c.MAC = hex.EncodeToString(mac)
	return c
}

// ValidCheckpoint reports whether c was signed by an audit key that keys hold.
func ValidCheckpoint(keys AuditKeys, c AuditCheckpoint) bool {
	mac, ok := keys.AuditMAC(c.KeyID, c.message())
	if !ok {
		return false
	}
	got, err := hex.DecodeString(c.MAC)
	return err == nil && hmac.Equal(got, mac)
}
