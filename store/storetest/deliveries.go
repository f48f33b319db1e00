package storetest

import (
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// claim leases up to n deliveries to owner at now for a minute.
func (h *harness) claim(owner string, now time.Time, n int) []casegate.ClaimedDelivery {
	h.t.Helper()
	var ds []casegate.ClaimedDelivery
	h.update(func(tx casegate.Tx) error {
		var err error
		ds, err = tx.ClaimDeliveries(h.ctx, owner, now, now.Add(time.Minute), n)
		return err
	})
	return ds
}

// stored is d as Deliveries lists it: without the lease and the challenge
// state that ClaimDeliveries adds.
func stored(d casegate.ClaimedDelivery) casegate.Delivery {
	return d.Delivery
}

// leaseOf reads the lease delivery id is held under.
func (h *harness) leaseOf(id int64) casegate.Lease {
	h.t.Helper()
	var l casegate.Lease
	h.view(func(tx casegate.Tx) error {
		var err error
		l, err = tx.DeliveryLease(h.ctx, id)
		return err
	})
	return l
}

// deliveryByID reads one delivery through Deliveries.
func (h *harness) deliveryByID(id int64) casegate.Delivery {
	h.t.Helper()
	var all []casegate.Delivery
	h.view(func(tx casegate.Tx) error {
		var err error
		all, err = tx.Deliveries(h.ctx, "", 0)
		return err
	})
	for _, d := range all {
		if d.ID == id {
			return d
		}
	}
	h.t.Fatalf("delivery %d not listed", id)
	return casegate.Delivery{}
}

// setup stores a party with a challenge "req-1" and returns the party's ID.
func (h *harness) setup() int64 {
	h.t.Helper()
	p := h.insertParty("Ana", "Ruiz", "")
	h.insertChallenge(challenge("req-1", p.ID))
	return p.ID
}

var deliveryTests = []test{
	{"EnqueueRoundTrip", func(t *testing.T, h *harness) {
		pid := h.setup()
		d := delivery("req-1", pid)
		d.Attempts = 1
		d.NextAttempt = t0.Add(time.Minute)
		d.LastError = "421 try later"
		d = h.enqueue(d)
		if d.ID == 0 {
			t.Fatal("EnqueueDelivery left ID 0")
		}
		same(t, "delivery", h.deliveryByID(d.ID), d)

		notice := delivery("", pid)
		notice.Template = casegate.TemplateLockoutNotice
		notice.Params = nil
		notice.SealedCode = nil
		notice.Status = ""
		notice = h.enqueue(notice)
		if notice.Status != casegate.DeliveryPending {
			t.Errorf("an empty status became %q, want pending", notice.Status)
		}
		same(t, "notice", h.deliveryByID(notice.ID), notice)
	}},
	{"ClaimDueOnly", func(t *testing.T, h *harness) {
		pid := h.setup()
		due := h.enqueue(delivery("req-1", pid))
		later := delivery("req-1", pid)
		later.NextAttempt = t0.Add(time.Second)
		h.enqueue(later)
		for _, s := range []casegate.DeliveryStatus{casegate.DeliverySent, casegate.DeliveryFailed, casegate.DeliveryCancelled} {
			d := delivery("req-1", pid)
			d.Status, d.SealedCode = s, nil
			h.enqueue(d)
		}
		atNow := delivery("req-1", pid)
		atNow.NextAttempt = t0
		atNow = h.enqueue(atNow)

		got := h.claim("w1", t0, 10)
		same(t, "claimed", ids(got), []int64{due.ID, atNow.ID})
		for _, d := range got {
			if d.Lease.Owner != "w1" || !d.Lease.Until.Equal(t0.Add(time.Minute)) {
				t.Errorf("claimed delivery %d has lease %q until %v", d.ID, d.Lease.Owner, d.Lease.Until)
			}
			if string(d.SealedCode) != "sealed" {
				t.Errorf("claimed delivery %d came without its sealed code", d.ID)
			}
		}
		same(t, "stored lease", h.leaseOf(due.ID).Owner, "w1")
	}},
	{"ClaimCarriesChallengeState", func(t *testing.T, h *harness) {
		pid := h.setup() // req-1: live
		used := challenge("req-used", pid)
		used.ExpiresAt = t0.Add(5 * time.Minute)
		h.insertChallenge(used)
		h.update(func(tx casegate.Tx) error {
			_, err := tx.Consume(h.ctx, "req-used", t0.Add(time.Second))
			return err
		})
		live := h.enqueue(delivery("req-1", pid))
		spent := h.enqueue(delivery("req-used", pid))
		notice := delivery("", pid)
		notice.Template, notice.SealedCode = casegate.TemplateLockoutNotice, nil
		notice = h.enqueue(notice)
		got := h.claim("w1", t0, 10)
		same(t, "claimed", ids(got), []int64{live.ID, spent.ID, notice.ID})
		type state struct {
			Expires time.Time
			Used    bool
		}
		var states []state
		for _, d := range got {
			states = append(states, state{d.ChallengeExpiresAt, d.ChallengeUsed})
		}
		same(t, "challenge states", states, []state{
			{challenge("req-1", pid).ExpiresAt, false},
			{used.ExpiresAt, true},
			{}, // a notice has no challenge
		})
	}},
	{"ClaimLimitOldestFirst", func(t *testing.T, h *harness) {
		pid := h.setup()
		var all []int64
		for range 5 {
			all = append(all, h.enqueue(delivery("req-1", pid)).ID)
		}
		same(t, "first claim", ids(h.claim("w1", t0, 2)), all[:2])
		same(t, "second claim", ids(h.claim("w2", t0, 2)), all[2:4])
		same(t, "third claim", ids(h.claim("w1", t0, 2)), all[4:])
		if got := h.claim("w2", t0, 2); len(got) != 0 {
			t.Errorf("claimed %v with everything leased", ids(got))
		}
	}},
	{"ExpiredLeaseIsClaimable", func(t *testing.T, h *harness) {
		pid := h.setup()
		d := h.enqueue(delivery("req-1", pid))
		h.claim("w1", t0, 1) // leased until t0+1m
		if got := h.claim("w2", t0.Add(59*time.Second), 1); len(got) != 0 {
			t.Fatalf("claimed %v under a live lease", ids(got))
		}
		got := h.claim("w2", t0.Add(61*time.Second), 1)
		same(t, "claim after the lease ran out", ids(got), []int64{d.ID})
		same(t, "new owner", h.leaseOf(d.ID).Owner, "w2")
	}},
	{"EnqueueClaimedIsLeased", func(t *testing.T, h *harness) {
		pid := h.setup()
		d := casegate.ClaimedDelivery{Delivery: delivery("req-1", pid), Lease: casegate.Lease{Owner: "w1", Until: t0.Add(time.Minute)}}
		d.NextAttempt = t0
		h.update(func(tx casegate.Tx) error { return tx.EnqueueClaimed(h.ctx, &d) })
		if d.ID == 0 {
			t.Fatal("EnqueueClaimed left ID 0")
		}
		same(t, "stored delivery", h.deliveryByID(d.ID), stored(d))
		same(t, "stored lease", h.leaseOf(d.ID), d.Lease)
		if got := h.claim("w2", t0.Add(59*time.Second), 1); len(got) != 0 {
			t.Fatalf("claimed %v under the lease it was queued with", ids(got))
		}
		d.Status, d.Attempts, d.SentAt = casegate.DeliverySent, 1, t0.Add(time.Second)
		h.update(func(tx casegate.Tx) error { return tx.FinishDelivery(h.ctx, d) })
		same(t, "status after the owner finished it", h.deliveryByID(d.ID).Status, casegate.DeliverySent)
	}},
	{"FinishSentWipesCode", func(t *testing.T, h *harness) {
		pid := h.setup()
		h.enqueue(delivery("req-1", pid))
		d := h.claim("w1", t0, 1)[0]
		d.Status, d.Attempts, d.SentAt = casegate.DeliverySent, 1, t0.Add(time.Second)
		h.update(func(tx casegate.Tx) error { return tx.FinishDelivery(h.ctx, d) })
		want := stored(d)
		want.SealedCode = nil
		same(t, "sent delivery", h.deliveryByID(d.ID), want)
		same(t, "lease of the sent delivery", h.leaseOf(d.ID), casegate.Lease{})
	}},
	{"FinishFailedWipesCode", func(t *testing.T, h *harness) {
		pid := h.setup()
		h.enqueue(delivery("req-1", pid))
		d := h.claim("w1", t0, 1)[0]
		d.Status, d.Attempts, d.LastError = casegate.DeliveryFailed, 8, "550 no such user"
		h.update(func(tx casegate.Tx) error { return tx.FinishDelivery(h.ctx, d) })
		got := h.deliveryByID(d.ID)
		if got.SealedCode != nil || got.Status != casegate.DeliveryFailed || got.LastError != d.LastError || got.Attempts != 8 {
			t.Errorf("failed delivery = %+v", got)
		}
	}},
	{"FinishPendingKeepsCodeForRetry", func(t *testing.T, h *harness) {
		pid := h.setup()
		h.enqueue(delivery("req-1", pid))
		d := h.claim("w1", t0, 1)[0]
		d.Attempts, d.LastError, d.NextAttempt = 1, "timeout", t0.Add(30*time.Second)
		h.update(func(tx casegate.Tx) error { return tx.FinishDelivery(h.ctx, d) })
		same(t, "delivery to retry", h.deliveryByID(d.ID), stored(d))
		same(t, "lease of the delivery to retry", h.leaseOf(d.ID), casegate.Lease{})
		if got := h.claim("w2", t0.Add(29*time.Second), 1); len(got) != 0 {
			t.Errorf("claimed before its next attempt: %v", ids(got))
		}
		same(t, "claim at the next attempt", ids(h.claim("w2", t0.Add(30*time.Second), 1)), []int64{d.ID})
	}},
	{"FinishByFormerOwnerChangesNothing", func(t *testing.T, h *harness) {
		pid := h.setup()
		h.enqueue(delivery("req-1", pid))
		old := h.claim("w1", t0, 1)[0]
		taken := h.claim("w2", t0.Add(2*time.Minute), 1)[0]
		old.Status, old.SentAt = casegate.DeliverySent, t0.Add(3*time.Minute)
		err := h.s.Update(h.ctx, func(tx casegate.Tx) error { return tx.FinishDelivery(h.ctx, old) })
		wantNotFound(t, "FinishDelivery by the former owner", err)
		same(t, "delivery leased to the new owner", h.deliveryByID(old.ID), stored(taken))
		same(t, "lease of the new owner", h.leaseOf(old.ID), taken.Lease)
	}},
	{"CancelDeliveries", func(t *testing.T, h *harness) {
		pid := h.setup()
		h.insertChallenge(challenge("req-2", pid))
		a := h.enqueue(delivery("req-1", pid))
		b := h.enqueue(delivery("req-1", pid))
		sent := delivery("req-1", pid)
		sent.Status, sent.SealedCode, sent.SentAt = casegate.DeliverySent, nil, t0
		sent = h.enqueue(sent)
		other := h.enqueue(delivery("req-2", pid))
		h.claim("w1", t0, 1) // a is leased: cancelling must not wait for the lease
		h.update(func(tx casegate.Tx) error { return tx.CancelDeliveries(h.ctx, "req-1") })
		for _, d := range []casegate.Delivery{a, b} {
			got := h.deliveryByID(d.ID)
			if got.Status != casegate.DeliveryCancelled || got.SealedCode != nil {
				t.Errorf("delivery %d after cancel: status %s, sealed code kept %v", d.ID, got.Status, got.SealedCode != nil)
			}
		}
		same(t, "sent delivery", h.deliveryByID(sent.ID), sent)
		same(t, "another challenge's delivery", h.deliveryByID(other.ID), other)
	}},
	{"ReleaseLeases", func(t *testing.T, h *harness) {
		pid := h.setup()
		h.enqueue(delivery("req-1", pid))
		h.enqueue(delivery("req-1", pid))
		mine := h.claim("w1", t0, 2)
		h.enqueue(delivery("req-1", pid))
		theirs := h.claim("w2", t0, 1)
		done := mine[0]
		done.Status, done.SentAt = casegate.DeliverySent, t0
		h.update(func(tx casegate.Tx) error { return tx.FinishDelivery(h.ctx, done) })
		var released int
		h.update(func(tx casegate.Tx) error {
			var err error
			released, err = tx.ReleaseLeases(h.ctx, "w1")
			return err
		})
		same(t, "leases handed back", released, 1)
		same(t, "claim after release", ids(h.claim("w3", t0, 5)), []int64{mine[1].ID})
		same(t, "other owner's lease", h.leaseOf(theirs[0].ID).Owner, "w2")
		same(t, "sent delivery", h.deliveryByID(done.ID).Status, casegate.DeliverySent)
	}},
	{"ListByStatusNewestFirst", func(t *testing.T, h *harness) {
		pid := h.setup()
		var failed []int64
		for i := range 4 {
			d := delivery("req-1", pid)
			if i != 2 {
				d.Status, d.SealedCode = casegate.DeliveryFailed, nil
			}
			d = h.enqueue(d)
			if i != 2 {
				failed = append([]int64{d.ID}, failed...)
			}
		}
		h.view(func(tx casegate.Tx) error {
			got, err := tx.Deliveries(h.ctx, casegate.DeliveryFailed, 0)
			if err != nil {
				return err
			}
			same(t, "failed deliveries", ids(got), failed)
			got, err = tx.Deliveries(h.ctx, casegate.DeliveryFailed, 2)
			if err != nil {
				return err
			}
			same(t, "first two failed deliveries", ids(got), failed[:2])
			got, err = tx.Deliveries(h.ctx, "", 0)
			if err != nil {
				return err
			}
			if len(got) != 4 {
				t.Errorf("all deliveries: %d, want 4", len(got))
			}
			return nil
		})
	}},
}
