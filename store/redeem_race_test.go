package store_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
)

// TestConcurrentCorrectRedeems drives the portal, not just the store: one
// code is requested, then 50 goroutines, each its own client, redeem the
// right code at once. Exactly one gets a session; every other is told the
// code was used. It runs on both databases; on PostgreSQL the 50 run in 50
// transactions side by side.
func TestConcurrentCorrectRedeems(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(t *testing.T) casegate.Store
	}{
		{"SQLite", func(t *testing.T) casegate.Store {
			s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "casegate.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"Postgres", openPostgres},
	} {
		t.Run(db.name, func(t *testing.T) {
			s := db.open(t)
			defer s.Close()
			concurrentRedeems(t, s, 50)
		})
	}
}

func concurrentRedeems(t *testing.T, s casegate.Store, n int) {
	ctx := t.Context()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret, err := accesscode.NewSecret("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesscode.NewKeyring([]accesscode.Secret{secret})
	if err != nil {
		t.Fatal(err)
	}
	p, err := portal.New(portal.Deps{Store: s, Keys: keys, Limits: portal.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}

	err = s.Update(ctx, func(tx casegate.Tx) error {
		c := casegate.Case{ReceiptNumber: "IOE0912345678", FormType: "I-485", Office: "NBC",
			ReceivedOn: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)}
		if err := tx.InsertCase(ctx, &c); err != nil {
			return err
		}
		party := casegate.Party{GivenName: "José", FamilyName: "García López", DateOfBirth: "1990-04-02",
			CountryOfBirth: "MX", Email: "jose@example.com", Language: "es"}
		if err := tx.InsertParty(ctx, &party); err != nil {
			return err
		}
		return tx.LinkParty(ctx, casegate.CaseLink{CaseID: c.ID, PartyID: party.ID, Role: casegate.RoleApplicant})
	})
	if err != nil {
		t.Fatal(err)
	}
	issued, err := p.RequestCode(ctx, portal.CodeRequest{
		ReceiptNumber: "IOE0912345678", GivenName: "Jose", FamilyName: "Garcia Lopez",
		DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: "email", ClientIP: "192.0.2.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	var code string
	err = s.View(ctx, func(tx casegate.Tx) error {
		ds, err := tx.Deliveries(ctx, casegate.DeliveryPending, 0)
		if err != nil {
			return err
		}
		if len(ds) != 1 {
			return fmt.Errorf("%d deliveries queued, want 1", len(ds))
		}
		code, err = keys.Open(ds[0].SealedCode)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = p.Redeem(ctx, issued.RequestID, code, fmt.Sprintf("198.51.100.%d", i+1))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case casegate.ErrorCodeOf(err) != casegate.ECodeUsed:
			t.Errorf("redeem %d: %v, want a session or %s", i, err, casegate.ECodeUsed)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent correct redeems got a session, want exactly 1", won, n)
	}
	r, err := p.VerifyAudit(ctx, nil)
	if err != nil || r.Broken != 0 || r.Events < n+1 {
		t.Errorf("audit after the race: %d events, first broken %d (%s), err %v; want %d+ events, none broken", r.Events, r.Broken, r.Why, err, n+1)
	}
}
