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

// lockBurst counts n events of one key against 5 per 10 minutes, each in a
// transaction of its own, as the holders of the key's lock one after
// another: the first took its time at t0+1ms, the others at t0 (before
// waiting for the lock). The portal's clock says clock throughout.
func lockBurst(t *testing.T, clock time.Time, n int) []limitResult {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, st := newTestPortal(t, t0)
	p.now = func() time.Time { return clock }
	r := Rate{N: 5, Per: 10 * time.Minute}
	var out []limitResult
	for i := range n {
		now := t0
		if i == 0 {
			now = t0.Add(time.Millisecond)
		}
		err := st.Update(t.Context(), func(tx casegate.Tx) error {
			res, err := p.hit(t.Context(), tx, limitRequestsPerIdentifier.key("X"), r, now)
			out = append(out, res)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestHitJudgesByTheTimeOfTheLock is the burst of a multi-instance test: a
// request that took its time before waiting for a key's lock must not be
// refused because a request that took a later time got the lock first.
func TestHitJudgesByTheTimeOfTheLock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, res := range lockBurst(t, t0.Add(time.Millisecond), 5) {
		if !res.ok {
			t.Fatalf("event %d of a burst of 5 refused (wait %v)", i, res.wait)
		}
	}
}

// TestHitNeverJudgesEarlierThanTheLastHolder is the same burst where even
// the clock, read again, is behind the first request's time (another
// instance's clock, or one read before waiting for the lock): the requests
// after it are judged at the latest time the key was judged at, not earlier.
func TestHitNeverJudgesEarlierThanTheLastHolder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, res := range lockBurst(t, t0, 6) {
		switch {
		case i < 5 && !res.ok:
			t.Fatalf("event %d of a burst of 5 refused (wait %v)", i, res.wait)
		case i < 5 && res.remaining != 4-i:
			t.Errorf("event %d: %d remaining, want %d", i, res.remaining, 4-i)
		case i == 5 && (res.ok || res.wait != 2*time.Minute):
			t.Errorf("the sixth: ok %v, wait %v; want refused for 2m", res.ok, res.wait)
		}
	}
}

// TestHitReadsTheClockAgain: a request that took its time before waiting
// (for a connection, for the transaction) is judged by the clock as it is
// when its hit runs, so a wait that ran out meanwhile lets it go.
func TestHitReadsTheClockAgain(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	p, st := newTestPortal(t, t0)
	p.now = func() time.Time { return clock }
	r := Rate{N: 5, Per: 10 * time.Minute}
	var res limitResult
	for i := range 6 {
		if i == 5 {
			clock = t0.Add(2 * time.Minute) // the sixth's wait has run out by the time its hit runs
		}
		err := st.Update(t.Context(), func(tx casegate.Tx) error {
			var err error
			res, err = p.hit(t.Context(), tx, limitRequestsPerIdentifier.key("X"), r, t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !res.ok {
		t.Errorf("the sixth of 5 per 10 minutes, 2 minutes later by the clock: refused (wait %v)", res.wait)
	}
}
