package accesscode

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func newKeyring(t testing.TB, secrets ...Secret) *Keyring {
	t.Helper()
	k, err := NewKeyring(secrets)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func TestNewKeyringRejects(t *testing.T) {
	good := fixedSecret("k1", 1, 32)
	tests := []struct {
		name    string
		secrets []Secret
	}{
		{"none", nil},
		{"short secret", []Secret{fixedSecret("k1", 1, 31)}},
		{"bad id", []Secret{fixedSecret("K1", 1, 32)}},
		{"empty id", []Secret{fixedSecret("", 1, 32)}},
		{"duplicate id", []Secret{good, fixedSecret("k1", 2, 32)}},
	}
	for _, tt := range tests {
		if _, err := NewKeyring(tt.secrets); err == nil {
			t.Errorf("%s: NewKeyring accepted it", tt.name)
		}
	}
}

func TestKeyringDoesNotPrintKeys(t *testing.T) {
	k := newKeyring(t, fixedSecret("k1", 1, 32))
	ks := k.keys["k1"]
	for _, out := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%x", k)} {
		if strings.Contains(out, fmt.Sprint(ks.mac)) || strings.Contains(out, fmt.Sprintf("%x", ks.tag)) {
			t.Errorf("printed keyring shows key material: %s", out)
		}
	}
}

func TestMACVerify(t *testing.T) {
	k := newKeyring(t, fixedSecret("k1", 1, 32))
	keyID, mac := k.MAC("req-1", "K7M2Q9XH48")
	if keyID != "k1" || len(mac) != 32 {
		t.Fatalf("MAC = %q, %d bytes; want k1, 32", keyID, len(mac))
	}
	if !k.Verify(keyID, mac, "req-1", "K7M2Q9XH48") {
		t.Fatal("Verify rejects the MAC it made")
	}
	if _, again := k.MAC("req-1", "K7M2Q9XH48"); !bytes.Equal(mac, again) {
		t.Error("MAC is not deterministic")
	}
	flipped := append([]byte(nil), mac...)
	flipped[31] ^= 1
	tests := []struct {
		name, keyID     string
		mac             []byte
		requestID, code string
	}{
		{"wrong code", "k1", mac, "req-1", "K7M2Q9XH49"},
		{"wrong request", "k1", mac, "req-2", "K7M2Q9XH48"},
		{"boundary moved", "k1", mac, "req-1K", "7M2Q9XH48"}, // same concatenation
		{"flipped bit", "k1", flipped, "req-1", "K7M2Q9XH48"},
		{"truncated", "k1", mac[:16], "req-1", "K7M2Q9XH48"},
		{"empty mac", "k1", nil, "req-1", "K7M2Q9XH48"},
		{"unknown key", "k2", mac, "req-1", "K7M2Q9XH48"},
		{"empty key id", "", mac, "req-1", "K7M2Q9XH48"},
	}
	for _, tt := range tests {
		if k.Verify(tt.keyID, tt.mac, tt.requestID, tt.code) {
			t.Errorf("%s: Verify accepted it", tt.name)
		}
	}
	other := newKeyring(t, fixedSecret("k1", 2, 32))
	if other.Verify(keyID, mac, "req-1", "K7M2Q9XH48") {
		t.Error("a keyring with another secret under the same id accepted the MAC")
	}
}

func TestRotation(t *testing.T) {
	old := fixedSecret("k1", 1, 32)
	before := newKeyring(t, old)
	oldID, oldMAC := before.MAC("req-1", "K7M2Q9XH48")
	sealed := before.Seal("K7M2Q9XH48")

	after := newKeyring(t, old, fixedSecret("k2", 2, 32))
	if !after.Verify(oldID, oldMAC, "req-1", "K7M2Q9XH48") {
		t.Error("after rotation the old key id no longer verifies")
	}
	newID, newMAC := after.MAC("req-1", "K7M2Q9XH48")
	if newID != "k2" || bytes.Equal(newMAC, oldMAC) {
		t.Errorf("after rotation MAC uses key %q; want k2 and a different MAC", newID)
	}
	if !after.Verify(newID, newMAC, "req-1", "K7M2Q9XH48") {
		t.Error("the new MAC does not verify")
	}
	if before.Verify(newID, newMAC, "req-1", "K7M2Q9XH48") {
		t.Error("a keyring without k2 verified a k2 MAC")
	}
	if got, err := after.Open(sealed); got != "K7M2Q9XH48" || err != nil {
		t.Errorf("Open after rotation = %q, %v", got, err)
	}
	newSealed := after.Seal("x")
	if _, err := before.Open(newSealed); err == nil || !strings.Contains(err.Error(), `"k2"`) {
		t.Errorf("Open with the key removed: %v; want an error naming k2", err)
	}
}

func TestSealOpen(t *testing.T) {
	k := newKeyring(t, fixedSecret("k1", 1, 32))
	for _, pt := range []string{"", "K7M2Q9XH48", strings.Repeat("é", 1000)} {
		a, b := k.Seal(pt), k.Seal(pt)
		if bytes.Equal(a, b) {
			t.Errorf("Seal(%q) twice gave the same bytes; the nonce is not random", pt)
		}
		if pt != "" && bytes.Contains(a, []byte(pt)) {
			t.Errorf("Seal(%q) contains the plaintext", pt)
		}
		if got, err := k.Open(a); got != pt || err != nil {
			t.Errorf("Open(Seal(%q)) = %q, %v", pt, got, err)
		}
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	k := newKeyring(t, fixedSecret("k1", 1, 32), fixedSecret("k2", 2, 32))
	sealed := k.Seal("K7M2Q9XH48")
	if len(sealed) != 2+2+12+10+16 {
		t.Fatalf("sealed length %d, want header 4 + nonce 12 + 10 + tag 16", len(sealed))
	}
	for i := range sealed {
		for _, bit := range []byte{1, 0x80} {
			bad := append([]byte(nil), sealed...)
			bad[i] ^= bit
			if got, err := k.Open(bad); err == nil {
				t.Fatalf("byte %d flipped: Open = %q, want an error", i, got)
			}
		}
	}
	for n := range len(sealed) {
		if _, err := k.Open(sealed[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: Open accepted it", n)
		}
	}
	// Relabelling the key id to another key in the ring must fail too.
	relabelled := append([]byte(nil), sealed...)
	copy(relabelled[2:4], "k1")
	if _, err := k.Open(relabelled); err == nil {
		t.Error("Open accepted a value relabelled to another key id")
	}
	if _, err := k.Open(append(sealed, 0)); err == nil {
		t.Error("Open accepted a value with a byte appended")
	}
}

func TestTag(t *testing.T) {
	k := newKeyring(t, fixedSecret("k1", 1, 32))
	a := k.Tag("ip", "192.0.2.1")
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("Tag = %q, want 32 lower-case hex characters", a)
	}
	if b := newKeyring(t, fixedSecret("k1", 1, 32)).Tag("ip", "192.0.2.1"); a != b {
		t.Error("Tag is not stable for the same secret")
	}
	for _, other := range []string{
		k.Tag("ip", "192.0.2.2"),
		k.Tag("identifier", "192.0.2.1"),
		k.Tag("ip1", "92.0.2.1"), // same concatenation
		k.Tag("", "ip192.0.2.1"),
		newKeyring(t, fixedSecret("k1", 2, 32)).Tag("ip", "192.0.2.1"),
	} {
		if other == a {
			t.Errorf("Tag collides: %q", other)
		}
	}
	// The tag key is not the MAC key: the same input under both differs.
	if _, mac := k.MAC("ip", "192.0.2.1"); fmt.Sprintf("%x", mac[:16]) == a {
		t.Error("Tag and MAC share a key")
	}
}

func BenchmarkMAC(b *testing.B) {
	k := newKeyring(b, fixedSecret("k1", 1, 32))
	for b.Loop() {
		k.MAC("0123456789abcdef0123456789abcdef", "K7M2Q9XH48")
	}
}

func BenchmarkVerify(b *testing.B) {
	k := newKeyring(b, fixedSecret("k1", 1, 32))
	id, mac := k.MAC("0123456789abcdef0123456789abcdef", "K7M2Q9XH48")
	for b.Loop() {
		if !k.Verify(id, mac, "0123456789abcdef0123456789abcdef", "K7M2Q9XH48") {
			b.Fatal("Verify failed")
		}
	}
}
