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
