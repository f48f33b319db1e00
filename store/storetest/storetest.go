// Package storetest is the conformance suite for casegate.Store: every
// database the store supports must pass Run, so the portal can rely on the same
// behaviour from each.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// Tamperer is implemented by a store under test that can change a stored audit
// event behind the store's back, as an attacker with database access would.
// Run skips the tamper test when the store does not implement it.
type Tamperer interface {
	TamperAudit(ctx context.Context, seq int64) error
}

// Run runs the suite. open must return a fresh, empty store each time it is
// called; Run migrates it and closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) casegate.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Transactions", transactionTests},
		{"Cases", caseTests},
		{"Parties", partyTests},
		{"Challenges", challengeTests},
		{"Rates", rateTests},
		{"Deliveries", deliveryTests},
		{"Sessions", sessionTests},
		{"AdminTokens", adminTokenTests},
		{"Audit", auditTests},
		{"Purge", purgeTests},
		{"NotFound", notFoundTests},
		{"Times", timeTests},
		{"Concurrency", concurrencyTests},
		{"ReadModifyWrite", readModifyWriteTests},
		{"Stats", statsTests},
		{"Bulk", bulkTests},
		{"Offices", officeTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, test := range g.tests {
				t.Run(test.name, func(t *testing.T) {
					test.run(t, newHarness(t, open))
				})
			}
		})
	}
}

// test is one subtest; it gets a fresh store.
type test struct {
	name string
	run  func(*testing.T, *harness)
}

// t0 is the suite's "now": a fixed time, so tests do not depend on the clock.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// harness is one fresh, migrated store and helpers to use it.
type harness struct {
	t    *testing.T
	ctx  context.Context
	s    casegate.Store
	keys *accesscode.Keyring // chains audit events
}

// testKeyring is a keyring of one fixed secret.
func testKeyring(t *testing.T) *accesscode.Keyring {
	t.Helper()
	k, err := accesscode.NewKeyring([]accesscode.Secret{{ID: "k1", Bytes: []byte("storetest secret of thirty-two bytes or more")}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newHarness(t *testing.T, open func(t *testing.T) casegate.Store) *harness {
	t.Helper()
	s := open(t)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return &harness{t: t, ctx: t.Context(), s: s, keys: testKeyring(t)}
}

// update runs fn in Store.Update and fails the test on an error.
func (h *harness) update(fn func(casegate.Tx) error) {
	h.t.Helper()
	if err := h.s.Update(h.ctx, fn); err != nil {
		h.t.Fatalf("Update: %v", err)
	}
}

// view runs fn in Store.View and fails the test on an error.
func (h *harness) view(fn func(casegate.Tx) error) {
	h.t.Helper()
	if err := h.s.View(h.ctx, fn); err != nil {
		h.t.Fatalf("View: %v", err)
	}
}

// insertCase stores a case with receipt and returns it with its ID.
func (h *harness) insertCase(receipt string) casegate.Case {
	h.t.Helper()
	c := casegate.Case{
		ReceiptNumber: receipt,
		FormType:      "I-485",
		Category:      "Family-based",
		Office:        "NBC",
		ReceivedOn:    time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC),
	}
	h.update(func(tx casegate.Tx) error { return tx.InsertCase(h.ctx, &c) })
	return c
}

// insertParty stores a party named given family and returns it with its ID.
func (h *harness) insertParty(given, family, aNumber string) casegate.Party {
	h.t.Helper()
	p := casegate.Party{
		GivenName:      given,
		FamilyName:     family,
		DateOfBirth:    "1990-04-02",
		CountryOfBirth: "MX",
		ANumber:        aNumber,
		Email:          "person@example.com",
		Phone:          "+15555550123",
		Language:       "es",
	}
	h.update(func(tx casegate.Tx) error { return tx.InsertParty(h.ctx, &p) })
	return p
}

// challenge returns a challenge for party (0: a decoy) that expires 10 minutes after t0.
func challenge(id string, partyID int64) casegate.Challenge {
	return casegate.Challenge{
		ID:          id,
		PartyID:     partyID,
		Purpose:     casegate.PurposeSignIn,
		Channel:     casegate.ChannelEmail,
		Language:    "en",
		KeyID:       "k1",
		CodeMAC:     []byte("mac-" + id),
		CreatedAt:   t0,
		ExpiresAt:   t0.Add(10 * time.Minute),
		Sends:       1,
		ResendAfter: t0.Add(30 * time.Second),
	}
}

// insertChallenge stores c.
func (h *harness) insertChallenge(c casegate.Challenge) {
	h.t.Helper()
	h.update(func(tx casegate.Tx) error { return tx.InsertChallenge(h.ctx, c) })
}

// delivery returns a pending code delivery of challengeID to party.
func delivery(challengeID string, partyID int64) casegate.Delivery {
	return casegate.Delivery{
		ChallengeID: challengeID,
		PartyID:     partyID,
		Channel:     casegate.ChannelEmail,
		Destination: "person@example.com",
		Template:    casegate.TemplateAccessCode,
		Language:    "en",
		Params:      map[string]string{"expires": "12:10"},
		SealedCode:  []byte("sealed"),
		Status:      casegate.DeliveryPending,
		CreatedAt:   t0,
	}
}

// enqueue stores d and returns it with its ID.
func (h *harness) enqueue(d casegate.Delivery) casegate.Delivery {
	h.t.Helper()
	h.update(func(tx casegate.Tx) error { return tx.EnqueueDelivery(h.ctx, &d) })
	return d
}

// same fails the test unless got and want are deeply equal.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// wantNotFound fails the test unless err says a row does not exist.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !casegate.IsNotFound(err) {
		t.Errorf("%s: err = %v, want one wrapping casegate.ErrNotFound", what, err)
	}
}

// ids returns the IDs of ds.
func ids[D casegate.Delivery | casegate.ClaimedDelivery](ds []D) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		switch d := any(d).(type) {
		case casegate.Delivery:
			out[i] = d.ID
		case casegate.ClaimedDelivery:
			out[i] = d.ID
		}
	}
	return out
}

// receipt returns the n-th test receipt number.
func receipt(n int) string { return fmt.Sprintf("IOE%010d", n) }
