package portal

import (
	"testing"
	"time"
)

func TestGCRA(t *testing.T) {
	r := Rate{N: 5, Per: 10 * time.Minute}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tat time.Time
	// A burst of five is allowed, with the remaining count going down.
	for i := 0; i < 5; i++ {
		next, ok, _, remaining := gcra(tat, now, r)
		if !ok || remaining != 4-i {
			t.Fatalf("event %d: ok=%v remaining=%d, want ok and %d", i, ok, remaining, 4-i)
		}
		tat = next
	}
	// The sixth is refused, with a wait of one interval (2 minutes).
	next, ok, wait, _ := gcra(tat, now, r)
	if ok || wait != 2*time.Minute || !next.Equal(tat) {
		t.Fatalf("sixth: ok=%v wait=%v, want refused for 2m without moving the TAT", ok, wait)
	}
	// After the wait one more is allowed, and then none again.
	now = now.Add(2 * time.Minute)
	if tat, ok, _, _ = gcra(tat, now, r); !ok {
		t.Fatal("refused after waiting")
	}
	if _, ok, _, _ = gcra(tat, now, r); ok {
		t.Fatal("allowed twice after one interval")
	}
	// After a whole window the full burst is back.
	now = now.Add(10 * time.Minute)
	if _, ok, _, remaining := gcra(tat, now, r); !ok || remaining != 4 {
		t.Fatalf("after a window: ok=%v remaining=%d", ok, remaining)
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := DefaultLimits().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := []func(*Limits){
		func(l *Limits) { l.CodeLength = 7 },
		func(l *Limits) { l.CodeLength = 17 },
		func(l *Limits) { l.CodeTTL = 0 },
		func(l *Limits) { l.MaxAttempts = 0 },
		func(l *Limits) { l.RequestsPerIP = Rate{0, time.Minute} },
		func(l *Limits) { l.PartyFailures = Rate{3, 0} },
		func(l *Limits) { l.SessionIdle = -time.Second },
		func(l *Limits) { l.ProcessingMinCases = 0 },
	}
	for i, f := range bad {
		l := DefaultLimits()
		f(&l)
		if l.Validate() == nil {
			t.Errorf("case %d: accepted %+v", i, l)
		}
	}
}

func TestMasks(t *testing.T) {
	cases := []struct{ in, email, phone string }{
		{"jose@example.com", "j•••@example.com", ""},
		{"Ñandu@example.org", "Ñ•••@example.org", ""},
		{"+15555550123", "", "•••• 0123"},
		{"", "", ""},
	}
	for _, c := range cases {
		if c.email != "" || c.in == "" {
			if got := MaskEmail(c.in); got != c.email {
				t.Errorf("MaskEmail(%q) = %q, want %q", c.in, got, c.email)
			}
		}
		if c.phone != "" || c.in == "" {
			if got := MaskPhone(c.in); got != c.phone {
				t.Errorf("MaskPhone(%q) = %q, want %q", c.in, got, c.phone)
			}
		}
	}
}
