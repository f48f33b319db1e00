package store_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
)

// The benchmarks run on both databases: go test -run '^$' -bench . ./store/
// (PostgreSQL from CASEGATE_TEST_POSTGRES or the default; without one, its
// sub-benchmarks skip). docs/deployment.md records figures.

// onBothDatabases runs bench once per database on a fresh, migrated store.
func onBothDatabases(b *testing.B, bench func(b *testing.B, s casegate.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := store.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		migrated(b, s)
		bench(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := store.OpenPostgres(b.Context(), storetest.PostgresSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		migrated(b, s)
		bench(b, s)
	})
}

// migrated migrates s and closes it when the benchmark ends.
func migrated(b *testing.B, s casegate.Store) {
	b.Helper()
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
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
	onBothDatabases(b, func(b *testing.B, s casegate.Store) {
		ctx := b.Context()
		i := 0
		for b.Loop() {
			c := benchChallenge(i)
			i++
			if err := s.Update(ctx, func(tx casegate.Tx) error { return tx.InsertChallenge(ctx, c) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchAuditEvent() casegate.AuditEvent {
	return casegate.AuditEvent{
		At: time.Now(), Actor: "public", Action: "code.request", Target: "challenge:req",
		Outcome: "ok", IPHash: "9f86d081884c7d65", Details: map[string]string{"channel": "email"},
	}
}

// benchKeys is a keyring of one fresh secret, to chain audit events.
func benchKeys(b *testing.B) *accesscode.Keyring {
	secret, err := accesscode.NewSecret("k1")
	if err != nil {
		b.Fatal(err)
	}
	keys, err := accesscode.NewKeyring([]accesscode.Secret{secret})
	if err != nil {
		b.Fatal(err)
	}
	return keys
}

// BenchmarkAppendAudit measures one write transaction appending a chained audit event.
func BenchmarkAppendAudit(b *testing.B) {
	onBothDatabases(b, func(b *testing.B, s casegate.Store) {
		ctx := b.Context()
		keys := benchKeys(b)
		for b.Loop() {
			e := benchAuditEvent()
			if err := s.Update(ctx, func(tx casegate.Tx) error { return tx.AppendAudit(ctx, &e, keys) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCountAttemptConsume measures a successful redeem's store work:
// count the attempt, then consume, in one write transaction.
func BenchmarkCountAttemptConsume(b *testing.B) {
	onBothDatabases(b, func(b *testing.B, s casegate.Store) {
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
	})
}

// BenchmarkParallelRequestWrites measures, with 16 goroutines per CPU, the
// store work of a code request in one transaction: two rate keys, a
// challenge, an outbox row and an audit event. SQLite runs the transactions
// one at a time; PostgreSQL runs them side by side up to the audit chain
// lock, which every audited transaction holds until it commits.
func BenchmarkParallelRequestWrites(b *testing.B) {
	onBothDatabases(b, func(b *testing.B, s casegate.Store) {
		ctx := b.Context()
		keys := benchKeys(b)
		var next atomic.Int64
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				err := s.Update(ctx, func(tx casegate.Tx) error {
					for _, key := range []string{fmt.Sprintf("ip:%d", i%1000), fmt.Sprintf("id:%d", i)} {
						tat, err := tx.RateTAT(ctx, key)
						if err != nil {
							return err
						}
						if now := time.Now(); tat.Before(now) {
							tat = now
						}
						if err := tx.SetRateTAT(ctx, key, tat.Add(time.Second)); err != nil {
							return err
						}
					}
					c := benchChallenge(i)
					if err := tx.InsertChallenge(ctx, c); err != nil {
						return err
					}
					d := casegate.Delivery{ChallengeID: c.ID, Channel: casegate.ChannelEmail, Destination: "person@example.com",
						Template: casegate.TemplateAccessCode, Language: "en", SealedCode: make([]byte, 40), CreatedAt: time.Now()}
					if err := tx.EnqueueDelivery(ctx, &d); err != nil {
						return err
					}
					e := benchAuditEvent()
					return tx.AppendAudit(ctx, &e, keys)
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkParallelPortalRequestCode measures whole code requests through the
// portal (validation, matching, MAC, sealing, limits, audit), half of them
// matching a person on file, with 16 goroutines per CPU from 1000 client
// addresses. It is the figure to size instances by.
func BenchmarkParallelPortalRequestCode(b *testing.B) {
	onBothDatabases(b, func(b *testing.B, s casegate.Store) {
		ctx := b.Context()
		keys := benchKeys(b)
		limits := portal.DefaultLimits()
		limits.RequestsPerIP = portal.Rate{N: 1_000_000, Per: time.Minute}
		limits.RequestsPerIdentifier = portal.Rate{N: 1_000_000, Per: time.Minute}
		limits.CodesPerParty = portal.Rate{N: 1_000_000, Per: time.Minute}
		p, err := portal.New(portal.Deps{Store: s, Keys: keys, Limits: limits})
		if err != nil {
			b.Fatal(err)
		}
		const people = 200
		err = s.Update(ctx, func(tx casegate.Tx) error {
			for i := range people {
				c := casegate.Case{ReceiptNumber: fmt.Sprintf("IOE09%08d", i), FormType: "I-485", Office: "NBC",
					ReceivedOn: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)}
				if err := tx.InsertCase(ctx, &c); err != nil {
					return err
				}
				party := casegate.Party{GivenName: "Ana", FamilyName: "Prueba", DateOfBirth: "1990-04-02",
					CountryOfBirth: "MX", Email: "ana@example.com", Language: "en"}
				if err := tx.InsertParty(ctx, &party); err != nil {
					return err
				}
				if err := tx.LinkParty(ctx, casegate.CaseLink{CaseID: c.ID, PartyID: party.ID, Role: casegate.RoleApplicant}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		var next atomic.Int64
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				given := "Ana"
				if i%2 == 1 {
					given = "Eva" // no match: a decoy
				}
				_, err := p.RequestCode(ctx, portal.CodeRequest{
					ReceiptNumber: fmt.Sprintf("IOE09%08d", i%people), GivenName: given, FamilyName: "Prueba",
					DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: "email",
					ClientIP: fmt.Sprintf("198.51.%d.%d", i%1000/250, i%250),
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
