package portal

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

func TestReadCache(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.SQLite(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	keys := testenv.Keyring(t)
	p, err := New(Deps{Store: st, Keys: keys, Limits: DefaultLimits(), Now: func() time.Time { return now }, ReadCacheTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	line := finishedCase(1, "I-485", "", "NBC", "2026-01-01", "received@2026-01-02")
	if _, err := (&Importer{Store: st, Keys: keys}).Import(ctx, strings.NewReader(line), "jsonl", "test", nil); err != nil {
		t.Fatal(err)
	}
	var party casegate.Party
	st.View(ctx, func(tx casegate.Tx) error {
		ps, err := tx.PartiesByReceipt(ctx, "IOE0000000001")
		party = ps[0]
		return err
	})
	token := "a-session-token"
	sess := casegate.Session{TokenHash: hashToken(token), PartyID: party.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.Update(ctx, func(tx casegate.Tx) error { return tx.InsertSession(ctx, sess) }); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	// Another instance signs the session out: sessions are never cached,
	// so this one refuses it at once, and still after the TTL.
	st.Update(ctx, func(tx casegate.Tx) error { return tx.DeleteSession(ctx, sess.TokenHash) })
	if _, err := p.Authenticate(ctx, token); casegate.ErrorCodeOf(err) != casegate.EUnauthenticated {
		t.Fatalf("within the TTL, after a sign-out elsewhere: %v, want unauthenticated at once", err)
	}
	now = now.Add(time.Second)
	if _, err := p.Authenticate(ctx, token); casegate.ErrorCodeOf(err) != casegate.EUnauthenticated {
		t.Fatalf("after the TTL: %v, want unauthenticated", err)
	}
	// A sign-out through this portal takes effect at once.
	st.Update(ctx, func(tx casegate.Tx) error { return tx.InsertSession(ctx, sess) })
	s, err := p.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SignOut(ctx, s, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Authenticate(ctx, token); casegate.ErrorCodeOf(err) != casegate.EUnauthenticated {
		t.Fatalf("right after sign-out: %v, want unauthenticated", err)
	}

	// Dashboards: a status posted through the portal shows at once; a change
	// made elsewhere shows after the TTL.
	d, _ := p.Dashboard(ctx, s)
	if d.Cases[0].Status != "received" {
		t.Fatalf("status %q", d.Cases[0].Status)
	}
	if _, _, err := p.PostStatusEvent(ctx, "IOE0000000001", StatusEventInput{Status: "approved"}, "test"); err != nil {
		t.Fatal(err)
	}
	if d, _ := p.Dashboard(ctx, s); d.Cases[0].Status != "approved" {
		t.Fatalf("after posting: %q, want approved at once", d.Cases[0].Status)
	}
	st.Update(ctx, func(tx casegate.Tx) error {
		c, err := tx.CaseByReceipt(ctx, "IOE0000000001")
		if err != nil {
			return err
		}
		_, err = tx.AddStatusEvent(ctx, &casegate.StatusEvent{CaseID: c.ID, Status: "card_mailed", At: now.Add(time.Minute)})
		return err
	})
	if d, _ := p.Dashboard(ctx, s); d.Cases[0].Status != "approved" {
		t.Fatalf("within the TTL: %q, want the cached approved", d.Cases[0].Status)
	}
	now = now.Add(time.Second)
	if d, _ := p.Dashboard(ctx, s); d.Cases[0].Status != "card_mailed" {
		t.Fatalf("after the TTL: %q, want card_mailed", d.Cases[0].Status)
	}
}

func TestReadCacheProcessingTimes(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.SQLite(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p, err := New(Deps{Store: st, Keys: testenv.Keyring(t), Limits: DefaultLimits(), Now: func() time.Time { return now }, ReadCacheTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	row := func(form string, days int) casegate.ProcessingTime {
		return casegate.ProcessingTime{FormType: form, Category: "", Office: "NBC", MedianDays: days, P80Days: days, Cases: 10, ComputedAt: now}
	}
	replace := func(pts ...casegate.ProcessingTime) {
		t.Helper()
		if err := st.Update(ctx, func(tx casegate.Tx) error { return tx.ReplaceProcessingTimes(ctx, pts) }); err != nil {
			t.Fatal(err)
		}
	}
	forms := func() []string {
		t.Helper()
		pts, err := p.ProcessingTimes(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, pt := range pts {
			if !pt.WholeForm() { // stored without one: each form gets a withheld one
				out = append(out, pt.FormType)
			}
		}
		return out
	}
	replace(row("I-130", 100), row("I-485", 200), row("N-400", 300))
	if got := forms(); strings.Join(got, ",") != "I-130,I-485,N-400" {
		t.Fatalf("first read: %v", got)
	}
	// Filtering must not change the shared copy the cache holds.
	if one, _ := p.ProcessingTimes(ctx, "n-400", "nbc"); len(one) != 2 || one[1].MedianDays != 300 {
		t.Fatalf("filtered: %+v", one)
	}
	// Another instance's recompute shows after the TTL, not before.
	replace(row("I-90", 50))
	if got := forms(); strings.Join(got, ",") != "I-130,I-485,N-400" {
		t.Fatalf("within the TTL: %v, want the cached rows whole", got)
	}
	now = now.Add(time.Second)
	if got := forms(); strings.Join(got, ",") != "I-90" {
		t.Fatalf("after the TTL: %v, want I-90", got)
	}
	// This portal's own recompute shows at once (no case is finished: no rows).
	if _, err := p.RecomputeProcessingTimes(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if got := forms(); len(got) != 0 {
		t.Fatalf("after recompute: %v, want none", got)
	}
}
