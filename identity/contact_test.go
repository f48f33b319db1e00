package identity

import (
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	good := []struct{ in, want string }{
		{"jose@example.com", "jose@example.com"},
		{"  Jose.Garcia@Example.COM ", "Jose.Garcia@example.com"},
		{"<jose@example.com>", "jose@example.com"},
		{"jose+casegate@mail.example.org", "jose+casegate@mail.example.org"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"josé@ejemplo.es", "josé@ejemplo.es"},
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com"},
	}
	for _, tt := range good {
		if got, err := Email(tt.in); err != nil || got != tt.want {
			t.Errorf("Email(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "jose", "jose@", "@example.com", "jose@example", "jose@@example.com",
		"Jose <jose@example.com>", "jose@example.com, ana@example.com", "jose@[127.0.0.1]",
		"jose@.example.com", "jose@example..com", "jose @example.com", `"jose garcia"@example.com`,
		strings.Repeat("a", 65) + "@example.com",
		"a@" + strings.Repeat("b", 250) + ".com",
	}
	for _, in := range bad {
		if got, err := Email(in); err != ErrEmail {
			t.Errorf("Email(%q) = %q, %v; want ErrEmail", in, got, err)
		}
	}
}

func TestPhone(t *testing.T) {
	good := []struct{ in, want string }{
		{"+15555550123", "+15555550123"},
		{"+1 (555) 555-0123", "+15555550123"},
		{" +52 55 1234 5678 ", "+525512345678"},
		{"+44.20.7946.0958", "+442079460958"},
		{"+1234567", "+1234567"},
		{"+123456789012345", "+123456789012345"},
	}
	for _, tt := range good {
		if got, err := Phone(tt.in); err != nil || got != tt.want {
			t.Errorf("Phone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "+", "5555550123", "(555) 555-0123", "+0123456789", "+123456", "+1234567890123456",
		"+1 555 555 0123 ext 4", "+1-555-CALL-NOW", "++15555550123", "+1555+5550123", "00525512345678",
		"+１５５５５５５０１２３",
	}
	for _, in := range bad {
		if got, err := Phone(in); err != ErrPhone {
			t.Errorf("Phone(%q) = %q, %v; want ErrPhone", in, got, err)
		}
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"jose@example.com", "<A@B.CO>", `"a b"@c.de`, "a@b", "ü@ÜBER.DE", "a(c)@b.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Email(s)
		if err != nil {
			return
		}
		if len(out) > maxEmailLen || strings.TrimSpace(out) != out || !strings.Contains(out, "@") {
			t.Fatalf("Email(%q) = %q", s, out)
		}
		if again, err := Email(out); err != nil || again != out {
			t.Fatalf("Email(%q) = %q, %v; want itself", out, again, err)
		}
	})
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+1 (555) 555-0123", "+0", "5555550123", "+44.20.7946.0958"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Phone(s)
		if err != nil {
			return
		}
		if len(out) < 8 || len(out) > 16 || out[0] != '+' || out[1] == '0' || !allIn(out[1:], '0', '9') {
			t.Fatalf("Phone(%q) = %q, not E.164", s, out)
		}
		if again, err := Phone(out); err != nil || again != out {
			t.Fatalf("Phone(%q) = %q, %v; want itself", out, again, err)
		}
	})
}
