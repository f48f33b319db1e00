package storetest

import (
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// event adds one event with a status at t0+off to a case.
func (h *harness) event(caseID int64, status string, off time.Duration) {
	h.t.Helper()
	h.update(func(tx casegate.Tx) error {
		_, err := tx.AddStatusEvent(h.ctx, &casegate.StatusEvent{CaseID: caseID, Status: status, At: t0.Add(off)})
		return err
	})
}

var statsTests = []test{
	{"CompletionsTakeTheFirstTerminalEvent", func(t *testing.T, h *harness) {
		done := h.insertCase(receipt(1))
		h.event(done.ID, "received", 0)
		h.event(done.ID, "approved", 10*24*time.Hour)
		h.event(done.ID, "card_mailed", 20*24*time.Hour)
		open := h.insertCase(receipt(2))
		h.event(open.ID, "received", 0)
		old := h.insertCase(receipt(3))
		h.event(old.ID, "denied", -400*24*time.Hour)
		var got []casegate.Completion
		h.view(func(tx casegate.Tx) error {
			return tx.Completions(h.ctx, t0.Add(-180*24*time.Hour), []string{"approved", "denied", "card_mailed"}, func(c casegate.Completion) error {
				got = append(got, c)
				return nil
			})
		})
		if len(got) != 1 {
			t.Fatalf("completions = %+v, want only the case finished in the window", got)
		}
		if !got[0].CompletedAt.Equal(t0.Add(10*24*time.Hour)) || got[0].FormType != done.FormType || !got[0].ReceivedOn.Equal(done.ReceivedOn) {
			t.Errorf("completion = %+v, want the first terminal event of %+v", got[0], done)
		}
	}},
	{"ProcessingTimesAreReplacedWhole", func(t *testing.T, h *harness) {
		first := []casegate.ProcessingTime{
			{FormType: "I-485", Category: "Family-based", Office: "NBC", MedianDays: 200, P80Days: 300, Cases: 12, ComputedAt: t0},
			{FormType: "I-765", Office: "MSC", MedianDays: 90, P80Days: 120, Cases: 3, ComputedAt: t0},
		}
		h.update(func(tx casegate.Tx) error { return tx.ReplaceProcessingTimes(h.ctx, first) })
		second := first[1:]
		h.update(func(tx casegate.Tx) error { return tx.ReplaceProcessingTimes(h.ctx, second) })
		h.view(func(tx casegate.Tx) error {
			got, err := tx.ProcessingTimes(h.ctx)
			if err != nil {
				return err
			}
			same(t, "processing times", got, second)
			return nil
		})
	}},
	{"Subscriptions", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		a := h.insertParty("Ana", "Smith", "")
		b := h.insertParty("Bo", "Lee", "")
		h.view(func(tx casegate.Tx) error {
			s, err := tx.Subscription(h.ctx, a.ID, c.ID)
			same(t, "no subscription", s, casegate.Subscription{PartyID: a.ID, CaseID: c.ID})
			return err
		})
		h.update(func(tx casegate.Tx) error {
			if err := tx.SetSubscription(h.ctx, casegate.Subscription{PartyID: a.ID, CaseID: c.ID, Email: true}); err != nil {
				return err
			}
			if err := tx.SetSubscription(h.ctx, casegate.Subscription{PartyID: b.ID, CaseID: c.ID, SMS: true}); err != nil {
				return err
			}
			return tx.SetSubscription(h.ctx, casegate.Subscription{PartyID: a.ID, CaseID: c.ID, Email: true, SMS: true})
		})
		h.view(func(tx casegate.Tx) error {
			subs, err := tx.Subscriptions(h.ctx, c.ID)
			same(t, "subscriptions", subs, []casegate.Subscription{
				{PartyID: a.ID, CaseID: c.ID, Email: true, SMS: true}, {PartyID: b.ID, CaseID: c.ID, SMS: true}})
			return err
		})
		h.update(func(tx casegate.Tx) error {
			return tx.SetSubscription(h.ctx, casegate.Subscription{PartyID: b.ID, CaseID: c.ID})
		})
		h.view(func(tx casegate.Tx) error {
			subs, err := tx.Subscriptions(h.ctx, c.ID)
			if len(subs) != 1 || subs[0].PartyID != a.ID {
				t.Errorf("after unsubscribing b: %+v", subs)
			}
			return err
		})
	}},
	{"CountDeliveries", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Smith", "")
		for range 3 {
			h.enqueue(delivery("", p.ID))
		}
		h.view(func(tx casegate.Tx) error {
			n, err := tx.CountDeliveries(h.ctx, casegate.DeliveryPending)
			if n != 3 {
				t.Errorf("pending = %d, want 3", n)
			}
			m, _ := tx.CountDeliveries(h.ctx, casegate.DeliverySent)
			if m != 0 {
				t.Errorf("sent = %d, want 0", m)
			}
			return err
		})
	}},
}
