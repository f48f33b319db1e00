package identity

import (
	"slices"
	"strings"
	"testing"
)

func TestPhoneIn(t *testing.T) {
	good := []struct{ in, region, want string }{
		{"+15555550123", "US", "+15555550123"},
		{"+1 (555) 555-0123", "US", "+15555550123"},
		{"+1 (201) 555-0123", "", "+12015550123"},
		{" +52 55 1234 5678 ", "US", "+525512345678"},
		{"+44.20.7946.0958", "US", "+442079460958"},
		{"+44 7911 123456", "", "+447911123456"},
		{"+39 02 1234 5678", "", "+390212345678"}, // Italy keeps the leading zero
		{"(201) 555-0123", "US", "+12015550123"},  // national numbers in the region
		{"201.555.0123", "us", "+12015550123"},
		{"55 1234 5678", "MX", "+525512345678"},
		{"020 7946 0958", "GB", "+442079460958"},      // the trunk prefix 0 goes
		{"00 52 55 1234 5678", "GB", "+525512345678"}, // the international prefix of the region
		{"011 52 55 1234 5678", "US", "+525512345678"},
		{"+1 555 555 0999", "US", "+15555550999"},                // possible, though in no assigned range
		{"+1\u2011555\u2013555\u20120123", "US", "+15555550123"}, // Unicode dashes
	}
	for _, tt := range good {
		if got, err := PhoneIn(tt.in, tt.region); err != nil || got != tt.want {
			t.Errorf("PhoneIn(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
		}
	}
	bad := []struct{ in, region string }{
		{"", "US"}, {"+", "US"}, {"+1", "US"},
		{"5555550123", ""}, {"(201) 555-0123", ""}, // national without a region
		{"555-0123", "US"}, // only dialable locally
		{"+0123456789", "US"}, {"+1234567", "US"}, {"+123456789012345", "US"}, {"+1234567890123456", "US"},
		{"+999 1234 5678", "US"}, // no such calling code
		{"+1 555 555 0123 ext 4", "US"}, {"+1 555 555 0123;ext=4", "US"},
		{"+1-555-CALL-NOW", "US"}, {"++15555550123", "US"}, {"+1555+5550123", "US"},
		{"+１５５５５５５０１２３", "US"}, {"tel:+15555550123", "US"},
		{"+52 55 1234 5678", "XX"}, // a region that does not exist
		{strings.Repeat("1", 101), "US"},
	}
	for _, tt := range bad {
		if got, err := PhoneIn(tt.in, tt.region); err != ErrPhone {
			t.Errorf("PhoneIn(%q, %q) = %q, %v; want ErrPhone", tt.in, tt.region, got, err)
		}
	}
}

func TestPhoneUsesTheRegion(t *testing.T) {
	t.Cleanup(func() { SetPhoneRegion(DefaultPhoneRegion) })
	if PhoneRegion() != "US" {
		t.Fatalf("default region %q", PhoneRegion())
	}
	if got, err := Phone("(201) 555-0123"); err != nil || got != "+12015550123" {
		t.Fatalf("Phone in the US = %q, %v", got, err)
	}
	if err := SetPhoneRegion(" mx "); err != nil {
		t.Fatal(err)
	}
	if PhoneRegion() != "MX" {
		t.Fatalf("region %q after setting mx", PhoneRegion())
	}
	if got, err := Phone("55 1234 5678"); err != nil || got != "+525512345678" {
		t.Fatalf("Phone in MX = %q, %v", got, err)
	}
	if got, err := Phone("+1 201 555 0123"); err != nil || got != "+12015550123" {
		t.Fatalf("an international number in MX = %q, %v", got, err)
	}
	for _, bad := range []string{"", "U", "USA", "XX", "ZZ", "001"} {
		if err := SetPhoneRegion(bad); err != ErrPhoneRegion {
			t.Errorf("SetPhoneRegion(%q) = %v, want ErrPhoneRegion", bad, err)
		}
	}
	if PhoneRegion() != "MX" {
		t.Fatalf("a refused region changed it to %q", PhoneRegion())
	}
}

func TestPhoneParts(t *testing.T) {
	tests := []struct {
		in     string
		region string
		cc     int
		nsn    string
	}{
		{"+12015550123", "US", 1, "2015550123"},
		{"+15555550123", "US", 1, "5555550123"}, // no known range: the main country of +1
		{"+14165550123", "CA", 1, "4165550123"},
		{"+18765550123", "JM", 1, "8765550123"},
		{"+525512345678", "MX", 52, "5512345678"},
		{"+442079460958", "GB", 44, "2079460958"},
		{"+390212345678", "IT", 39, "0212345678"},
		{"+80012345678", "001", 800, "12345678"},
	}
	for _, tt := range tests {
		got, err := PhoneParts(tt.in)
		if err != nil || got.Region != tt.region || got.CallingCode != tt.cc || got.National != tt.nsn {
			t.Errorf("PhoneParts(%q) = %+v, %v; want %s %d %s", tt.in, got, err, tt.region, tt.cc, tt.nsn)
		}
	}
	for _, bad := range []string{"", "+", "15555550123", "+1 555 555 0123", "+9991234567", "+0123", "+1555555012a"} {
		if got, err := PhoneParts(bad); err != ErrPhone {
			t.Errorf("PhoneParts(%q) = %+v, %v; want ErrPhone", bad, got, err)
		}
	}
}

func TestPhoneKind(t *testing.T) {
	tests := []struct {
		in   string
		want PhoneKind
	}{
		{"+12015550123", PhoneFixedLineOrMobile}, // North America does not tell them apart
		{"+525512345678", PhoneFixedLineOrMobile},
		{"+447911123456", PhoneMobile},
		{"+4915123456789", PhoneMobile},
		{"+442079460958", PhoneFixedLine},
		{"+390212345678", PhoneFixedLine},
		{"+33912345678", PhoneVoIP},
		{"+19005550123", PhonePremiumRate},
		{"+448431234567", PhonePremiumRate},
		{"+18005550123", PhoneTollFree},
		{"+18885550123", PhoneTollFree},
		{"+80012345678", PhoneTollFree}, // the international freephone code
		{"+34901123456", PhoneSharedCost},
		{"+445512345678", PhoneUAN},
		{"+49177991234567", PhoneVoicemail},
		{"+447011234567", PhonePersonal},
		{"+15005550006", PhonePersonal},
		{"+447640123456", PhonePager},
		{"+15555550123", PhoneUnknown}, // possible, in no assigned range
		{"+19995550123", PhoneUnknown},
		{"", PhoneUnknown}, {"+", PhoneUnknown}, {"15555550123", PhoneUnknown}, {"+1 201 555 0123", PhoneUnknown}, {"+1201555012a", PhoneUnknown},
	}
	for _, tt := range tests {
		if got := PhoneKindOf(tt.in); got != tt.want {
			t.Errorf("PhoneKindOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if line, err := PhoneParts(tt.in); err == nil && line.Kind != tt.want {
			t.Errorf("PhoneParts(%q).Kind = %q, want %q", tt.in, line.Kind, tt.want)
		}
	}
	t.Cleanup(func() { SetPhoneRegion(DefaultPhoneRegion) })
	for _, tt := range []struct {
		in, e164 string
		want     PhoneKind
	}{
		{"(900) 555-0123", "+19005550123", PhonePremiumRate},
		{"+44 7911 123456", "+447911123456", PhoneMobile},
		{"1-800-555-0123", "+18005550123", PhoneTollFree},
	} {
		if got, kind, err := PhoneWithKind(tt.in); err != nil || got != tt.e164 || kind != tt.want {
			t.Errorf("PhoneWithKind(%q) = %q, %q, %v; want %q, %q", tt.in, got, kind, err, tt.e164, tt.want)
		}
	}
	if _, _, err := PhoneWithKind("+1-800-CALL-NOW"); err != ErrPhone {
		t.Errorf("PhoneWithKind took letters: %v", err)
	}
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+1 (555) 555-0123", "+0", "5555550123", "+44.20.7946.0958", "00 52 55 1234 5678", "(201) 555-0123", "+80012345678"} {
		f.Add(s, "US")
		f.Add(s, "")
	}
	f.Add("020 7946 0958", "GB")
	for _, s := range []string{"+1 900 555 0123", "+1 800 555 0123", "+33 9 12 34 56 78", "+49 177 99 1234567", "+358 0 123 456"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		out, err := PhoneIn(s, region)
		if err != nil {
			return
		}
		if len(out) < 8 || len(out) > 16 || out[0] != '+' || out[1] == '0' || !allIn(out[1:], '0', '9') {
			t.Fatalf("PhoneIn(%q, %q) = %q, not E.164", s, region, out)
		}
		if again, err := PhoneIn(out, ""); err != nil || again != out {
			t.Fatalf("PhoneIn(%q) = %q, %v; want itself", out, again, err)
		}
		if again, err := PhoneIn(out, "MX"); err != nil || again != out {
			t.Fatalf("PhoneIn(%q, MX) = %q, %v; want itself", out, again, err)
		}
		parts, err := PhoneParts(out)
		if err != nil || parts.Region == "" || parts.CallingCode < 1 || !strings.HasSuffix(out, parts.National) {
			t.Fatalf("PhoneParts(%q) = %+v, %v", out, parts, err)
		}
		// Every way of asking tells the same kind, and it is one of the kinds.
		if kind := PhoneKindOf(out); kind != parts.Kind || !slices.Contains(allKinds, kind) {
			t.Fatalf("PhoneKindOf(%q) = %q, PhoneParts says %q", out, kind, parts.Kind)
		}
		if strings.HasPrefix(strings.TrimSpace(s), "+") { // read alike in every region
			if e164, kind, err := PhoneWithKind(s); err == nil && (e164 != out || kind != parts.Kind) {
				t.Fatalf("PhoneWithKind(%q) = %q, %q; PhoneIn and PhoneParts say %q, %q", s, e164, kind, out, parts.Kind)
			}
		}
	})
}

var allKinds = []PhoneKind{PhoneMobile, PhoneFixedLineOrMobile, PhoneFixedLine, PhoneVoIP, PhoneTollFree, PhonePremiumRate,
	PhoneSharedCost, PhoneUAN, PhoneVoicemail, PhonePersonal, PhonePager, PhoneUnknown}

func BenchmarkPhone(b *testing.B) {
	for _, in := range []string{"+15555550123", "(201) 555-0123", "+44 20 7946 0958"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, err := PhoneIn(in, "US"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPhoneWithKind is what an import pays per phone: the reading
// and the number's type.
func BenchmarkPhoneWithKind(b *testing.B) {
	for _, in := range []string{"+12125550123", "+525555550123", "+44 7911 123456"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := PhoneWithKind(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
