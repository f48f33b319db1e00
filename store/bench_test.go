package store_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/store"
)

// benchStore opens and migrates a store on a real file.
func benchStore(b *testing.B) *store.SQLite {
	b.Helper()
	s, err := store.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchChallenge(i int) casegate.Challenge {
	now := time.Now().UTC()
	return casegate.Challenge{
		ID:        fmt.Sprintf("req-%012d", i),
		Purpose:   casegate.PurposeSignIn,
		Channel:   casegate.ChannelEmail,
		Language:  "en",
		KeyID:     "k1",
		CodeMAC:   make([]byte, 32),
		CreatedAt: now,
		ExpiresAt: now.Add(10 * time.Minute),
		Sends:     1,
	}
}

// BenchmarkInsertChallenge measures one write transaction storing a challenge.
func BenchmarkInsertChallenge(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		c := benchChallenge(i)
		i++
		if err := s.Update(ctx, func(tx casegate.Tx) error { return tx.InsertChallenge(ctx, c) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendAudit measures one write transaction appending a chained audit event.
func BenchmarkAppendAudit(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	for b.Loop() {
		e := casegate.AuditEvent{
			At: time.Now(), Actor: "public", Action: "code.request", Target: "challenge:req",
			Outcome: "ok", IPHash: "9f86d081884c7d65", Details: map[string]string{"channel": "email"},
		}
		if err := s.Update(ctx, func(tx casegate.Tx) error { return tx.AppendAudit(ctx, &e) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCountAttemptConsume measures a successful redeem's store work:
// count the attempt, then consume, in one write transaction.
func BenchmarkCountAttemptConsume(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	// insertBatch stores challenges [from, from+1000) outside the timer.
	inserted := 0
	insertBatch := func() {
		b.StopTimer()
		defer b.StartTimer()
		err := s.Update(ctx, func(tx casegate.Tx) error {
			for range 1000 {
				if err := tx.InsertChallenge(ctx, benchChallenge(inserted)); err != nil {
					return err
				}
				inserted++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if i == inserted {
			insertBatch()
		}
		id := benchChallenge(i).ID
		i++
		err := s.Update(ctx, func(tx casegate.Tx) error {
			if _, err := tx.CountAttempt(ctx, id); err != nil {
				return err
			}
			won, err := tx.Consume(ctx, id, time.Now())
			if err == nil && !won {
				err = fmt.Errorf("challenge %d consumed twice", i)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
