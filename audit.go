package casegate

import (
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
	PrevHash string // hex
	Hash     string // hex SHA-256(prev_hash ‖ canonical event)
}

// GenesisHash is the prev_hash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Canonical returns the event's canonical serialisation: fixed field order,
// times in UTC with nanoseconds, details sorted by key. The hashes are not part of it.
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
	return []byte(b.String())
}

// AuditHash returns hex(SHA-256(prev ‖ canonical event)).
func AuditHash(prev string, e AuditEvent) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(e.Canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyChain checks events that follow prev in sequence order and returns the
// sequence number of the first broken event, or 0 when all hold.
func VerifyChain(prev string, prevSeq int64, events []AuditEvent) int64 {
	for _, e := range events {
		if e.Seq != prevSeq+1 || e.PrevHash != prev || AuditHash(prev, e) != e.Hash {
			return e.Seq
		}
		prev, prevSeq = e.Hash, e.Seq
	}
	return 0
}
