package testenv

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int64
	start := time.Now()
	if !Eventually(10*time.Second, func() bool { return calls.Add(1) == 5 }) {
		t.Fatal("Eventually gave up on a condition that held at the fifth call")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("five polls took %v", took)
	}
	if n := calls.Load(); n != 5 {
		t.Errorf("cond called %d times, want 5: no call after it held", n)
	}
}

func TestEventuallyGivesUpAfterWithin(t *testing.T) {
	var calls atomic.Int64
	start := time.Now()
	if Eventually(50*time.Millisecond, func() bool { calls.Add(1); return false }) {
		t.Fatal("Eventually reported a condition that never held")
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("gave up after %v, before the 50ms it was given", took)
	}
	if calls.Load() < 3 {
		t.Errorf("cond called %d times in 50ms, want several", calls.Load())
	}
	// Even with no time at all, cond is asked once.
	if !Eventually(0, func() bool { return true }) {
		t.Error("Eventually(0, true) = false")
	}
}

func TestListenAgainTakesAJustClosedPort(t *testing.T) {
	ln, err := ListenAgain("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	again, err := ListenAgain(addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	defer again.Close()
	if _, err := ListenAgain(addr); err == nil {
		t.Errorf("listened twice on %s", addr)
	}
}

func TestLogBufferKeepsEveryWrite(t *testing.T) {
	var l LogBuffer
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(&l, "g%d-%d\n", g, i)
				_ = l.String() // read while others write (for -race)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(l.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 13, 55, 0, 0, time.UTC)
	c := NewClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v, want %v", c.Now(), t0)
	}
	c.Advance(90 * time.Second)
	if want := t0.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Errorf("after Advance: %v, want %v", c.Now(), want)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("after Set: %v, want %v", c.Now(), t0)
	}
}
