package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store"
)

// FuzzAuditRoundTrip appends events with arbitrary text, as request data can
// put into targets and details, and checks that the chain still verifies once
// read back from the database.
func FuzzAuditRoundTrip(f *testing.F) {
	f.Add("public", "case:IOE0912345678", "reason", "José Ñúñez", int64(1748779200123456789))
	f.Add("", "", "", "", int64(0))
	f.Add("a\x00b", "\xff\xfe", "k\"ey", "line\nbreak\u2028", int64(-1))
	s, err := store.OpenSQLite(f.Context(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	keys := testenv.Keyring(f)
	if err := s.Migrate(f.Context()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, actor, target, key, value string, nanos int64) {
		ctx := t.Context()
		e := casegate.AuditEvent{
			At: time.Unix(0, nanos), Actor: actor, Action: "fuzz", Target: target,
			Details: map[string]string{key: value},
		}
		var prev casegate.AuditEvent
		err := s.Update(ctx, func(tx casegate.Tx) error {
			if err := tx.AppendAudit(ctx, &e, keys); err != nil {
				return err
			}
			if e.Seq > 1 {
				before, err := tx.AuditEvents(ctx, e.Seq-2, 1)
				if err != nil {
					return err
				}
				prev = before[0]
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []casegate.AuditEvent
		err = s.View(ctx, func(tx casegate.Tx) error {
			got, err = tx.AuditEvents(ctx, e.Seq-1, 1)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		prevHash := casegate.GenesisHash
		if e.Seq > 1 {
			prevHash = prev.Hash
		}
		if seq := casegate.VerifyChain(keys, prevHash, e.Seq-1, got); seq != 0 {
			t.Errorf("event %+v does not verify after a round trip: read back %+v", e, got)
		}
	})
}
