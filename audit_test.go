package casegate

import (
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
	if got := AuditHash(GenesisHash, e); got != "07c522dfe97267a8167e1a5a9676cfc15c8d9818e10d93169190cca67ce76146" {
		t.Errorf("hash %s", got)
	}
}
