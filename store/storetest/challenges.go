package storetest

import (
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// challengeByID reads one challenge and fails the test on an error.
func (h *harness) challengeByID(id string) casegate.Challenge {
	h.t.Helper()
	var c casegate.Challenge
	h.view(func(tx casegate.Tx) error {
		var err error
		c, err = tx.Challenge(h.ctx, id)
		return err
	})
	return c
}

var challengeTests = []test{
	{"RoundTrip", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		bound := challenge("req-bound", p.ID)
		bound.Purpose = casegate.PurposeContactChange
		bound.Channel = casegate.ChannelSMS
		bound.NewContact = "+15555550199"
		bound.Attempts = 2
		bound.ConsumedAt = t0.Add(time.Minute)
		decoy := challenge("req-decoy", 0)
		h.insertChallenge(bound)
		h.insertChallenge(decoy)
		same(t, "challenge", h.challengeByID(bound.ID), bound)
		got := h.challengeByID(decoy.ID)
		same(t, "decoy", got, decoy)
		if !got.Decoy() {
			t.Error("the decoy came back bound to a party")
		}
	}},
	{"DuplicateIDConflicts", func(t *testing.T, h *harness) {
		h.insertChallenge(challenge("req-1", 0))
		err := h.s.Update(h.ctx, func(tx casegate.Tx) error { return tx.InsertChallenge(h.ctx, challenge("req-1", 0)) })
		if casegate.ErrorCodeOf(err) != casegate.EConflict {
			t.Fatalf("second InsertChallenge = %v, want code %s", err, casegate.EConflict)
		}
	}},
	{"CountAttempt", func(t *testing.T, h *harness) {
		c := challenge("req-1", 0)
		h.insertChallenge(c)
		for want := 1; want <= 3; want++ {
			h.update(func(tx casegate.Tx) error {
				got, err := tx.CountAttempt(h.ctx, c.ID)
				if err != nil {
					return err
				}
				c.Attempts = want
				same(t, "challenge after CountAttempt", got, c)
				return nil
			})
		}
		same(t, "stored challenge", h.challengeByID(c.ID), c)
	}},
	{"ReplaceCode", func(t *testing.T, h *harness) {
		c := challenge("req-1", 0)
		c.Attempts = 1
		h.insertChallenge(c)
		c.KeyID = "k2"
		c.CodeMAC = []byte("new-mac")
		c.ExpiresAt = t0.Add(11 * time.Minute)
		c.Sends = 2
		c.ResendAfter = t0.Add(61 * time.Second)
		changed := c
		changed.Attempts = 99 // not part of a resend
		changed.CreatedAt = t0.Add(time.Hour)
		h.update(func(tx casegate.Tx) error { return tx.ReplaceCode(h.ctx, changed) })
		same(t, "challenge after ReplaceCode", h.challengeByID(c.ID), c)
	}},
	{"ConsumeOnce", func(t *testing.T, h *harness) {
		c := challenge("req-1", 0)
		h.insertChallenge(c)
		now := t0.Add(2 * time.Minute)
		for i, want := range []bool{true, false} {
			h.update(func(tx casegate.Tx) error {
				won, err := tx.Consume(h.ctx, c.ID, now.Add(time.Duration(i)*time.Second))
				if err != nil {
					return err
				}
				if won != want {
					t.Errorf("Consume #%d = %v, want %v", i+1, won, want)
				}
				return nil
			})
		}
		if got := h.challengeByID(c.ID).ConsumedAt; !got.Equal(now) {
			t.Errorf("ConsumedAt = %v, want the winner's %v", got, now)
		}
	}},
}

var rateTests = []test{
	{"UnknownKeyIsZero", func(t *testing.T, h *harness) {
		h.update(func(tx casegate.Tx) error {
			tat, err := tx.RateTAT(h.ctx, "ip:192.0.2.1")
			if err != nil {
				return err
			}
			if !tat.IsZero() {
				t.Errorf("RateTAT of a new key = %v, want zero", tat)
			}
			return nil
		})
	}},
	{"SetOverwriteDelete", func(t *testing.T, h *harness) {
		read := func(key string) time.Time {
			var tat time.Time
			h.update(func(tx casegate.Tx) error {
				var err error
				tat, err = tx.RateTAT(h.ctx, key)
				return err
			})
			return tat
		}
		h.update(func(tx casegate.Tx) error { return tx.SetRateTAT(h.ctx, "a", t0) })
		h.update(func(tx casegate.Tx) error { return tx.SetRateTAT(h.ctx, "b", t0.Add(time.Minute)) })
		if got := read("a"); !got.Equal(t0) {
			t.Errorf("a = %v, want %v", got, t0)
		}
		h.update(func(tx casegate.Tx) error { return tx.SetRateTAT(h.ctx, "a", t0.Add(time.Second)) })
		if got := read("a"); !got.Equal(t0.Add(time.Second)) {
			t.Errorf("a after overwrite = %v, want %v", got, t0.Add(time.Second))
		}
		h.update(func(tx casegate.Tx) error { return tx.DeleteRate(h.ctx, "a") })
		if got := read("a"); !got.IsZero() {
			t.Errorf("a after delete = %v, want zero", got)
		}
		if got := read("b"); !got.Equal(t0.Add(time.Minute)) {
			t.Errorf("b = %v, want it untouched", got)
		}
		h.update(func(tx casegate.Tx) error { return tx.DeleteRate(h.ctx, "never-set") })
	}},
	{"HitRateCountsABurst", func(t *testing.T, h *harness) {
		// Three a minute: one every 20 s, a burst of three.
		hit := func(key string, now time.Time) casegate.RateHit {
			var got casegate.RateHit
			h.update(func(tx casegate.Tx) error {
				var err error
				got, err = tx.HitRate(h.ctx, key, now, 20*time.Second, time.Minute)
				return err
			})
			return got
		}
		check := func(what string, got casegate.RateHit, prev, at, tat time.Time) {
			t.Helper()
			if !got.Prev.Equal(prev) || !got.At.Equal(at) || !got.TAT.Equal(tat) {
				t.Errorf("%s: %+v, want prev %v, at %v, tat %v", what, got, prev, at, tat)
			}
		}
		check("first", hit("k", t0), time.Time{}, t0, t0.Add(20*time.Second))
		check("second", hit("k", t0), t0.Add(20*time.Second), t0, t0.Add(40*time.Second))
		check("third", hit("k", t0), t0.Add(40*time.Second), t0, t0.Add(time.Minute))
		check("fourth, refused", hit("k", t0), t0.Add(time.Minute), t0, t0.Add(time.Minute))
		// A request that took its time earlier is judged at the latest time
		// the key was judged at.
		check("an earlier time", hit("k", t0.Add(-time.Hour)), t0.Add(time.Minute), t0, t0.Add(time.Minute))
		// 20 s later there is room for one, counted from the key's time.
		check("after one interval", hit("k", t0.Add(20*time.Second)), t0.Add(time.Minute), t0.Add(20*time.Second), t0.Add(80*time.Second))
		// Long after, the key's time starts again from now.
		late := t0.Add(time.Hour + 1500*time.Nanosecond)
		check("an hour later", hit("k", late), t0.Add(80*time.Second), late, late.Add(20*time.Second).Truncate(time.Microsecond))

		// HitRate and RateTAT/SetRateTAT/DeleteRate keep one time per key.
		var tat time.Time
		h.update(func(tx casegate.Tx) error {
			var err error
			tat, err = tx.RateTAT(h.ctx, "k")
			return err
		})
		if want := late.Add(20 * time.Second).Truncate(time.Microsecond); !tat.Equal(want) {
			t.Errorf("RateTAT after HitRate = %v, want %v", tat, want)
		}
		h.update(func(tx casegate.Tx) error { return tx.SetRateTAT(h.ctx, "set", t0.Add(time.Minute)) })
		check("a time SetRateTAT stored", hit("set", t0), t0.Add(time.Minute), t0, t0.Add(time.Minute))
		h.update(func(tx casegate.Tx) error { return tx.DeleteRate(h.ctx, "set") })
		check("after DeleteRate", hit("set", t0), time.Time{}, t0, t0.Add(20*time.Second))

		h.update(func(tx casegate.Tx) error {
			if _, err := tx.HitRate(h.ctx, "bad", t0, time.Minute, time.Second); err == nil {
				t.Error("HitRate took an interval longer than its burst")
			}
			return nil
		})
	}},
}
