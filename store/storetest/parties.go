package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// partyByID reads one party and fails the test on an error.
func (h *harness) partyByID(id int64) casegate.Party {
	h.t.Helper()
	var p casegate.Party
	h.view(func(tx casegate.Tx) error {
		var err error
		p, err = tx.Party(h.ctx, id)
		return err
	})
	return p
}

// partyIDs are the ids of ps, in order.
func partyIDs(ps []casegate.Party) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

var partyTests = []test{
	{"Near", func(t *testing.T, h *harness) {
		near := func(from int64) (casegate.Party, error) {
			var p casegate.Party
			err := h.s.Update(h.ctx, func(tx casegate.Tx) (err error) { p, err = tx.PartyNear(h.ctx, from); return })
			return p, err
		}
		if _, err := near(5); !casegate.IsNotFound(err) {
			t.Errorf("PartyNear with no parties: %v, want not found", err)
		}
		a, b, c := h.insertParty("Ana", "Ruiz", ""), h.insertParty("Eva", "Soto", ""), h.insertParty("Luis", "Mora", "")
		for from, want := range map[int64]int64{a.ID - 1: a.ID, b.ID - 1: b.ID, c.ID - 1: c.ID, c.ID: a.ID, c.ID + b.ID - 1: b.ID, 1 << 40: 0} {
			p, err := near(from)
			if err != nil || want != 0 && p.ID != want || want == 0 && p.ID == 0 {
				t.Errorf("PartyNear(%d) = party %d, %v; want %d", from, p.ID, err, want)
			}
		}
	}},
	{"NearReceipt", func(t *testing.T, h *harness) {
		near := func(r string) ([]casegate.Party, bool) {
			var ps []casegate.Party
			var exact bool
			h.view(func(tx casegate.Tx) (err error) { ps, exact, err = tx.PartiesNearReceipt(h.ctx, r); return })
			return ps, exact
		}
		if ps, exact := near(receipt(1)); len(ps) != 0 || exact {
			t.Errorf("no cases on file: %v, exact %v; want none", ps, exact)
		}
		first, third := h.insertCase(receipt(1)), h.insertCase(receipt(3))
		a, b, c := h.insertParty("Ana", "Ruiz", ""), h.insertParty("Eva", "Soto", ""), h.insertParty("Luis", "Mora", "")
		h.update(func(tx casegate.Tx) error {
			for _, l := range []casegate.CaseLink{
				{CaseID: first.ID, PartyID: a.ID, Role: casegate.RoleApplicant},
				{CaseID: third.ID, PartyID: c.ID, Role: casegate.RoleApplicant},
				{CaseID: third.ID, PartyID: b.ID, Role: casegate.RoleBeneficiary},
			} {
				if err := tx.LinkParty(h.ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		for _, tt := range []struct {
			receipt string
			want    []int64
			exact   bool
		}{
			{receipt(1), []int64{a.ID}, true},
			{receipt(3), []int64{b.ID, c.ID}, true},
			{receipt(2), []int64{b.ID, c.ID}, false}, // the next on file
			{receipt(0), []int64{a.ID}, false},
			{receipt(9), []int64{a.ID}, false}, // past the last: the first
		} {
			ps, exact := near(tt.receipt)
			if got := partyIDs(ps); exact != tt.exact || !slices.Equal(got, tt.want) {
				t.Errorf("PartiesNearReceipt(%s) = %v, exact %v; want %v, %v", tt.receipt, got, exact, tt.want, tt.exact)
			}
		}
	}},
	{"NearANumber", func(t *testing.T, h *harness) {
		near := func(n string) ([]casegate.Party, bool) {
			var ps []casegate.Party
			var exact bool
			h.view(func(tx casegate.Tx) (err error) { ps, exact, err = tx.PartiesNearANumber(h.ctx, n); return })
			return ps, exact
		}
		h.insertParty("Sin", "Numero", "")
		if ps, exact := near("A000000005"); len(ps) != 0 || exact {
			t.Errorf("no A-Number on file: %v, exact %v; want none", ps, exact)
		}
		x := h.insertParty("Ana", "Ruiz", "A000000002")
		y := h.insertParty("Eva", "Soto", "A000000004")
		y2 := h.insertParty("Eva", "Soto", "A000000004")
		for _, tt := range []struct {
			n     string
			want  []int64
			exact bool
		}{
			{"A000000002", []int64{x.ID}, true},
			{"A000000004", []int64{y.ID, y2.ID}, true},
			{"A000000003", []int64{y.ID, y2.ID}, false},
			{"A000000009", []int64{x.ID}, false},
		} {
			ps, exact := near(tt.n)
			if got := partyIDs(ps); exact != tt.exact || !slices.Equal(got, tt.want) {
				t.Errorf("PartiesNearANumber(%s) = %v, exact %v; want %v, %v", tt.n, got, exact, tt.want, tt.exact)
			}
		}
	}},
	{"RoundTrip", func(t *testing.T, h *harness) {
		p := casegate.Party{
			GivenName: "José", FamilyName: "García López", DateOfBirth: "1990-04-02", CountryOfBirth: "MX",
			ANumber: "A012345678", Email: "jose@example.com", Phone: "+15555550123", Language: "es",
			LockedUntil: t0.Add(time.Hour), LockedIndefinitely: true, LockCount: 2, ConsecutiveFailures: 17,
		}
		h.update(func(tx casegate.Tx) error { return tx.InsertParty(h.ctx, &p) })
		if p.ID == 0 {
			t.Fatal("InsertParty left ID 0")
		}
		same(t, "party", h.partyByID(p.ID), p)
	}},
	{"UpdateEveryColumn", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "A000000001")
		p = casegate.Party{
			ID: p.ID, GivenName: "Ana María", FamilyName: "Ruiz Díaz", DateOfBirth: "1985-01-31", CountryOfBirth: "CO",
			ANumber: "A000000002", Email: "ana@example.org", Phone: "+5712345678", Language: "en",
			LockedUntil: t0.Add(2 * time.Hour), LockedIndefinitely: true, LockCount: 3, ConsecutiveFailures: 100,
		}
		h.update(func(tx casegate.Tx) error { return tx.UpdateParty(h.ctx, p) })
		same(t, "updated party", h.partyByID(p.ID), p)

		// And back to empty values: unlocked, no A-Number, no contact.
		p = casegate.Party{ID: p.ID, GivenName: "Ana", FamilyName: "Ruiz", Language: "es"}
		h.update(func(tx casegate.Tx) error { return tx.UpdateParty(h.ctx, p) })
		same(t, "cleared party", h.partyByID(p.ID), p)
	}},
	{"ByReceipt", func(t *testing.T, h *harness) {
		c := h.insertCase(receipt(1))
		other := h.insertCase(receipt(2))
		a := h.insertParty("Ana", "Ruiz", "")
		b := h.insertParty("Eva", "Soto", "")
		x := h.insertParty("Luis", "Mora", "")
		h.update(func(tx casegate.Tx) error {
			for _, l := range []casegate.CaseLink{
				{CaseID: c.ID, PartyID: b.ID, Role: casegate.RolePetitioner},
				{CaseID: c.ID, PartyID: a.ID, Role: casegate.RoleBeneficiary},
				{CaseID: other.ID, PartyID: x.ID, Role: casegate.RoleApplicant},
			} {
				if err := tx.LinkParty(h.ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		h.view(func(tx casegate.Tx) error {
			got, err := tx.PartiesByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			same(t, "parties of the case", got, []casegate.Party{a, b})
			none, err := tx.PartiesByReceipt(h.ctx, receipt(3))
			if err != nil {
				return err
			}
			if len(none) != 0 {
				t.Errorf("parties of an unknown case = %v, want none", none)
			}
			return nil
		})
	}},
	{"ByANumber", func(t *testing.T, h *harness) {
		a := h.insertParty("Ana", "Ruiz", "A012345678")
		h.insertParty("Eva", "Soto", "A000000009")
		h.insertParty("Luis", "Mora", "")
		b := h.insertParty("Ana", "Ruiz Díaz", "A012345678") // the same person entered twice
		h.view(func(tx casegate.Tx) error {
			got, err := tx.PartiesByANumber(h.ctx, "A012345678")
			if err != nil {
				return err
			}
			same(t, "parties with the A-Number", got, []casegate.Party{a, b})
			none, err := tx.PartiesByANumber(h.ctx, "")
			if err != nil {
				return err
			}
			if len(none) != 0 {
				t.Errorf("parties with an empty A-Number = %v, want none", none)
			}
			return nil
		})
	}},
}
