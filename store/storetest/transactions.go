package storetest

import (
	"errors"
	"testing"

	"github.com/casegate/casegate"
)

var transactionTests = []test{
	{"UpdateCommits", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		h.view(func(tx casegate.Tx) error {
			got, err := tx.Party(h.ctx, p.ID)
			if err != nil {
				return err
			}
			same(t, "party after commit", got, p)
			return nil
		})
	}},
	{"UpdateRollsBackOnError", func(t *testing.T, h *harness) {
		boom := errors.New("boom")
		var p casegate.Party
		err := h.s.Update(h.ctx, func(tx casegate.Tx) error {
			p = casegate.Party{GivenName: "Ana", FamilyName: "Ruiz"}
			if err := tx.InsertParty(h.ctx, &p); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want an error wrapping fn's", err)
		}
		h.view(func(tx casegate.Tx) error {
			_, err := tx.Party(h.ctx, p.ID)
			wantNotFound(t, "party of a rolled-back transaction", err)
			return nil
		})
	}},
	{"UpdateRollsBackOnPanic", func(t *testing.T, h *harness) {
		var p casegate.Party
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic in fn did not reach the caller")
				}
			}()
			h.s.Update(h.ctx, func(tx casegate.Tx) error {
				p = casegate.Party{GivenName: "Ana", FamilyName: "Ruiz"}
				if err := tx.InsertParty(h.ctx, &p); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		h.view(func(tx casegate.Tx) error {
			_, err := tx.Party(h.ctx, p.ID)
			wantNotFound(t, "party of a panicked transaction", err)
			return nil
		})
		h.insertParty("Eva", "Soto", "") // the store still takes writes
	}},
	{"ViewIsReadOnly", func(t *testing.T, h *harness) {
		err := h.s.View(h.ctx, func(tx casegate.Tx) error {
			return tx.InsertParty(h.ctx, &casegate.Party{GivenName: "Ana"})
		})
		if err == nil {
			t.Fatal("a write inside View succeeded")
		}
	}},
	{"Ping", func(t *testing.T, h *harness) {
		if err := h.s.Ping(h.ctx); err != nil {
			t.Fatal(err)
		}
	}},
	{"MigrateTwice", func(t *testing.T, h *harness) {
		if err := h.s.Migrate(h.ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		h.insertParty("Ana", "Ruiz", "")
	}},
}
