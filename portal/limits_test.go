package portal

import (
	"testing"
	"time"

	"github.com/casegate/casegate"
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

// TestHitJudgesByTheTimeOfTheLock is the burst of a multi-instance test: a
// request that took its time before waiting for a key's lock must not be
// refused because a request that took a later time got the lock first.
func TestHitJudgesByTheTimeOfTheLock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, st := newTestPortal(t, t0)
	p.now = func() time.Time { return t0.Add(time.Millisecond) }
	r := Rate{N: 5, Per: 10 * time.Minute}
	for i := range 5 {
		now := t0 // taken before the lock ...
		if i == 0 {
			now = t0.Add(time.Millisecond) // ... except by the first to get it
		}
		var res limitResult
		err := st.Update(t.Context(), func(tx casegate.Tx) error {
			var err error
			res, err = p.hit(t.Context(), tx, limitRequestsPerIdentifier.key("X"), r, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !res.ok {
			t.Fatalf("event %d of a burst of 5 refused (wait %v)", i, res.wait)
		}
	}
}
