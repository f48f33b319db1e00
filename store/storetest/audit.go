package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// auditEvent returns an event at t0 plus n seconds.
func auditEvent(n int) casegate.AuditEvent {
	return casegate.AuditEvent{
		At:      t0.Add(time.Duration(n) * time.Second),
		Actor:   "public",
		Action:  "code.request",
		Target:  fmt.Sprintf("challenge:req-%d", n),
		Outcome: "ok",
		IPHash:  "9f86d081884c7d65",
		Details: map[string]string{"channel": "email", "n": fmt.Sprint(n)},
	}
}

// appendAudit appends events, each in its own transaction, and returns them as stored.
func (h *harness) appendAudit(events ...casegate.AuditEvent) []casegate.AuditEvent {
	h.t.Helper()
	for i := range events {
		h.update(func(tx casegate.Tx) error { return tx.AppendAudit(h.ctx, &events[i], h.keys) })
	}
	return events
}

// auditLog reads the whole audit log.
func (h *harness) auditLog() []casegate.AuditEvent {
	h.t.Helper()
	var events []casegate.AuditEvent
	h.view(func(tx casegate.Tx) error {
		var err error
		events, err = tx.AuditEvents(h.ctx, 0, 0)
		return err
	})
	return events
}

var auditTests = []test{
	{"AppendChains", func(t *testing.T, h *harness) {
		noDetails := auditEvent(3)
		noDetails.Details = nil
		appended := h.appendAudit(auditEvent(1), auditEvent(2), noDetails)
		prev := casegate.GenesisHash
		for i, e := range appended {
			want, _ := casegate.AuditHash(h.keys, prev, e)
			if e.Seq != int64(i+1) || e.PrevHash != prev || e.KeyID != "k1" || e.Hash != want {
				t.Errorf("event %d: seq %d, prev %.8s, hash %.8s: not chained", i, e.Seq, e.PrevHash, e.Hash)
			}
			prev = e.Hash
		}
		got := h.auditLog()
		same(t, "audit log", got, appended)
		if seq := casegate.VerifyChain(h.keys, casegate.GenesisHash, 0, got); seq != 0 {
			t.Errorf("VerifyChain names event %d of an untouched log", seq)
		}
	}},
	{"Paging", func(t *testing.T, h *harness) {
		var events []casegate.AuditEvent
		for n := range 7 {
			events = append(events, auditEvent(n))
		}
		all := h.appendAudit(events...)
		h.view(func(tx casegate.Tx) error {
			page, err := tx.AuditEvents(h.ctx, 2, 3)
			if err != nil {
				return err
			}
			same(t, "events 3 to 5", page, all[2:5])
			if seq := casegate.VerifyChain(h.keys, all[1].Hash, all[1].Seq, page); seq != 0 {
				t.Errorf("VerifyChain of a page names event %d", seq)
			}
			rest, err := tx.AuditEvents(h.ctx, 5, 100)
			if err != nil {
				return err
			}
			same(t, "events after 5", rest, all[5:])
			return nil
		})
	}},
	{"NanosecondTimeStillVerifies", func(t *testing.T, h *harness) {
		e := auditEvent(1)
		e.At = time.Date(2025, 6, 1, 14, 0, 0, 123456789, time.FixedZone("UTC+2", 2*3600))
		stored := h.appendAudit(e)[0]
		want := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
		if !stored.At.Equal(want) || stored.At.Location() != time.UTC {
			t.Errorf("AppendAudit set At = %v, want %v", stored.At, want)
		}
		got := h.auditLog()
		if seq := casegate.VerifyChain(h.keys, casegate.GenesisHash, 0, got); seq != 0 {
			t.Errorf("VerifyChain names event %d after a round trip", seq)
		}
	}},
	{"OddTextStillVerifies", func(t *testing.T, h *harness) {
		e := auditEvent(1)
		e.Actor = "public\x00"
		e.Target = "case:\xc3\x28"
		e.Details = map[string]string{"name\xff": "Jos\xe9", "ok": "José"}
		h.appendAudit(e)
		got := h.auditLog()
		if seq := casegate.VerifyChain(h.keys, casegate.GenesisHash, 0, got); seq != 0 {
			t.Errorf("an event with invalid UTF-8 and NUL does not verify after a round trip: %+v", got)
		}
		if got[0].Details["ok"] != "José" {
			t.Errorf("valid text changed: %q", got[0].Details["ok"])
		}
	}},
	{"TamperIsNamed", func(t *testing.T, h *harness) {
		tamperer, ok := h.s.(Tamperer)
		if !ok {
			t.Skip("the store under test does not implement storetest.Tamperer")
		}
		var events []casegate.AuditEvent
		for n := range 5 {
			events = append(events, auditEvent(n))
		}
		h.appendAudit(events...)
		if err := tamperer.TamperAudit(h.ctx, 3); err != nil {
			t.Fatal(err)
		}
		if seq := casegate.VerifyChain(h.keys, casegate.GenesisHash, 0, h.auditLog()); seq != 3 {
			t.Errorf("VerifyChain after tampering with event 3 = %d, want 3", seq)
		}
	}},
	{"CutKeepsTheChainVerifiable", func(t *testing.T, h *harness) {
		h.appendAudit(auditEvent(1), auditEvent(2), auditEvent(3), auditEvent(4))
		var last casegate.AuditEvent
		h.view(func(tx casegate.Tx) (err error) { last, err = tx.LastAuditBefore(h.ctx, t0.Add(3*time.Second)); return })
		if last.Seq != 2 {
			t.Fatalf("LastAuditBefore the third event's time: seq %d, want 2", last.Seq)
		}
		anchor := casegate.SignCheckpoint(h.keys, casegate.AuditCheckpoint{Seq: last.Seq, Hash: last.Hash, At: t0})
		var n int64
		h.update(func(tx casegate.Tx) (err error) { n, err = tx.CutAudit(h.ctx, anchor); return })
		if n != 2 {
			t.Errorf("CutAudit removed %d events, want 2", n)
		}
		var got casegate.AuditCheckpoint
		h.view(func(tx casegate.Tx) (err error) { got, err = tx.AuditAnchor(h.ctx); return })
		same(t, "anchor", got, anchor)
		log := h.auditLog()
		if len(log) != 2 || casegate.VerifyChain(h.keys, anchor.Hash, anchor.Seq, log) != 0 {
			t.Errorf("the chain after the cut does not verify from the anchor: %d events", len(log))
		}
		// When every event is gone, the next goes on from the anchor.
		h.view(func(tx casegate.Tx) (err error) { last, err = tx.AuditEventAt(h.ctx, 4); return })
		second := casegate.SignCheckpoint(h.keys, casegate.AuditCheckpoint{Seq: last.Seq, Hash: last.Hash, At: t0})
		h.update(func(tx casegate.Tx) (err error) { _, err = tx.CutAudit(h.ctx, second); return })
		next := h.appendAudit(auditEvent(5))[0]
		if next.Seq != 5 || next.PrevHash != last.Hash {
			t.Errorf("event after a cut of everything: seq %d, prev %.8s; want 5 after %.8s", next.Seq, next.PrevHash, last.Hash)
		}
		h.view(func(tx casegate.Tx) error {
			if _, err := tx.AuditEventAt(h.ctx, 1); !casegate.IsNotFound(err) {
				t.Errorf("AuditEventAt of a cut event: %v, want not found", err)
			}
			return nil
		})
	}},
}
