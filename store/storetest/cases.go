package storetest

import (
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// addEvents adds events to case caseID at the given offsets from t0, with status s0, s1 …
func (h *harness) addEvents(caseID int64, offsets ...time.Duration) []casegate.StatusEvent {
	h.t.Helper()
	var out []casegate.StatusEvent
	h.update(func(tx casegate.Tx) error {
		for i, off := range offsets {
			e := casegate.StatusEvent{CaseID: caseID, Status: "s" + string(rune('0'+i)), At: t0.Add(off)}
			added, err := tx.AddStatusEvent(h.ctx, &e)
			if err != nil {
				return err
			}
			if !added || e.ID == 0 {
				h.t.Errorf("AddStatusEvent = added %v, ID %d; want a new event", added, e.ID)
			}
			out = append(out, e)
		}
		return nil
	})
	return out
}

var caseTests = []test{
	{"InsertAndRead", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		if c.ID == 0 {
			t.Fatal("InsertCase left ID 0")
		}
		// Events out of order; two share a time, so the later id comes first.
		ev := h.addEvents(c.ID, 0, 48*time.Hour, time.Hour, time.Hour)
		c.History = []casegate.StatusEvent{ev[1], ev[3], ev[2], ev[0]}
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			same(t, "case", got, c)
			return nil
		})
	}},
	{"NoHistory", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			if len(got.History) != 0 {
				t.Errorf("History = %v, want none", got.History)
			}
			return nil
		})
	}},
	{"DuplicateReceiptConflicts", func(t *testing.T, h *harness) {
		h.insertCase(receipt(1))
		err := h.s.Update(h.ctx, func(tx casegate.Tx) error {
			return tx.InsertCase(h.ctx, &casegate.Case{ReceiptNumber: receipt(1), FormType: "I-130"})
		})
		if casegate.ErrorCodeOf(err) != casegate.EConflict {
			t.Fatalf("second InsertCase = %v, want code %s", err, casegate.EConflict)
		}
	}},
	{"UpdateCase", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		c.FormType, c.Category, c.Office = "I-765", "", "MSC"
		c.ReceivedOn = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
		h.update(func(tx casegate.Tx) error { return tx.UpdateCase(h.ctx, c) })
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			same(t, "updated case", got, c)
			return nil
		})
	}},
	{"AddStatusEventIgnoresDuplicate", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		first := casegate.StatusEvent{CaseID: c.ID, Status: "custom", Title: "Interview scheduled", At: t0}
		h.update(func(tx casegate.Tx) error {
			added, err := tx.AddStatusEvent(h.ctx, &first)
			if err != nil || !added {
				t.Fatalf("first AddStatusEvent = %v, %v", added, err)
			}
			again := casegate.StatusEvent{CaseID: c.ID, Status: "custom", Title: "Interview scheduled", At: t0}
			added, err = tx.AddStatusEvent(h.ctx, &again)
			if err != nil || added {
				t.Errorf("duplicate AddStatusEvent = %v, %v; want false, nil", added, err)
			}
			if again.ID != first.ID {
				t.Errorf("duplicate got ID %d, want the stored event's %d", again.ID, first.ID)
			}
			other := casegate.StatusEvent{CaseID: c.ID, Status: "custom", Title: "Interview rescheduled", At: t0}
			added, err = tx.AddStatusEvent(h.ctx, &other)
			if err != nil || !added {
				t.Errorf("event with another title = %v, %v; want added", added, err)
			}
			return nil
		})
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			if len(got.History) != 2 {
				t.Errorf("history has %d events, want 2", len(got.History))
			}
			return nil
		})
	}},
	{"AddStatusEventWithAKeyAddsOnce", func(t *testing.T, h *harness) {
		c, other := h.insertCase(receipt(1)), h.insertCase(receipt(2))
		first := casegate.StatusEvent{CaseID: c.ID, Status: "approved", At: t0, IdempotencyKey: "retry-1"}
		h.update(func(tx casegate.Tx) error {
			if added, err := tx.AddStatusEvent(h.ctx, &first); err != nil || !added {
				t.Fatalf("first AddStatusEvent = %v, %v", added, err)
			}
			// A retry made later, its time "now" again: the key makes it the same event.
			retry := casegate.StatusEvent{CaseID: c.ID, Status: "approved", At: t0.Add(time.Minute), IdempotencyKey: "retry-1"}
			added, err := tx.AddStatusEvent(h.ctx, &retry)
			if err != nil || added {
				t.Errorf("retry with the key = %v, %v; want false, nil", added, err)
			}
			same(t, "the retry's event", retry, first)
			// The key used for another event: the stored event comes back, for the caller to refuse.
			reuse := casegate.StatusEvent{CaseID: c.ID, Status: "denied", At: t0, IdempotencyKey: "retry-1"}
			if added, err := tx.AddStatusEvent(h.ctx, &reuse); err != nil || added || reuse.Status != "approved" {
				t.Errorf("the key reused for another event = %v, %v, %+v; want the stored event", added, err, reuse)
			}
			// Another key, the same event: still one event, the stored one with its own key.
			again := casegate.StatusEvent{CaseID: c.ID, Status: "approved", At: t0, IdempotencyKey: "retry-2"}
			if added, err := tx.AddStatusEvent(h.ctx, &again); err != nil || added {
				t.Errorf("the same event under another key = %v, %v; want false, nil", added, err)
			}
			same(t, "the same event under another key", again, first)
			// Keys are per case.
			elsewhere := casegate.StatusEvent{CaseID: other.ID, Status: "approved", At: t0, IdempotencyKey: "retry-1"}
			if added, err := tx.AddStatusEvent(h.ctx, &elsewhere); err != nil || !added {
				t.Errorf("the key on another case = %v, %v; want added", added, err)
			}
			return nil
		})
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			if len(got.History) != 1 {
				t.Errorf("history has %d events, want 1: %+v", len(got.History), got.History)
			}
			return nil
		})
	}},
	{"CasesForParty", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		other := h.insertParty("Eva", "Soto", "")
		later := h.insertCase(receipt(9))
		earlier := h.insertCase(receipt(2))
		unlinked := h.insertCase(receipt(5))
		h.update(func(tx casegate.Tx) error {
			for _, l := range []casegate.CaseLink{
				{CaseID: later.ID, PartyID: p.ID, Role: casegate.RoleApplicant},
				{CaseID: earlier.ID, PartyID: p.ID, Role: casegate.RoleBeneficiary},
				{CaseID: unlinked.ID, PartyID: other.ID, Role: casegate.RoleApplicant},
				{CaseID: later.ID, PartyID: other.ID, Role: casegate.RolePetitioner},
			} {
				if err := tx.LinkParty(h.ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		ev := h.addEvents(later.ID, 0, time.Hour)
		later.History = []casegate.StatusEvent{ev[1], ev[0]}
		h.addEvents(unlinked.ID, 0)
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CasesForParty(h.ctx, p.ID)
			if err != nil {
				return err
			}
			same(t, "cases", got, []casegate.Case{earlier, later})
			none, err := tx.CasesForParty(h.ctx, 999)
			if err != nil {
				return err
			}
			if len(none) != 0 {
				t.Errorf("cases of an unknown party = %v, want none", none)
			}
			return nil
		})
	}},
	{"CaseLinksAndRoleUpsert", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		a := h.insertParty("Ana", "Ruiz", "")
		b := h.insertParty("Eva", "Soto", "")
		h.update(func(tx casegate.Tx) error {
			for _, l := range []casegate.CaseLink{
				{CaseID: c.ID, PartyID: b.ID, Role: casegate.RoleRepresentative},
				{CaseID: c.ID, PartyID: a.ID, Role: casegate.RoleBeneficiary},
				{CaseID: c.ID, PartyID: a.ID, Role: casegate.RoleApplicant}, // changes the role
			} {
				if err := tx.LinkParty(h.ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseLinks(h.ctx, c.ID)
			if err != nil {
				return err
			}
			same(t, "links", got, []casegate.CaseLink{
				{CaseID: c.ID, PartyID: a.ID, Role: casegate.RoleApplicant},
				{CaseID: c.ID, PartyID: b.ID, Role: casegate.RoleRepresentative},
			})
			return nil
		})
	}},
}
