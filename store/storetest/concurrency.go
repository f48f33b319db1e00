package storetest

import (
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
		claimed := make([][]int64, 2)
		noErrors(t, parallel(len(claimed), func(i int) error {
			owner := []string{"w1", "w2"}[i]
			for {
				var batch []casegate.Delivery
				err := h.s.Update(h.ctx, func(tx casegate.Tx) error {
					var err error
					batch, err = tx.ClaimDeliveries(h.ctx, owner, t0, t0.Add(time.Hour), 4)
					return err
				})
				if err != nil || len(batch) == 0 {
					return err
				}
				for _, d := range batch {
					if d.LeaseOwner != owner {
						t.Errorf("%s claimed delivery %d leased to %q", owner, d.ID, d.LeaseOwner)
					}
				}
				claimed[i] = append(claimed[i], ids(batch)...)
			}
		}))
		all := append(slices.Clone(claimed[0]), claimed[1]...)
		slices.Sort(all)
		same(t, "deliveries claimed by both workers together", all, want)

		// Both leases run out: another worker takes everything.
		again := h.claim("w3", t0.Add(time.Hour+time.Second), 100)
		same(t, "claimed after the leases expired", ids(again), want)
	}},
	{"ConcurrentAuditAppendsChain", func(t *testing.T, h *harness) {
		noErrors(t, parallel(20, func(i int) error {
			return h.s.Update(h.ctx, func(tx casegate.Tx) error {
				e := auditEvent(i)
				return tx.AppendAudit(h.ctx, &e)
			})
		}))
		log := h.auditLog()
		if len(log) != 20 {
			t.Fatalf("audit log has %d events, want 20", len(log))
		}
		if seq := casegate.VerifyChain(casegate.GenesisHash, 0, log); seq != 0 {
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
