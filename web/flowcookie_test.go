package web

import (
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/accesscode"
)

func testSigner(t testing.TB) flowSigner {
	secret, err := accesscode.NewSecret("t1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesscode.NewKeyring([]accesscode.Secret{secret})
	if err != nil {
		t.Fatal(err)
	}
	return func(p string) string { return keys.Tag("flow-cookie", p) }
}

func TestFlowCookieRoundTripAndTampering(t *testing.T) {
	sign := testSigner(t)
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	f := flow{RequestID: "0123456789abcdef0123456789abcdef", ExpiresAt: now.Add(10 * time.Minute),
		ResendAfter: now.Add(30 * time.Second), Until: now.Add(20 * time.Minute)}
	good := f.encode(sign)
	got, ok := decodeFlow(good, sign, now)
	if !ok || got != f {
		t.Fatalf("decode(encode(f)) = %+v, %v; want %+v", got, ok, f)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	other := flow{RequestID: "ffffffffffffffffffffffffffffffff", ExpiresAt: f.ExpiresAt, ResendAfter: f.ResendAfter, Until: f.Until}
	cases := []struct {
		name  string
		value string
		now   time.Time
	}{
		{"request id changed", strings.Replace(good, f.RequestID, other.RequestID, 1), now},
		{"one tag symbol flipped", flip(good, len(good)-1), now},
		{"one payload digit flipped", flip(good, 5), now},
		{"tag removed", good[:strings.LastIndexByte(good, '.')], now},
		{"signed by another key", f.encode(randomFlowSigner()), now},
		{"stale", good, f.Until},
		{"empty", "", now},
		{"only dots", ".....", now},
		{"huge", strings.Repeat("a", 10000), now},
	}
	for _, c := range cases {
		if _, ok := decodeFlow(c.value, sign, c.now); ok {
			t.Errorf("%s: accepted %q", c.name, c.value)
		}
	}
	// The cookie's own expiry pushed out, keeping the old tag.
	longer := f
	longer.Until = f.Until.Add(24 * time.Hour)
	forged := longer.encode(sign)
	forged = forged[:strings.LastIndexByte(forged, '.')] + good[strings.LastIndexByte(good, '.'):]
	if _, ok := decodeFlow(forged, sign, f.Until); ok {
		t.Errorf("accepted a cookie whose expiry was pushed out")
	}
}

func TestLocalPath(t *testing.T) {
	cases := []struct {
		p  string
		ok bool
	}{
		{"/", true},
		{"/request", true},
		{"/processing-times?form=I-485&office=NBC", true},
		{"/?signed_out=1", true},
		{"", false},
		{"request", false},
		{"//evil.example", false},
		{"//evil.example/path", false},
		{`/\evil.example`, false},
		{`/a\b`, false},
		{"https://evil.example/", false},
		{"http:/evil.example", false},
		{"javascript:alert(1)", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/ /evil.example", false},
		{"/%0a", true}, // escaped, stays a path on this site
		{"/" + strings.Repeat("a", 3000), false},
	}
	for _, c := range cases {
		if got := localPath(c.p); got != c.ok {
			t.Errorf("localPath(%q) = %v, want %v", c.p, got, c.ok)
		}
	}
}

func FuzzFlowCookie(f *testing.F) {
	sign := testSigner(f)
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	f.Add(flow{RequestID: "abc", ExpiresAt: now, ResendAfter: now, Until: now.Add(time.Hour)}.encode(sign))
	f.Add("v1.abc.1.2.3.deadbeef")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		got, ok := decodeFlow(value, sign, now)
		if !ok {
			return
		}
		// Whatever is accepted must be exactly what was signed.
		if got.encode(sign) != value {
			t.Fatalf("accepted %q, which is not the canonical signed form", value)
		}
	})
}
