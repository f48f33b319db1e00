package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// manyRows is more rows than one bulk statement carries, and not a power of
// two, so that a bulk write takes several statements of several sizes.
const manyRows = 300

// newCases returns n cases numbered from first, without IDs.
func newCases(first, n int) []casegate.Case {
	cs := make([]casegate.Case, n)
	for i := range cs {
		cs[i] = casegate.Case{ReceiptNumber: receipt(first + i), FormType: "I-130", Category: "Family-based",
			Office: fmt.Sprintf("O%d", i%7), ReceivedOn: time.Date(2025, 1, 1+i%28, 0, 0, 0, 0, time.UTC)}
	}
	return cs
}

// newParty returns party i, without an ID.
func newParty(i int, aNumber string) casegate.Party {
	return casegate.Party{GivenName: fmt.Sprintf("Given%d", i), FamilyName: "Family", DateOfBirth: "1990-04-02",
		CountryOfBirth: "MX", ANumber: aNumber, Email: fmt.Sprintf("p%d@example.com", i), Language: "es",
		LockedUntil: t0.Add(time.Duration(i) * time.Minute), LockCount: i % 3}
}

var bulkTests = []test{
	{"InsertCasesAndFindTheirIDs", func(t *testing.T, h *harness) {
		before := h.insertCase(receipt(0))
		cs := newCases(1, manyRows)
		h.update(func(tx casegate.Tx) error { return tx.InsertCases(h.ctx, cs) })
		h.view(func(tx casegate.Tx) error {
			seen := map[int64]bool{before.ID: true}
			for _, c := range cs {
				if c.ID == 0 || seen[c.ID] {
					t.Fatalf("InsertCases set ID %d for %s", c.ID, c.ReceiptNumber)
				}
				seen[c.ID] = true
			}
			for _, i := range []int{0, 127, 128, manyRows - 1} {
				got, err := tx.CaseByReceipt(h.ctx, cs[i].ReceiptNumber)
				if err != nil {
					return err
				}
				same(t, "case "+cs[i].ReceiptNumber, got, cs[i])
			}
			receipts := []string{receipt(manyRows + 5), before.ReceiptNumber}
			for _, c := range cs {
				receipts = append(receipts, c.ReceiptNumber)
			}
			ids, err := tx.CaseIDs(h.ctx, receipts)
			if err != nil {
				return err
			}
			want := map[string]int64{before.ReceiptNumber: before.ID}
			for _, c := range cs {
				want[c.ReceiptNumber] = c.ID
			}
			same(t, "CaseIDs", ids, want)
			return nil
		})
	}},
	{"InsertCasesConflicts", func(t *testing.T, h *harness) {
		h.insertCase(receipt(7))
		for name, cs := range map[string][]casegate.Case{
			"on file":     newCases(1, 10),
			"given twice": append(newCases(20, 3), newCases(20, 1)...),
		} {
			err := h.s.Update(h.ctx, func(tx casegate.Tx) error { return tx.InsertCases(h.ctx, cs) })
			if casegate.ErrorCodeOf(err) != casegate.EConflict {
				t.Errorf("%s: InsertCases = %v, want code %s", name, err, casegate.EConflict)
			}
		}
		h.view(func(tx casegate.Tx) error {
			ids, err := tx.CaseIDs(h.ctx, []string{receipt(1), receipt(20)})
			if err != nil {
				return err
			}
			if len(ids) != 0 {
				t.Errorf("after rolled-back conflicts, cases %v are on file", ids)
			}
			return nil
		})
	}},
	{"AddStatusEventsIgnoresDuplicates", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		old := h.addEvents(c.ID, 0)[0]
		es := []casegate.StatusEvent{{CaseID: c.ID, Status: old.Status, At: old.At}} // on file
		for i := range manyRows {
			es = append(es, casegate.StatusEvent{CaseID: c.ID, Status: "s", Title: fmt.Sprint(i % 150), At: t0.Add(time.Duration(i%150) * time.Hour)})
		}
		h.update(func(tx casegate.Tx) error { return tx.AddStatusEvents(h.ctx, es) })
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			if len(got.History) != 151 {
				t.Errorf("%d events stored, want 151", len(got.History))
			}
			return nil
		})
	}},
	{"LinkPartiesLaterRoleWins", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		a := h.insertParty("Ana", "Ruiz", "")
		b := h.insertParty("Eva", "Soto", "")
		h.update(func(tx casegate.Tx) error {
			return tx.LinkParty(h.ctx, casegate.CaseLink{CaseID: c.ID, PartyID: b.ID, Role: casegate.RoleApplicant})
		})
		h.update(func(tx casegate.Tx) error {
			return tx.LinkParties(h.ctx, []casegate.CaseLink{
				{CaseID: c.ID, PartyID: a.ID, Role: casegate.RoleApplicant},
				{CaseID: c.ID, PartyID: b.ID, Role: casegate.RolePetitioner},
				{CaseID: c.ID, PartyID: a.ID, Role: casegate.RoleBeneficiary},
			})
		})
		h.view(func(tx casegate.Tx) error {
			links, err := tx.CaseLinks(h.ctx, c.ID)
			if err != nil {
				return err
			}
			same(t, "links", links, []casegate.CaseLink{
				{CaseID: c.ID, PartyID: a.ID, Role: casegate.RoleBeneficiary},
				{CaseID: c.ID, PartyID: b.ID, Role: casegate.RolePetitioner},
			})
			return nil
		})
	}},
	{"InsertPartiesUnderReservedIDs", func(t *testing.T, h *harness) {
		first := h.insertParty("Ana", "Ruiz", "A000000001")
		var ps []casegate.Party
		var single casegate.Party
		h.update(func(tx casegate.Tx) error {
			ids, err := tx.NewPartyIDs(h.ctx, manyRows)
			if err != nil {
				return err
			}
			if len(ids) != manyRows || !slices.IsSorted(ids) || slices.Contains(ids, first.ID) {
				t.Errorf("NewPartyIDs = %v", ids)
			}
			// A party inserted the usual way meanwhile takes none of them.
			single = newParty(-1, "")
			if err := tx.InsertParty(h.ctx, &single); err != nil {
				return err
			}
			if slices.Contains(ids, single.ID) || single.ID == first.ID {
				t.Errorf("InsertParty took id %d, reserved or taken", single.ID)
			}
			for i, id := range ids {
				p := newParty(i, "")
				if i%2 == 0 {
					p.ANumber = fmt.Sprintf("A%09d", i/4)
				}
				p.ID = id
				ps = append(ps, p)
			}
			return tx.InsertParties(h.ctx, ps)
		})
		// The next transaction counts on from what is on file.
		next := h.insertParty("Eva", "Soto", "")
		if next.ID == 0 || next.ID == single.ID || slices.ContainsFunc(ps, func(p casegate.Party) bool { return p.ID == next.ID }) {
			t.Errorf("a later InsertParty took id %d", next.ID)
		}
		h.view(func(tx casegate.Tx) error {
			for _, i := range []int{0, 129, manyRows - 1} {
				same(t, fmt.Sprintf("party %d", i), h.partyByIDIn(tx, ps[i].ID), ps[i])
			}
			got, err := tx.PartiesByANumbers(h.ctx, []string{"A000000000", "A000000001", "A000000074", "A999999999"})
			if err != nil {
				return err
			}
			want := []casegate.Party{first, ps[0], ps[2], ps[4], ps[6]}
			for _, p := range ps {
				if p.ANumber == "A000000074" {
					want = append(want, p)
				}
			}
			slices.SortFunc(want, func(a, b casegate.Party) int { return int(a.ID - b.ID) })
			same(t, "PartiesByANumbers", got, want)
			return nil
		})
	}},
	{"BulkLoadKeepsTheStoreWorking", func(t *testing.T, h *harness) {
		// An import calls BulkLoad on whatever store it has: each must
		// accept it, commit and read as usual meanwhile, and take it again.
		for round := range 2 {
			done, err := h.s.BulkLoad(h.ctx)
			if err != nil {
				t.Fatalf("round %d: BulkLoad: %v", round, err)
			}
			if done == nil {
				t.Fatalf("round %d: BulkLoad returned no done", round)
			}
			cs := newCases(round*manyRows, manyRows)
			h.update(func(tx casegate.Tx) error { return tx.InsertCases(h.ctx, cs) })
			h.view(func(tx casegate.Tx) error {
				got, err := tx.CaseByReceipt(h.ctx, cs[manyRows-1].ReceiptNumber)
				if err != nil {
					return err
				}
				same(t, "case written during a bulk load", got.ID, cs[manyRows-1].ID)
				return nil
			})
			done()
			h.view(func(tx casegate.Tx) error {
				ids, err := tx.CaseIDs(h.ctx, []string{cs[0].ReceiptNumber, cs[manyRows-1].ReceiptNumber})
				if err != nil {
					return err
				}
				same(t, "cases after the bulk load", len(ids), 2)
				return nil
			})
		}
	}},
}

// partyByIDIn reads one party in tx and fails the test on an error.
func (h *harness) partyByIDIn(tx casegate.Tx, id int64) casegate.Party {
	h.t.Helper()
	p, err := tx.Party(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Party(%d): %v", id, err)
	}
	return p
}
