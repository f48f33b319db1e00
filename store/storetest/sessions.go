package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// hash returns the SHA-256 of s, as sessions and admin tokens store it.
func hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// session returns a session of party created at t0.
func session(token string, partyID int64) casegate.Session {
	return casegate.Session{
		TokenHash:  hash(token),
		PartyID:    partyID,
		CreatedAt:  t0,
		LastSeenAt: t0,
		ExpiresAt:  t0.Add(12 * time.Hour),
	}
}

// sessionByHash reads one session; ok is false when it does not exist.
func (h *harness) sessionByHash(tokenHash []byte) (s casegate.Session, ok bool) {
	h.t.Helper()
	h.view(func(tx casegate.Tx) error {
		var err error
		s, err = tx.Session(h.ctx, tokenHash)
		if casegate.IsNotFound(err) {
			return nil
		}
		ok = err == nil
		return err
	})
	return s, ok
}

var sessionTests = []test{
	{"RoundTripAndTouch", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		s := session("token-1", p.ID)
		h.update(func(tx casegate.Tx) error { return tx.InsertSession(h.ctx, s) })
		got, ok := h.sessionByHash(s.TokenHash)
		if !ok {
			t.Fatal("session not found after insert")
		}
		same(t, "session", got, s)
		s.LastSeenAt = t0.Add(5 * time.Minute)
		h.update(func(tx casegate.Tx) error { return tx.TouchSession(h.ctx, s.TokenHash, s.LastSeenAt) })
		got, _ = h.sessionByHash(s.TokenHash)
		same(t, "touched session", got, s)
		// Instances write their uses late and in any order: an earlier use
		// never moves last-seen back.
		h.update(func(tx casegate.Tx) error { return tx.TouchSession(h.ctx, s.TokenHash, t0.Add(time.Minute)) })
		got, _ = h.sessionByHash(s.TokenHash)
		same(t, "session touched with an earlier time", got, s)
		err := h.s.Update(h.ctx, func(tx casegate.Tx) error { return tx.TouchSession(h.ctx, hash("signed-out"), t0) })
		if !casegate.IsNotFound(err) {
			t.Errorf("touching a missing session: %v, want not found", err)
		}
	}},
	{"PartyRevision", func(t *testing.T, h *harness) {
		// A session is read with its party's revision, which UpdateParty
		// stores with the rest of the party.
		p := h.insertParty("Ana", "Ruiz", "")
		s := session("token-rev", p.ID)
		h.update(func(tx casegate.Tx) error { return tx.InsertSession(h.ctx, s) })
		if got, _ := h.sessionByHash(s.TokenHash); got.PartyRevision != 0 {
			t.Errorf("a new party's session has revision %d, want 0", got.PartyRevision)
		}
		p.Revision = 7
		h.update(func(tx casegate.Tx) error { return tx.UpdateParty(h.ctx, p) })
		h.view(func(tx casegate.Tx) error {
			got, err := tx.Party(h.ctx, p.ID)
			if err == nil && got.Revision != 7 {
				t.Errorf("party revision %d after UpdateParty, want 7", got.Revision)
			}
			return err
		})
		got, _ := h.sessionByHash(s.TokenHash)
		if got.PartyRevision != 7 {
			t.Errorf("session read with party revision %d, want 7", got.PartyRevision)
		}
		// The store reads the same outside a transaction.
		direct, err := h.s.Session(h.ctx, s.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "session read outside a transaction", direct, got)
		if _, err := h.s.Session(h.ctx, hash("no-such-token")); !casegate.IsNotFound(err) {
			t.Errorf("reading a missing session outside a transaction: %v, want not found", err)
		}
	}},
	{"Delete", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		a, b := session("token-a", p.ID), session("token-b", p.ID)
		h.update(func(tx casegate.Tx) error {
			if err := tx.InsertSession(h.ctx, a); err != nil {
				return err
			}
			return tx.InsertSession(h.ctx, b)
		})
		h.update(func(tx casegate.Tx) error { return tx.DeleteSession(h.ctx, a.TokenHash) })
		if _, ok := h.sessionByHash(a.TokenHash); ok {
			t.Error("deleted session still found")
		}
		if _, ok := h.sessionByHash(b.TokenHash); !ok {
			t.Error("the other session went too")
		}
		// Signing out twice is not an error.
		h.update(func(tx casegate.Tx) error { return tx.DeleteSession(h.ctx, a.TokenHash) })
	}},
	{"DeleteSessionsOf", func(t *testing.T, h *harness) {
		p := h.insertParty("Ana", "Ruiz", "")
		q := h.insertParty("Eva", "Soto", "")
		sessions := []casegate.Session{session("p1", p.ID), session("p2", p.ID), session("q1", q.ID)}
		h.update(func(tx casegate.Tx) error {
			for _, s := range sessions {
				if err := tx.InsertSession(h.ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		h.update(func(tx casegate.Tx) error { return tx.DeleteSessionsOf(h.ctx, p.ID) })
		for i, want := range []bool{false, false, true} {
			if _, ok := h.sessionByHash(sessions[i].TokenHash); ok != want {
				t.Errorf("session %d exists = %v, want %v", i, ok, want)
			}
		}
	}},
}

var adminTokenTests = []test{
	{"InsertListRevoke", func(t *testing.T, h *harness) {
		a := casegate.AdminToken{Name: "ops-laptop", TokenHash: hash("secret-a"), CreatedAt: t0}
		b := casegate.AdminToken{Name: "ci", TokenHash: hash("secret-b"), CreatedAt: t0.Add(time.Minute)}
		h.update(func(tx casegate.Tx) error {
			if err := tx.InsertAdminToken(h.ctx, &a); err != nil {
				return err
			}
			return tx.InsertAdminToken(h.ctx, &b)
		})
		if a.ID == 0 || b.ID <= a.ID {
			t.Fatalf("IDs %d, %d: want increasing, not zero", a.ID, b.ID)
		}
		a.RevokedAt = t0.Add(time.Hour)
		h.update(func(tx casegate.Tx) error { return tx.RevokeAdminToken(h.ctx, a.ID, a.RevokedAt) })
		// A second revocation keeps the first time.
		h.update(func(tx casegate.Tx) error { return tx.RevokeAdminToken(h.ctx, a.ID, t0.Add(2*time.Hour)) })
		h.view(func(tx casegate.Tx) error {
			all, err := tx.AdminTokens(h.ctx)
			if err != nil {
				return err
			}
			same(t, "admin tokens", all, []casegate.AdminToken{a, b})
			got, err := tx.AdminTokenByHash(h.ctx, hash("secret-b"))
			if err != nil {
				return err
			}
			same(t, "token by hash", got, b)
			got, err = tx.AdminTokenByHash(h.ctx, hash("secret-a"))
			if err != nil {
				return err
			}
			if !got.Revoked() {
				t.Error("revoked token found without its revocation")
			}
			return nil
		})
	}},
	{"DuplicateNameConflicts", func(t *testing.T, h *harness) {
		h.update(func(tx casegate.Tx) error {
			return tx.InsertAdminToken(h.ctx, &casegate.AdminToken{Name: "ci", TokenHash: hash("1"), CreatedAt: t0})
		})
		err := h.s.Update(h.ctx, func(tx casegate.Tx) error {
			return tx.InsertAdminToken(h.ctx, &casegate.AdminToken{Name: "ci", TokenHash: hash("2"), CreatedAt: t0})
		})
		if casegate.ErrorCodeOf(err) != casegate.EConflict {
			t.Fatalf("second token named ci: %v, want code %s", err, casegate.EConflict)
		}
	}},
}
