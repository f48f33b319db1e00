package delivery

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		in, want string
		secrets  []string
	}{
		{"sending SMTP RCPT TO command: 550 5.1.1 No such user here, affected recipient(s): jose@example.com",
			"sending SMTP RCPT TO command: 550 5.1.1 No such user here, affected recipient(s): [email]", nil},
		{"affected message ID: <AbC123@host.example>", "affected message ID: <[email]>", nil},
		{"invalid number +15555550123 (code 21211)", "invalid number [number] (code 21211)", nil},
		{"To +1 555 555-0123 failed", "To [number] failed", nil},
		{"account 1234567 blocked", "account [number] blocked", nil},
		{"error 12345 and 123456", "error 12345 and [number]", nil},
		{"421 4.7.0 Try again later", "421 4.7.0 Try again later", nil},
		{"dial tcp 127.0.0.1:2525: connect: connection refused", "dial tcp 127.0.0.1:2525: connect: connection refused", nil},
		{"rejected body with K7M2Q-9XH4R and K7M2Q9XH4R", "rejected body with [code] and [code]", []string{"K7M2Q9XH4R", "K7M2Q-9XH4R"}},
		{"nothing here", "nothing here", []string{""}},
	}
	for _, tt := range tests {
		if got := Redact(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactCapsLength(t *testing.T) {
	got := Redact(strings.Repeat("é", 600))
	if len(got) > maxErrorLen+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("len %d, suffix %q", len(got), got[len(got)-4:])
	}
	if !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\uFFFD') {
		t.Error("cut inside a character")
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("550 to jose@example.com +1 555 555 0123")
	f.Fuzz(func(t *testing.T, s string) {
		got := Redact(s)
		if strings.Contains(got, "@") && emailPattern.MatchString(got) {
			t.Fatalf("Redact(%q) = %q still holds an address", s, got)
		}
		run := 0
		for _, c := range got {
			if c >= '0' && c <= '9' {
				run++
				if run >= 6 {
					t.Fatalf("Redact(%q) = %q still holds six digits in a row", s, got)
				}
			} else {
				run = 0
			}
		}
	})
}
