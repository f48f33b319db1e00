package casegate

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// TestAuditCanonicalKnownAnswer pins the serialisation that every stored
// hash covers: changing it would break the chain of every existing database.
// The expected hash was computed with sha256sum over the genesis hash and the
// text below.
func TestAuditCanonicalKnownAnswer(t *testing.T) {
	e := AuditEvent{
		Seq: 12, At: time.Date(2026, 3, 2, 14, 55, 0, 1000, time.FixedZone("CET", 3600)),
		Actor: "public", Action: "code.request", Target: "challenge:ab<", Outcome: "issued", IPHash: "k1:ff",
		Details: map[string]string{"channel": "email", "by": "a_number"},
	}
	const want = "seq=\"12\"\n" +
		"at=\"2026-03-02T13:55:00.000001Z\"\n" +
		"actor=\"public\"\n" +
		"action=\"code.request\"\n" +
		"target=\"challenge:ab\\u003c\"\n" +
		"outcome=\"issued\"\n" +
		"ip=\"k1:ff\"\n" +
		"d.by=\"a_number\"\n" +
		"d.channel=\"email\"\n"
	if got := string(e.Canonical()); got != want {
		t.Fatalf("canonical:\n%s\nwant:\n%s", got, want)
	}
	// An event of the unkeyed chain of old releases keeps its hash.
	if got, ok := AuditHash(nil, GenesisHash, e); !ok || got != "07c522dfe97267a8167e1a5a9676cfc15c8d9818e10d93169190cca67ce76146" {
		t.Errorf("unkeyed hash %s", got)
	}
	// A keyed event names its key in the canonical text, and its hash is
	// HMAC-SHA256 under that key, computed with
	// printf '%s' "$genesis$canonical" | openssl dgst -sha256 -hmac 'audit key one'.
	e.KeyID = "k1"
	if got := string(e.Canonical()); got != want+"key=\"k1\"\n" {
		t.Fatalf("keyed canonical:\n%s", got)
	}
	keys := fixedKeys{"k1": []byte("audit key one")}
	if got, ok := AuditHash(keys, GenesisHash, e); !ok || got != keyedKnownAnswer {
		t.Errorf("keyed hash %s, want %s", got, keyedKnownAnswer)
	}
	if _, ok := AuditHash(keys, GenesisHash, AuditEvent{KeyID: "k9"}); ok {
		t.Error("AuditHash with a key the keyring lacks: ok")
	}
}

// fixedKeys are audit keys by id; the current is "k1".
type fixedKeys map[string][]byte

func (k fixedKeys) AuditKeyID() string { return "k1" }

func (k fixedKeys) AuditMAC(id string, msg []byte) ([]byte, bool) {
	key, ok := k[id]
	if !ok {
		return nil, false
	}
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil), true
}

func TestChainWalk(t *testing.T) {
	keys := fixedKeys{"k1": []byte("one"), "k2": []byte("two")}
	chain := func(n int) []AuditEvent {
		prev := GenesisHash
		var es []AuditEvent
		for i := 1; i <= n; i++ {
			e := AuditEvent{Seq: int64(i), At: time.Unix(int64(i), 0), Actor: "system", Action: "x", KeyID: "k1", PrevHash: prev}
			if i > 3 {
				e.KeyID = "k2" // rotated
			}
			if i == 1 {
				e.KeyID = "" // the unkeyed start of a database from an old release
			}
			e.Hash, _ = AuditHash(keys, prev, e)
			prev = e.Hash
			es = append(es, e)
		}
		return es
	}
	tests := []struct {
		name        string
		edit        func([]AuditEvent) []AuditEvent
		keys        AuditKeys
		broken      int64
		count       int
		whyContains string
	}{
		{"intact", func(es []AuditEvent) []AuditEvent { return es }, keys, 0, 6, ""},
		{"edited", func(es []AuditEvent) []AuditEvent { es[3].Outcome = "forged"; return es }, keys, 4, 3, "changed"},
		{"removed", func(es []AuditEvent) []AuditEvent { return append(es[:2], es[3:]...) }, keys, 3, 2, "missing"},
		{"rehashed without the key", func(es []AuditEvent) []AuditEvent {
			es[4].Actor = "forged"
			es[4].KeyID = ""
			prev := es[3].Hash
			for i := 4; i < len(es); i++ {
				es[i].PrevHash = prev
				es[i].KeyID = ""
				es[i].Hash, _ = AuditHash(nil, prev, es[i])
				prev = es[i].Hash
			}
			return es
		}, keys, 5, 4, "unkeyed"},
		{"old key gone", func(es []AuditEvent) []AuditEvent { return es }, fixedKeys{"k2": []byte("two")}, 2, 1, "no longer holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.edit(chain(6))
			w := ChainWalk{Keys: tt.keys, Prev: GenesisHash}
			// In pages of two, as verify reads them.
			var broken int64
			var why string
			for i := 0; i < len(es) && broken == 0; i += 2 {
				broken, why = w.Next(es[i:min(i+2, len(es))])
			}
			if broken != tt.broken || w.Count != tt.count || !strings.Contains(why, tt.whyContains) {
				t.Errorf("broken %d (%q), count %d; want %d (%q), %d", broken, why, w.Count, tt.broken, tt.whyContains, tt.count)
			}
		})
	}
}

func TestCheckpointSignature(t *testing.T) {
	keys := fixedKeys{"k1": []byte("one")}
	c := SignCheckpoint(keys, AuditCheckpoint{Seq: 7, Hash: "ab", At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)})
	if !ValidCheckpoint(keys, c) || c.KeyID != "k1" || len(c.MAC) != 64 {
		t.Fatalf("a fresh checkpoint does not verify: %+v", c)
	}
	for name, edit := range map[string]func(*AuditCheckpoint){
		"seq":  func(c *AuditCheckpoint) { c.Seq++ },
		"hash": func(c *AuditCheckpoint) { c.Hash = "ac" },
		"at":   func(c *AuditCheckpoint) { c.At = c.At.Add(time.Microsecond) },
		"key":  func(c *AuditCheckpoint) { c.KeyID = "k2" },
		"mac":  func(c *AuditCheckpoint) { c.MAC = "00" + c.MAC[2:] },
		"hex":  func(c *AuditCheckpoint) { c.MAC = "zz" },
	} {
		bad := c
		edit(&bad)
		if ValidCheckpoint(keys, bad) {
			t.Errorf("checkpoint with another %s verifies", name)
		}
	}
}

// keyedKnownAnswer is the keyed hash of the event of TestAuditCanonicalKnownAnswer.
const keyedKnownAnswer = "47ce3f858679bd2419cbc42600492965a0abaea71f475313da0a1dab01440f66"
