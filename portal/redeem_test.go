package portal

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// noticeWatcher is an outbox that, each time it is woken, looks in the
// store for what it was woken for: the lockout notices waiting there.
type noticeWatcher struct {
	noOutbox
	t       *testing.T
	st      casegate.Store
	wakes   atomic.Int32
	visible atomic.Int32 // notices found at the last wake
}

func (w *noticeWatcher) Wake() {
	w.wakes.Add(1)
	var n int32
	err := w.st.View(context.Background(), func(tx casegate.Tx) error {
		ds, err := tx.Deliveries(context.Background(), casegate.DeliveryPending, 0)
		for _, d := range ds {
			if d.Template == casegate.TemplateLockoutNotice {
				n++
			}
		}
		return err
	})
	if err != nil {
		w.t.Errorf("wake: read the outbox: %v", err)
	}
	w.visible.Store(n)
}

// lockCounter counts the locks the metrics are told of.
type lockCounter struct {
	casegate.NopMetrics
	locks atomic.Int32
}

func (m *lockCounter) PartyLocked() { m.locks.Add(1) }

// TestRedeemSettlesAfterCommit: a wrong code that locks a person commits
// the attempt, the failure and the lock; the worker is woken only once the
// lockout notice is in the outbox for everyone to see, and the lock is
// counted once. The redemption says what was refused and what the commit
// must be followed by.
func TestRedeemSettlesAfterCommit(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			st, _ := twoInstances(t, db == "postgres")
			keys := testenv.Keyring(t)
			c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
			if _, err := (&Importer{Store: st, Keys: keys}).Import(ctx, strings.NewReader(finishedCase(1, "I-485", "", "NBC", "2026-01-01")), "jsonl", "test", nil); err != nil {
				t.Fatal(err)
			}
			l := DefaultLimits()
			l.PartyFailures = Rate{N: 2, Per: 24 * time.Hour} // the second wrong code locks
			watcher := &noticeWatcher{t: t, st: st}
			metrics := &lockCounter{}
			p, err := New(Deps{Store: st, Keys: keys, Limits: l, Now: c.Now, Outbox: watcher, Metrics: metrics})
			if err != nil {
				t.Fatal(err)
			}
			// A portal without a worker asks for the code, so that its
			// hand-over timer cannot wake the watcher.
			asker, err := New(Deps{Store: st, Keys: keys, Limits: l, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			issued, err := asker.RequestCode(ctx, CodeRequest{ReceiptNumber: "IOE0000000001", GivenName: "P1", FamilyName: "Test",
				DateOfBirth: "1990-01-01", CountryOfBirth: "MX", Channel: "email", ClientIP: "192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
			wrong := "0000000000"

			// The first wrong code: refused, committed, nothing to settle.
			var r redemption
			if err := st.Update(ctx, func(tx casegate.Tx) error {
				var err error
				r, err = p.redeem(ctx, tx, issued.RequestID, wrong, nil, newToken(), c.Now().UTC(), "192.0.2.1")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if r.refused == nil || r.refused.Code != casegate.ECodeIncorrect || r.refused.AttemptsRemaining != l.MaxAttempts-1 {
				t.Fatalf("first wrong code: refused %+v, want code_incorrect with %d left", r.refused, l.MaxAttempts-1)
			}
			if r.locked || r.queued || r.signIn.Token != "" {
				t.Errorf("first wrong code: %+v, want neither a lock, a notice nor a sign-in", r)
			}
			if got := attemptsOf(t, st, issued.RequestID); got != 1 {
				t.Errorf("after a refused code the challenge holds %d attempts, want 1: the refusal rolled back", got)
			}

			// The second locks, through Redeem.
			_, err = p.Redeem(ctx, issued.RequestID, wrong, "192.0.2.1")
			if casegate.ErrorCodeOf(err) != casegate.ECodeIncorrect {
				t.Fatalf("second wrong code: %v, want code_incorrect", err)
			}
			if got := attemptsOf(t, st, issued.RequestID); got != 2 {
				t.Errorf("the challenge holds %d attempts, want 2", got)
			}
			if n := watcher.wakes.Load(); n != 1 {
				t.Fatalf("the worker was woken %d times, want once for the lockout notice", n)
			}
			if n := watcher.visible.Load(); n != 1 {
				t.Errorf("when woken, the worker could see %d lockout notices, want 1: woken before the commit", n)
			}
			if n := metrics.locks.Load(); n != 1 {
				t.Errorf("%d locks counted, want 1", n)
			}
			var party casegate.Party
			if err := st.View(ctx, func(tx casegate.Tx) error {
				ps, err := tx.PartiesByReceipt(ctx, "IOE0000000001")
				if err == nil {
					party = ps[0]
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if !party.Locked(c.Now()) {
				t.Errorf("party %+v not locked after the locking wrong code", party)
			}
		})
	}
}

// attemptsOf reads the attempts counted against a challenge.
func attemptsOf(t *testing.T, st casegate.Store, id string) int {
	t.Helper()
	var ch casegate.Challenge
	if err := st.View(context.Background(), func(tx casegate.Tx) error {
		var err error
		ch, err = tx.Challenge(context.Background(), id)
		return err
	}); err != nil {
		t.Fatal(fmt.Errorf("challenge: %w", err))
	}
	return ch.Attempts
}
