package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// parallel runs fn(i) for i in [0, n) on n goroutines that start together, and
// returns their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// noErrors fails the test for every non-nil error.
func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}

var concurrencyTests = []test{
	{"ConsumeHasOneWinner", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		h.insertChallenge(challenge("req-1", p.ID))
		won := make([]bool, 50)
		noErrors(t, parallel(len(won), func(i int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				var err error
				won[i], err = tx.Consume(h.ctx, "req-1", t0.Add(time.Duration(i)*time.Millisecond))
				return err
			})
		}))
		winners := 0
		for _, w := range won {
			if w {
				winners++
			}
		}
		if winners != 1 {
			t.Errorf("%d of 50 concurrent Consume calls won, want exactly 1", winners)
		}
	}},
	{"CountAttemptCountsAll", func(t *testing.T, h *harness) {
		h.insertChallenge(challenge("req-1", 0))
		seen := make([]int, 50)
		noErrors(t, parallel(len(seen), func(i int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				c, err := tx.CountAttempt(h.ctx, "req-1")
				seen[i] = c.Attempts
				return err
			})
		}))
		if got := h.challengeByID("req-1").Attempts; got != 50 {
			t.Errorf("attempts after 50 concurrent CountAttempt calls = %d, want 50", got)
		}
		slices.Sort(seen)
		for i, n := range seen {
			if n != i+1 {
				t.Errorf("CountAttempt results %v: want each of 1…50 once", seen)
				break
			}
		}
	}},
	{"ClaimersGetDisjointDeliveries", func(t *testing.T, h *harness) {
		pid := h.setup()
		var want []int64
		for range 30 {
			want = append(want, h.enqueue(delivery("req-1", pid)).ID)
		}
		claimed := make([][]int64, 4)
		noErrors(t, parallel(len(claimed), func(i int) error {
			owner := fmt.Sprintf("w%d", i+1)
			for {
				var batch []casegate.ClaimedDelivery
				err := h.s.Update(h.ctx, func(tx casegate.Tx) error {
					var err error
					batch, err = tx.ClaimDeliveries(h.ctx, owner, t0, t0.Add(time.Hour), 4)
					return err
				})
				if err != nil || len(batch) == 0 {
					return err
				}
				for _, d := range batch {
					if d.Lease.Owner != owner {
						t.Errorf("%s claimed delivery %d leased to %q", owner, d.ID, d.Lease.Owner)
					}
				}
				claimed[i] = append(claimed[i], ids(batch)...)
			}
		}))
		all := slices.Concat(claimed...)
		slices.Sort(all)
		same(t, "deliveries claimed by the workers together", all, want)

		// The leases run out: another worker takes everything.
		again := h.claim("w9", t0.Add(time.Hour+time.Second), 100)
		same(t, "claimed after the leases expired", ids(again), want)
	}},
	{"ReplaceProcessingTimesTogether", func(t *testing.T, h *harness) {
		// Every instance recomputes processing times on its own schedule;
		// replacements that overlap must not trip over each other's rows.
		pts := func(i int) []casegate.ProcessingTime {
			return []casegate.ProcessingTime{
				{FormType: "I-485", Office: "NBC", MedianDays: i, P80Days: i + 1, Cases: 10, ComputedAt: t0},
				{FormType: "I-765", Office: "MSC", MedianDays: i, P80Days: i + 1, Cases: 10, ComputedAt: t0},
			}
		}
		noErrors(t, parallel(10, func(i int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error { return tx.ReplaceProcessingTimes(h.ctx, pts(i)) })
		}))
		h.view(func(tx casegate.Tx) error {
			got, err := tx.ProcessingTimes(h.ctx)
			if err == nil && (len(got) != 2 || got[0].MedianDays != got[1].MedianDays) {
				t.Errorf("after 10 concurrent replacements: %+v, want the two rows of one of them", got)
			}
			return err
		})
	}},
	{"ConcurrentAuditAppendsChain", func(t *testing.T, h *harness) {
		noErrors(t, parallel(20, func(i int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				e := auditEvent(i)
				return tx.AppendAudit(h.ctx, &e, h.keys)
			})
		}))
		log := h.auditLog()
		if len(log) != 20 {
			t.Fatalf("audit log has %d events, want 20", len(log))
		}
		if seq := casegate.VerifyChain(h.keys, casegate.GenesisHash, 0, log); seq != 0 {
			t.Errorf("VerifyChain names event %d of 20 concurrent appends", seq)
		}
		targets := map[string]bool{}
		for _, e := range log {
			targets[e.Target] = true
		}
		if len(targets) != 20 {
			t.Errorf("%d distinct events in the log, want 20", len(targets))
		}
	}},
}

// The read-modify-write tests below are what portal does with limits,
// lockout state and resends: read a row inside Update, change it in Go,
// write it back. Where transactions run side by side (PostgreSQL), the read
// must lock the row, or two transactions read the same value and one write
// is lost.
var readModifyWriteTests = []test{
	{"RateOfNewKeyTakesTurns", func(t *testing.T, h *harness) {
		noErrors(t, parallel(50, func(int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				tat, err := tx.RateTAT(h.ctx, "req-id:new")
				if err != nil {
					return err
				}
				if tat.IsZero() {
					tat = t0
				}
				return tx.SetRateTAT(h.ctx, "req-id:new", tat.Add(time.Second))
			})
		}))
		var got time.Time
		h.view(func(tx casegate.Tx) error {
			var err error
			got, err = tx.RateTAT(h.ctx, "req-id:new")
			return err
		})
		if want := t0.Add(50 * time.Second); !got.Equal(want) {
			t.Errorf("after 50 concurrent hits on a new key the TAT is %v, want t0+50s: %v lost", got, want.Sub(got))
		}
	}},
	{"HitRateOfNewKeyTakesTurns", func(t *testing.T, h *harness) {
		// 50 requests at once on a new key with room for 40: exactly 40 go,
		// whichever the order, and none is lost.
		allowed := make([]bool, 50)
		noErrors(t, parallel(50, func(i int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				got, err := tx.HitRate(h.ctx, "req-id:burst", t0, time.Second, 40*time.Second)
				allowed[i] = err == nil && !got.TAT.Equal(got.Prev)
				return err
			})
		}))
		n := 0
		for _, ok := range allowed {
			if ok {
				n++
			}
		}
		var got time.Time
		h.view(func(tx casegate.Tx) error {
			var err error
			got, err = tx.RateTAT(h.ctx, "req-id:burst")
			return err
		})
		if n != 40 || !got.Equal(t0.Add(40*time.Second)) {
			t.Errorf("50 concurrent hits with room for 40: %d allowed and the TAT t0+%v, want 40 and t0+40s", n, got.Sub(t0))
		}
	}},
	{"PartyReadInUpdateTakesTurns", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		noErrors(t, parallel(50, func(int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				got, err := tx.Party(h.ctx, p.ID)
				if err != nil {
					return err
				}
				got.ConsecutiveFailures++
				return tx.UpdateParty(h.ctx, got)
			})
		}))
		h.view(func(tx casegate.Tx) error {
			got, err := tx.Party(h.ctx, p.ID)
			if err == nil && got.ConsecutiveFailures != 50 {
				t.Errorf("after 50 concurrent read-modify-writes ConsecutiveFailures = %d, want 50", got.ConsecutiveFailures)
			}
			return err
		})
	}},
	{"ChallengeReadInUpdateTakesTurns", func(t *testing.T, h *harness) {
		h.insertChallenge(challenge("req-1", 0))
		noErrors(t, parallel(50, func(int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				c, err := tx.Challenge(h.ctx, "req-1")
				if err != nil {
					return err
				}
				c.Sends++
				return tx.ReplaceCode(h.ctx, c)
			})
		}))
		if got := h.challengeByID("req-1").Sends; got != 51 {
			t.Errorf("after 50 concurrent resends Sends = %d, want 51", got)
		}
	}},
	{"ViewDoesNotLock", func(t *testing.T, h *harness) {
		// A read-only transaction reads rows that an Update holds, without waiting.
		p := h.insertParty("Ana", "Ruiz", "")
		h.insertChallenge(challenge("req-1", p.ID))
		inside, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- h.s.Update(h.ctx, func(tx casegate.Tx) error {
				if _, err := tx.Party(h.ctx, p.ID); err != nil {
					return err
				}
				if _, err := tx.Challenge(h.ctx, "req-1"); err != nil {
					return err
				}
				close(inside)
				<-release
				return nil
			})
		}()
		<-inside
		ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
		err := h.s.View(ctx, func(tx casegate.Tx) error {
			if _, err := tx.Party(ctx, p.ID); err != nil {
				return err
			}
			_, err := tx.Challenge(ctx, "req-1")
			return err
		})
		cancel()
		close(release)
		if err != nil {
			t.Errorf("View while an Update holds the rows: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}},
}
