package storetest

import (
	"testing"
	"time"

	"github.com/casegate/casegate"
)

var purgeTests = []test{
	{"Purge", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		cutoff := t0.Add(time.Hour)
		old := challenge("req-old", p.ID) // expires at t0+10m
		fresh := challenge("req-fresh", p.ID)
		fresh.ExpiresAt = cutoff.Add(time.Minute)
		decoy := challenge("req-decoy", 0)
		h.insertChallenge(old)
		h.insertChallenge(fresh)
		h.insertChallenge(decoy)
		unsent := h.enqueue(delivery(old.ID, p.ID))
		keep := h.enqueue(delivery(fresh.ID, p.ID))
		decoyRow := delivery(decoy.ID, 0)
		decoyRow.Status, decoyRow.SealedCode, decoyRow.Destination = casegate.DeliveryCancelled, nil, ""
		decoyRow = h.enqueue(decoyRow)
		// Finished notices: one made before the destination cutoff, one before the deletion cutoff.
		scrub, gone := delivery("", p.ID), delivery("", p.ID)
		scrub.Status, scrub.SealedCode, scrub.LastError = casegate.DeliveryFailed, nil, "550 person@example.com unknown"
		scrub.CreatedAt = cutoff.Add(-time.Second)
		gone.Status, gone.SealedCode, gone.CreatedAt = casegate.DeliverySent, nil, t0.Add(-time.Hour)
		scrub, gone = h.enqueue(scrub), h.enqueue(gone)
		oldSession, freshSession, idleSession := session("old", p.ID), session("fresh", p.ID), session("idle", p.ID)
		oldSession.ExpiresAt = cutoff.Add(-time.Second)
		freshSession.ExpiresAt = cutoff.Add(time.Second)
		freshSession.LastSeenAt = cutoff.Add(time.Second)
		idleSession.ExpiresAt = cutoff.Add(time.Hour)
		idleSession.LastSeenAt = cutoff.Add(-time.Second)
		h.update(func(tx casegate.Tx) error {
			for _, s := range []casegate.Session{oldSession, freshSession, idleSession} {
				if err := tx.InsertSession(h.ctx, s); err != nil {
					return err
				}
			}
			if err := tx.SetRateTAT(h.ctx, "old", cutoff.Add(-time.Second)); err != nil {
				return err
			}
			return tx.SetRateTAT(h.ctx, "fresh", cutoff.Add(time.Second))
		})

		var counts casegate.PurgeCounts
		var cancelled int64
		h.update(func(tx casegate.Tx) error {
			// As the portal purges: the unsent codes of expired challenges
			// are cancelled first, then the purge removes.
			var err error
			if cancelled, err = tx.CancelExpiredCodes(h.ctx, cutoff); err != nil {
				return err
			}
			counts, err = tx.Purge(h.ctx, casegate.PurgeCutoffs{
				Challenges: cutoff, Sessions: cutoff, SessionsIdle: cutoff, Rates: cutoff,
				Destinations: cutoff, Deliveries: t0,
			})
			return err
		})
		// Scrubbed: the old notice, the cancelled code (made at t0, once
		// cancelled), and the one past retention, scrubbed before it goes.
		want := casegate.PurgeCounts{Decoys: 1, Challenges: 2, Sessions: 2, Rates: 1, Scrubbed: 3, Deliveries: 1}
		if counts != want {
			t.Errorf("purge counts %+v, want %+v", counts, want)
		}
		if cancelled != 1 {
			t.Errorf("%d unsent codes of expired challenges cancelled before the purge, want 1", cancelled)
		}

		h.update(func(tx casegate.Tx) error {
			if _, err := tx.Challenge(h.ctx, old.ID); !casegate.IsNotFound(err) {
				t.Errorf("expired challenge: err = %v, want it gone", err)
			}
			if _, err := tx.Challenge(h.ctx, fresh.ID); err != nil {
				t.Errorf("live challenge: %v", err)
			}
			for name, s := range map[string]casegate.Session{"expired": oldSession, "idle": idleSession} {
				if _, err := tx.Session(h.ctx, s.TokenHash); !casegate.IsNotFound(err) {
					t.Errorf("%s session: err = %v, want it gone", name, err)
				}
			}
			if _, err := tx.Session(h.ctx, freshSession.TokenHash); err != nil {
				t.Errorf("live session: %v", err)
			}
			if tat, err := tx.RateTAT(h.ctx, "old"); err != nil || !tat.IsZero() {
				t.Errorf("old rate = %v, %v; want it gone", tat, err)
			}
			if tat, err := tx.RateTAT(h.ctx, "fresh"); err != nil || tat.IsZero() {
				t.Errorf("fresh rate = %v, %v; want it kept", tat, err)
			}
			return nil
		})
		got := h.deliveryByID(unsent.ID)
		if got.Status != casegate.DeliveryCancelled || got.SealedCode != nil || got.Destination != "" {
			t.Errorf("unsent code of an expired challenge: status %s, sealed code kept %v, destination %q",
				got.Status, got.SealedCode != nil, got.Destination)
		}
		same(t, "delivery of a live challenge", h.deliveryByID(keep.ID), keep)
		if got := h.deliveryByID(scrub.ID); got.Destination != "" || got.LastError != "" || got.Status != casegate.DeliveryFailed {
			t.Errorf("old finished delivery: destination %q, error %q, status %s; want both scrubbed, status kept", got.Destination, got.LastError, got.Status)
		}
		for name, id := range map[string]int64{"decoy": decoyRow.ID, "past retention": gone.ID} {
			h.view(func(tx casegate.Tx) error {
				ds, err := tx.Deliveries(h.ctx, "", 0)
				for _, d := range ds {
					if d.ID == id {
						t.Errorf("%s delivery %d still stored", name, id)
					}
				}
				return err
			})
		}
	}},
	{"ScrubBand", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		older, inBand := delivery("", p.ID), delivery("", p.ID)
		older.Status, older.SealedCode, older.CreatedAt = casegate.DeliverySent, nil, t0.Add(-72*time.Hour)
		inBand.Status, inBand.SealedCode, inBand.CreatedAt = casegate.DeliverySent, nil, t0.Add(-time.Hour)
		older, inBand = h.enqueue(older), h.enqueue(inBand)
		h.update(func(tx casegate.Tx) error {
			_, err := tx.Purge(h.ctx, casegate.PurgeCutoffs{Destinations: t0, DestinationsFrom: t0.Add(-48 * time.Hour)})
			return err
		})
		if got := h.deliveryByID(inBand.ID).Destination; got != "" {
			t.Errorf("a destination within the band was kept: %q", got)
		}
		if got := h.deliveryByID(older.ID).Destination; got == "" {
			t.Error("a destination before the band was scrubbed; the band should bound the scan")
		}
	}},
	{"ExpiredCodes", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		c := challenge("req-1", p.ID) // expires at t0+10m
		h.insertChallenge(c)
		d := h.enqueue(delivery(c.ID, p.ID))
		var has bool
		h.view(func(tx casegate.Tx) (err error) {
			has, err = tx.HasExpiredCodes(h.ctx, c.ExpiresAt.Add(-time.Microsecond))
			return
		})
		if has {
			t.Error("HasExpiredCodes before the expiry: true")
		}
		h.view(func(tx casegate.Tx) (err error) { has, err = tx.HasExpiredCodes(h.ctx, c.ExpiresAt); return })
		if !has {
			t.Error("HasExpiredCodes at the expiry: false")
		}
		var n int64
		h.update(func(tx casegate.Tx) (err error) { n, err = tx.CancelExpiredCodes(h.ctx, c.ExpiresAt); return })
		got := h.deliveryByID(d.ID)
		if n != 1 || got.Status != casegate.DeliveryCancelled || got.SealedCode != nil {
			t.Errorf("CancelExpiredCodes: %d rows, status %s, sealed code kept %v", n, got.Status, got.SealedCode != nil)
		}
		h.view(func(tx casegate.Tx) (err error) {
			has, err = tx.HasExpiredCodes(h.ctx, c.ExpiresAt.Add(time.Hour))
			return
		})
		if has {
			t.Error("HasExpiredCodes after the wipe: true")
		}
	}},
	{"Refusals", func(t *testing.T, h *harness) {
		r := casegate.Refusal{Key: "tag-a", Action: "code.request", Limit: "requests_per_ip", IPHash: "ip", From: t0, Until: t0.Add(5 * time.Minute)}
		other := r
		other.Key = "tag-b"
		later := r
		later.From, later.Until = r.Until, r.Until.Add(5*time.Minute)
		for range 1000 {
			h.update(func(tx casegate.Tx) error { return tx.CountRefusal(h.ctx, r) })
		}
		h.update(func(tx casegate.Tx) error {
			for _, x := range []casegate.Refusal{other, later} {
				if err := tx.CountRefusal(h.ctx, x); err != nil {
					return err
				}
			}
			return nil
		})
		var taken []casegate.Refusal
		h.update(func(tx casegate.Tx) (err error) {
			taken, err = tx.TakeRefusals(h.ctx, r.Until.Add(-time.Microsecond))
			return
		})
		if len(taken) != 0 {
			t.Errorf("TakeRefusals before the window ended: %+v", taken)
		}
		h.update(func(tx casegate.Tx) (err error) { taken, err = tx.TakeRefusals(h.ctx, r.Until); return })
		r.Count, other.Count = 1000, 1
		same(t, "refusals of the ended window", taken, []casegate.Refusal{r, other})
		h.update(func(tx casegate.Tx) (err error) { taken, err = tx.TakeRefusals(h.ctx, later.Until); return })
		later.Count = 1
		same(t, "refusals taken once", taken, []casegate.Refusal{later})
	}},
}

var notFoundTests = []test{
	{"Lookups", func(t *testing.T, h *harness) {
		cases := []struct {
			name string
			call func(tx casegate.Tx) error
		}{
			{"CaseByReceipt", func(tx casegate.Tx) error { _, err := tx.CaseByReceipt(h.ctx, receipt(404)); return err }},
			{"UpdateCase", func(tx casegate.Tx) error { return tx.UpdateCase(h.ctx, casegate.Case{ID: 404}) }},
			{"Party", func(tx casegate.Tx) error { _, err := tx.Party(h.ctx, 404); return err }},
			{"UpdateParty", func(tx casegate.Tx) error { return tx.UpdateParty(h.ctx, casegate.Party{ID: 404}) }},
			{"Challenge", func(tx casegate.Tx) error { _, err := tx.Challenge(h.ctx, "nope"); return err }},
			{"CountAttempt", func(tx casegate.Tx) error { _, err := tx.CountAttempt(h.ctx, "nope"); return err }},
			{"ReplaceCode", func(tx casegate.Tx) error { return tx.ReplaceCode(h.ctx, challenge("nope", 0)) }},
			{"Consume", func(tx casegate.Tx) error { _, err := tx.Consume(h.ctx, "nope", t0); return err }},
			{"FinishDelivery", func(tx casegate.Tx) error {
				return tx.FinishDelivery(h.ctx, casegate.ClaimedDelivery{
					Delivery: casegate.Delivery{ID: 404, Status: casegate.DeliverySent}, Lease: casegate.Lease{Owner: "w1"}})
			}},
			{"DeliveryLease", func(tx casegate.Tx) error { _, err := tx.DeliveryLease(h.ctx, 404); return err }},
			{"Session", func(tx casegate.Tx) error { _, err := tx.Session(h.ctx, hash("nope")); return err }},
			{"TouchSession", func(tx casegate.Tx) error { return tx.TouchSession(h.ctx, hash("nope"), t0) }},
			{"AdminTokenByHash", func(tx casegate.Tx) error { _, err := tx.AdminTokenByHash(h.ctx, hash("nope")); return err }},
			{"RevokeAdminToken", func(tx casegate.Tx) error { return tx.RevokeAdminToken(h.ctx, 404, t0) }},
		}
		for _, c := range cases {
			err := h.s.Update(h.ctx, c.call)
			wantNotFound(t, c.name, err)
		}
	}},
}

var timeTests = []test{
	{"MicrosecondsInUTC", func(t *testing.T, h *harness) {
		zone := time.FixedZone("UTC-5", -5*3600)
		at := time.Date(2025, 6, 1, 7, 0, 0, 123456789, zone) // 12:00:00.123456789 UTC
		want := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
		check := func(what string, got time.Time) {
			t.Helper()
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("%s = %v (%v), want %v in UTC", what, got, got.Location(), want)
			}
		}

		p := casegate.Party{GivenName: "Ana", LockedUntil: at}
		h.update(func(tx casegate.Tx) error { return tx.InsertParty(h.ctx, &p) })
		check("Party.LockedUntil", h.partyByID(p.ID).LockedUntil)

		c := challenge("req-1", p.ID)
		c.CreatedAt, c.ExpiresAt, c.ResendAfter, c.ConsumedAt = at, at, at, at
		h.insertChallenge(c)
		got := h.challengeByID(c.ID)
		for what, v := range map[string]time.Time{
			"CreatedAt": got.CreatedAt, "ExpiresAt": got.ExpiresAt, "ResendAfter": got.ResendAfter, "ConsumedAt": got.ConsumedAt,
		} {
			check("Challenge."+what, v)
		}

		d := delivery(c.ID, p.ID)
		d.CreatedAt, d.NextAttempt, d.SentAt = at, at, at
		d = h.enqueue(d)
		gd := h.deliveryByID(d.ID)
		check("Delivery.CreatedAt", gd.CreatedAt)
		check("Delivery.NextAttempt", gd.NextAttempt)
		check("Delivery.SentAt", gd.SentAt)

		s := casegate.Session{TokenHash: hash("t"), PartyID: p.ID, CreatedAt: at, LastSeenAt: at, ExpiresAt: at}
		h.update(func(tx casegate.Tx) error { return tx.InsertSession(h.ctx, s) })
		gs, _ := h.sessionByHash(s.TokenHash)
		check("Session.CreatedAt", gs.CreatedAt)
		check("Session.LastSeenAt", gs.LastSeenAt)
		check("Session.ExpiresAt", gs.ExpiresAt)

		h.update(func(tx casegate.Tx) error {
			if err := tx.SetRateTAT(h.ctx, "k", at); err != nil {
				return err
			}
			tat, err := tx.RateTAT(h.ctx, "k")
			check("RateTAT", tat)
			return err
		})
	}},
	{"ZeroStaysZero", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		if got := h.partyByID(p.ID).LockedUntil; !got.IsZero() {
			t.Errorf("LockedUntil = %v, want zero", got)
		}
		c := challenge("req-1", p.ID)
		c.ResendAfter = time.Time{}
		h.insertChallenge(c)
		got := h.challengeByID(c.ID)
		if !got.ResendAfter.IsZero() || !got.ConsumedAt.IsZero() {
			t.Errorf("ResendAfter %v, ConsumedAt %v; want zero", got.ResendAfter, got.ConsumedAt)
		}
		d := h.enqueue(delivery(c.ID, p.ID))
		gd := h.deliveryByID(d.ID)
		if lu := h.leaseOf(d.ID).Until; !gd.NextAttempt.IsZero() || !lu.IsZero() || !gd.SentAt.IsZero() {
			t.Errorf("delivery times %v %v %v; want zero", gd.NextAttempt, lu, gd.SentAt)
		}
	}},
	{"ReceivedOnIsADate", func(t *testing.T, h *harness) {
		c := casegate.Case{ReceiptNumber: receipt(1), FormType: "I-485",
			ReceivedOn: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)}
		undated := casegate.Case{ReceiptNumber: receipt(2), FormType: "I-485"}
		h.update(func(tx casegate.Tx) error {
			if err := tx.InsertCase(h.ctx, &c); err != nil {
				return err
			}
			return tx.InsertCase(h.ctx, &undated)
		})
		h.view(func(tx casegate.Tx) error {
			got, err := tx.CaseByReceipt(h.ctx, c.ReceiptNumber)
			if err != nil {
				return err
			}
			if !got.ReceivedOn.Equal(c.ReceivedOn) || got.ReceivedOn.Location() != time.UTC {
				t.Errorf("ReceivedOn = %v, want %v", got.ReceivedOn, c.ReceivedOn)
			}
			got, err = tx.CaseByReceipt(h.ctx, undated.ReceiptNumber)
			if err != nil {
				return err
			}
			if !got.ReceivedOn.IsZero() {
				t.Errorf("ReceivedOn of an undated case = %v, want zero", got.ReceivedOn)
			}
			return nil
		})
	}},
}
