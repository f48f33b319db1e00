package accesscode

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var linkNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestUnsubscribeTokenRoundTrip(t *testing.T) {
	k := newKeyring(t, fixedSecret("k1", 1, 32))
	want := Unsubscribe{PartyID: 42, Receipt: "IOE2664081473", Expires: linkNow.Add(60 * 24 * time.Hour)}
	tok := k.UnsubscribeToken(want)
	if strings.ContainsAny(tok, "+/=.%") {
		t.Errorf("token %q is not URL-safe as it is", tok)
	}
	if strings.Contains(tok, want.Receipt) {
		t.Errorf("token %q shows the receipt number", tok)
	}
	got, err := k.ParseUnsubscribe(tok, linkNow)
	if err != nil || got != want {
		t.Fatalf("ParseUnsubscribe = %+v, %v; want %+v", got, err, want)
	}
	// An older key still opens it after a rotation; a keyring without it does not.
	rotated := newKeyring(t, fixedSecret("k1", 1, 32), fixedSecret("k2", 2, 32))
	if got, err := rotated.ParseUnsubscribe(tok, linkNow); err != nil || got != want {
		t.Errorf("after rotation: %+v, %v", got, err)
	}
	other := newKeyring(t, fixedSecret("k2", 2, 32))
	if _, err := other.ParseUnsubscribe(tok, linkNow); !errors.Is(err, ErrLinkInvalid) {
		t.Errorf("without its key: %v, want ErrLinkInvalid", err)
	}
}

func TestParseUnsubscribeRefuses(t *testing.T) {
	k := newKeyring(t, fixedSecret("k1", 1, 32))
	good := k.UnsubscribeToken(Unsubscribe{PartyID: 7, Receipt: "IOE2664081473", Expires: linkNow.Add(time.Hour)})
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// A token sealed by another instance's secret with the same key id.
	forged := newKeyring(t, fixedSecret("k1", 9, 32)).UnsubscribeToken(Unsubscribe{PartyID: 7, Receipt: "IOE2664081473", Expires: linkNow.Add(time.Hour)})
	tests := []struct {
		name, token string
		now         time.Time
		want        error
	}{
		{"empty", "", linkNow, ErrLinkInvalid},
		{"not base64", "%%%", linkNow, ErrLinkInvalid},
		{"padded", good + "==", linkNow, ErrLinkInvalid},
		{"too long", strings.Repeat("A", 300), linkNow, ErrLinkInvalid},
		{"truncated", good[:len(good)-4], linkNow, ErrLinkInvalid},
		{"version changed", flip(0), linkNow, ErrLinkInvalid},
		{"key id changed", flip(2), linkNow, ErrLinkInvalid},
		{"ciphertext changed", flip(len(raw) - 20), linkNow, ErrLinkInvalid},
		{"tag changed", flip(len(raw) - 1), linkNow, ErrLinkInvalid},
		{"forged with another secret", forged, linkNow, ErrLinkInvalid},
		{"sealed code, not a link", base64.RawURLEncoding.EncodeToString(k.Seal("K7M2Q9XH4R")), linkNow, ErrLinkInvalid},
		{"expired at the second", good, linkNow.Add(time.Hour), ErrLinkExpired},
		{"expired long ago", good, linkNow.Add(90 * 24 * time.Hour), ErrLinkExpired},
	}
	for _, tt := range tests {
		if _, err := k.ParseUnsubscribe(tt.token, tt.now); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := k.ParseUnsubscribe(good, linkNow.Add(time.Hour-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
}

func FuzzParseUnsubscribe(f *testing.F) {
	k := newKeyring(f, fixedSecret("k1", 1, 32))
	f.Add(k.UnsubscribeToken(Unsubscribe{PartyID: 1, Receipt: "IOE2664081473", Expires: linkNow.Add(time.Hour)}))
	f.Add("")
	f.Add("AQJrMQ")
	f.Fuzz(func(t *testing.T, token string) {
		u, err := k.ParseUnsubscribe(token, linkNow)
		if err != nil {
			if !errors.Is(err, ErrLinkInvalid) && !errors.Is(err, ErrLinkExpired) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Whatever opens was made here: it seals back to the same meaning.
		if u.PartyID <= 0 || u.Receipt == "" || !linkNow.Before(u.Expires) {
			t.Fatalf("accepted %+v", u)
		}
		again, err := k.ParseUnsubscribe(k.UnsubscribeToken(u), linkNow)
		if err != nil || again != u {
			t.Fatalf("re-sealed %+v: %+v, %v", u, again, err)
		}
	})
}
