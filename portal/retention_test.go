package portal

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// TestPurgeKeepsTheAuditChainVerifiable ages a log past its retention and
// purges it: the old events go, the purge is on record, and the rest of the
// chain verifies from the anchor the purge left, as do checkpoints taken
// before and after.
func TestPurgeKeepsTheAuditChainVerifiable(t *testing.T) {
	st, _ := testenv.SQLite(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := DefaultRetention()
	r.Audit, r.Deliveries, r.Destinations = 48*time.Hour, 24*time.Hour, time.Hour
	p, err := New(Deps{Store: st, Keys: testenv.Keyring(t), Limits: DefaultLimits(), Now: func() time.Time { return now }, Retention: r})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} { // three events on the first day
		if _, err := p.CreateAdminToken(ctx, name, "test"); err != nil {
			t.Fatal(err)
		}
	}
	early, err := p.AuditCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(72 * time.Hour)
	if _, err := p.CreateAdminToken(ctx, "d", "test"); err != nil { // one on the fourth
		t.Fatal(err)
	}
	late, err := p.AuditCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, cut, err := p.Purge(ctx)
	if err != nil || cut != 3 {
		t.Fatalf("purge cut %d events, %v; want the 3 past the retention", cut, err)
	}
	es, err := p.AuditEvents(ctx, 0, 100)
	if err != nil || len(es) != 2 || es[0].Seq != 4 || es[1].Action != "data.purge" || es[1].Details["audit_through_seq"] != "3" {
		t.Fatalf("audit log after the purge: %+v, %v; want event 4 and the purge's own, naming event 3", es, err)
	}
	rep, err := p.VerifyAudit(ctx, []casegate.AuditCheckpoint{early, late})
	if err != nil || !rep.Intact() || rep.Anchor == nil || rep.Anchor.Seq != 3 || rep.Events != 2 {
		t.Fatalf("verify after the purge: %+v, %v; want intact from the anchor at 3, 2 events", rep, err)
	}
	if !strings.Contains(rep.Checkpoints[0].Why, "at event 3") && rep.Checkpoints[0].Why != "" {
		t.Errorf("the checkpoint at the cut: %q", rep.Checkpoints[0].Why)
	}
	// A forged anchor (a purge by someone without the key) breaks the chain.
	err = st.Update(ctx, func(tx casegate.Tx) error {
		a, err := tx.AuditAnchor(ctx)
		if err != nil {
			return err
		}
		a.Seq, a.Hash = 4, es[0].Hash
		_, err = tx.CutAudit(ctx, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = p.VerifyAudit(ctx, nil)
	if err != nil || rep.Intact() || !strings.Contains(rep.Why, "not signed") {
		t.Errorf("verify after an anchor moved without the key: %+v, %v; want it refused", rep, err)
	}
}

// TestPurgeAppliesTheRetention checks each retention against what it keeps.
func TestPurgeAppliesTheRetention(t *testing.T) {
	r := newSameOpsRig(t, 10)
	for i := range 3 {
		r.request(0, "email")
		r.request(77+i, "email") // decoys
	}
	count := func(status casegate.DeliveryStatus) int {
		ds, err := r.p.Deliveries(context.Background(), status, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	real := count(casegate.DeliveryPending) // the rig's own ten, and three
	if real != 13 {
		t.Fatalf("%d pending deliveries, want the 13 real codes (decoys are not listed)", real)
	}
	r.now = r.now.Add(DefaultRetention().Challenges + time.Hour)
	counts, _, err := r.p.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts.Challenges != int64(real)+3 || counts.Decoys != 3 || counts.Cancelled != int64(real) {
		t.Errorf("purge a day after the codes expired: %+v; want %d challenges, 3 decoy rows, and the %d unsent codes cancelled", counts, real+3, real)
	}
	if n := count(casegate.DeliveryCancelled); n != real {
		t.Errorf("%d cancelled deliveries kept, want the %d real ones (kept for %v)", n, real, DefaultRetention().Deliveries)
	}
	// The cancellation is a change of the messages' state, audited as one
	// event before the purge's own.
	es, err := r.p.AuditEvents(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) < 2 {
		t.Fatalf("%d audit events", len(es))
	}
	expire, purge := es[len(es)-2], es[len(es)-1]
	if expire.Action != "delivery.expire" || expire.Outcome != "cancelled" || expire.Details["reason"] != "retention" ||
		expire.Details["deliveries"] != strconv.Itoa(real) || !expire.At.Equal(purge.At) {
		t.Errorf("event before the purge's: %s %s %v at %v; want delivery.expire cancelled, reason retention, %d deliveries, at the purge's %v",
			expire.Action, expire.Outcome, expire.Details, expire.At, real, purge.At)
	}
	if purge.Action != "data.purge" || purge.Details["cancelled"] != strconv.Itoa(real) {
		t.Errorf("last event %s %v, want data.purge with %d cancelled", purge.Action, purge.Details, real)
	}
	r.now = r.now.Add(DefaultRetention().Deliveries)
	if counts, _, err = r.p.Purge(context.Background()); err != nil || counts.Deliveries != int64(real) {
		t.Errorf("purge past the deliveries' retention: %+v, %v; want the %d gone", counts, err, real)
	}
	if _, err := New(Deps{Store: r.st, Keys: r.p.keys, Limits: DefaultLimits(), Retention: Retention{Audit: time.Hour, Challenges: time.Hour, Sessions: time.Hour, Deliveries: 2 * time.Hour, Destinations: time.Hour}}); err == nil {
		t.Error("a retention that keeps the audit log shorter than deliveries was accepted")
	}
}
