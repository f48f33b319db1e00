package portal

import (
	"fmt"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// TestRecordDeliveriesWritesRowsAndAuditEvents: what the worker reports
// becomes each row's new state and one audit event, in one transaction; a
// delivery whose lease passed to another worker keeps its row and gets no
// event, and the chain still holds.
func TestRecordDeliveriesWritesRowsAndAuditEvents(t *testing.T) {
	ctx := t.Context()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p, err := New(Deps{Store: st, Keys: keys, Limits: DefaultLimits(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var claimed []casegate.ClaimedDelivery
	err = st.Update(ctx, func(tx casegate.Tx) error {
		party := casegate.Party{GivenName: "Ana", FamilyName: "P", DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Email: "ana@example.com", Language: "en"}
		if err := tx.InsertParty(ctx, &party); err != nil {
			return err
		}
		for range 5 {
			d := casegate.Delivery{PartyID: party.ID, Channel: casegate.ChannelEmail, Destination: party.Email,
				Template: casegate.TemplateLockoutNotice, Language: "en", SealedCode: []byte("sealed"), NextAttempt: now, CreatedAt: now}
			if err := tx.EnqueueDelivery(ctx, &d); err != nil {
				return err
			}
		}
		claimed, err = tx.ClaimDeliveries(ctx, "w1", now, now.Add(time.Minute), 5)
		return err
	})
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	lost := claimed[4]
	lost.Lease.Owner = "w0" // the lease passed on: FinishDelivery by w0 finds nothing
	retryAt := now.Add(time.Minute)
	outs := []casegate.DeliveryOutcome{
		{Delivery: claimed[0], Result: casegate.DeliverySentResult, Reason: "ok", Attempted: true},
		{Delivery: claimed[1], Result: casegate.DeliveryRetryResult, Reason: "transient_error", Attempted: true, Error: "timeout", RetryAt: retryAt},
		{Delivery: claimed[2], Result: casegate.DeliveryFailedResult, Reason: "permanent_error", Attempted: true, Error: "550 no such user"},
		{Delivery: claimed[3], Result: casegate.DeliveryCancelledResult, Reason: "challenge_gone"},
		{Delivery: lost, Result: casegate.DeliverySentResult, Reason: "ok", Attempted: true},
	}
	recorded, err := p.RecordDeliveries(ctx, outs)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(recorded) != "[true true true true false]" {
		t.Errorf("recorded %v, want all but the lost one", recorded)
	}

	type row struct {
		Status      casegate.DeliveryStatus
		Attempts    int
		LastError   string
		Sealed      bool
		NextAttempt time.Time
		SentAt      time.Time
	}
	want := []row{
		{casegate.DeliverySent, 1, "", false, now, now},
		{casegate.DeliveryPending, 1, "timeout", true, retryAt, time.Time{}},
		{casegate.DeliveryFailed, 1, "550 no such user", false, now, time.Time{}},
		{casegate.DeliveryCancelled, 0, "challenge_gone", false, now, time.Time{}},
		{casegate.DeliveryPending, 0, "", true, now, time.Time{}}, // untouched
	}
	var ds []casegate.Delivery
	var leases []casegate.Lease
	err = st.View(ctx, func(tx casegate.Tx) error {
		var err error
		if ds, err = tx.Deliveries(ctx, "", 0); err != nil {
			return err
		}
		for _, c := range claimed {
			l, err := tx.DeliveryLease(ctx, c.ID)
			if err != nil {
				return err
			}
			leases = append(leases, l)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]casegate.Delivery{}
	for _, d := range ds {
		byID[d.ID] = d
	}
	for i, c := range claimed {
		d := byID[c.ID]
		got := row{d.Status, d.Attempts, d.LastError, d.SealedCode != nil, d.NextAttempt, d.SentAt}
		if got != want[i] {
			t.Errorf("delivery %d (%s): %+v, want %+v", i, outs[i].Result, got, want[i])
		}
		if wantLease := (i == 4); (leases[i].Owner == "w1") != wantLease {
			t.Errorf("delivery %d: lease %+v after recording", i, leases[i])
		}
	}

	events, err := p.AuditEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%s %s %s %s %s/%s/%s", e.Actor, e.Action, e.Target, e.Outcome,
			e.Details["channel"], e.Details["template"], e.Details["attempt"]))
		if !e.At.Equal(now) {
			t.Errorf("event %d at %v, want %v", e.Seq, e.At, now)
		}
	}
	var wantEvents []string
	for i, o := range outs[:4] {
		wantEvents = append(wantEvents, fmt.Sprintf("system delivery.%s delivery:%d %s email/lockout_notice/%d",
			o.Result, claimed[i].ID, o.Reason, want[i].Attempts))
	}
	if fmt.Sprint(got) != fmt.Sprint(wantEvents) {
		t.Errorf("audit events:\n%q\nwant\n%q", got, wantEvents)
	}
	if r, err := p.VerifyAudit(ctx, nil); err != nil || !r.Intact() || r.Events != 4 {
		t.Errorf("verify: %+v, %v; want 4 events intact", r, err)
	}
}
