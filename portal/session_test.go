package portal

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store/storetest"
)

// sessionLimits are the defaults with the given idle and absolute limits.
func sessionLimits(idle, absolute time.Duration) Limits {
	l := DefaultLimits()
	l.SessionIdle, l.SessionAbsolute = idle, absolute
	return l
}

// newSessionPortal is a portal on st with clock c.
func newSessionPortal(t *testing.T, st casegate.Store, c *testenv.Clock, l Limits, cacheTTL time.Duration) *Portal {
	t.Helper()
	p, err := New(Deps{Store: st, Keys: testenv.Keyring(t), Limits: l, Now: c.Now, ReadCacheTTL: cacheTTL})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// storeSession imports a case whose party gets a session signed in at c's
// now, as Redeem stores it, and returns the session's token.
func storeSession(t testing.TB, st casegate.Store, c *testenv.Clock, l Limits, n int) string {
	t.Helper()
	ctx := context.Background()
	line := finishedCase(n, "I-485", "", "NBC", "2026-01-01", "received@2026-01-02")
	if _, err := (&Importer{Store: st, Keys: testenv.Keyring(t)}).Import(ctx, strings.NewReader(line), "jsonl", "test", nil); err != nil {
		t.Fatal(err)
	}
	var party casegate.Party
	if err := st.View(ctx, func(tx casegate.Tx) error {
		ps, err := tx.PartiesByReceipt(ctx, fmt.Sprintf("IOE%010d", n))
		if err == nil {
			party = ps[0]
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	token := fmt.Sprintf("session-token-%d", n)
	now := c.Now().UTC()
	s := casegate.Session{TokenHash: hashToken(token), PartyID: party.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(l.SessionAbsolute)}
	if err := st.Update(ctx, func(tx casegate.Tx) error { return tx.InsertSession(ctx, s) }); err != nil {
		t.Fatal(err)
	}
	return token
}

// alive uses the session of token through p and reports whether it answered.
func alive(t *testing.T, p *Portal, token string) bool {
	t.Helper()
	_, err := p.Authenticate(context.Background(), token)
	if err != nil && casegate.ErrorCodeOf(err) != casegate.EUnauthenticated {
		t.Fatalf("authenticate: %v", err)
	}
	return err == nil
}

// storedLastSeen reads the session's last-seen time from the store.
func storedLastSeen(t *testing.T, st casegate.Store, token string) time.Time {
	t.Helper()
	var s casegate.Session
	if err := st.View(context.Background(), func(tx casegate.Tx) error {
		var err error
		s, err = tx.Session(context.Background(), hashToken(token))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s.LastSeenAt
}

// TestSessionIdleLimitIsExact holds the idle limit to the microsecond,
// whatever the read cache and however seldom last-seen is written: a session
// used every 3 s with a 5 s limit stays alive; one idle for the limit ends.
func TestSessionIdleLimitIsExact(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Second} {
		t.Run("cache "+ttl.String(), func(t *testing.T) {
			st, _ := testenv.SQLite(t)
			c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
			l := sessionLimits(5*time.Second, time.Hour)
			p := newSessionPortal(t, st, c, l, ttl)
			token := storeSession(t, st, c, l, 1)
			for i := 1; i <= 20; i++ {
				c.Advance(3 * time.Second)
				if !alive(t, p, token) {
					t.Fatalf("used every 3 s with a 5 s idle limit: ended at use %d (%v after sign-in)", i, time.Duration(i)*3*time.Second)
				}
			}
			c.Advance(5*time.Second - time.Microsecond)
			if !alive(t, p, token) {
				t.Fatal("ended after 4.999999 s idle, want alive")
			}
			c.Advance(5 * time.Second)
			if alive(t, p, token) {
				t.Fatal("alive after 5 s idle, want ended")
			}
			c.Advance(time.Second)
			if alive(t, p, token) {
				t.Fatal("an ended session answered again")
			}
		})
	}
}

// TestSessionAbsoluteLimitIsExact ends a session in constant use at its
// absolute limit, to the microsecond.
func TestSessionAbsoluteLimitIsExact(t *testing.T) {
	st, _ := testenv.SQLite(t)
	c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := sessionLimits(5*time.Second, 12*time.Second)
	p := newSessionPortal(t, st, c, l, time.Second)
	token := storeSession(t, st, c, l, 1)
	for elapsed := time.Second; elapsed < 12*time.Second; elapsed += time.Second {
		c.Advance(time.Second)
		if !alive(t, p, token) {
			t.Fatalf("used every second: ended %v after sign-in, want alive until 12 s", elapsed)
		}
	}
	c.Advance(time.Second - time.Microsecond)
	if !alive(t, p, token) {
		t.Fatal("ended 1 µs before the absolute limit")
	}
	c.Advance(time.Microsecond)
	if alive(t, p, token) {
		t.Fatal("alive at the absolute limit, want ended")
	}
}

// twoInstances opens two stores on one database, as two instances behind a
// load balancer do: the same SQLite file, or one PostgreSQL schema.
func twoInstances(t *testing.T, postgres bool) (a, b casegate.Store) {
	t.Helper()
	var dsn string
	if postgres {
		dsn = storetest.PostgresSchema(t)
	} else {
		_, dsn = testenv.SQLite(t)
	}
	return openMigrated(t, dsn), openMigrated(t, dsn)
}

// TestSessionUseSeenAcrossInstances: a session used on instance A stays alive
// on instance B once A has written its last-seen times (A's writer does so
// every lastSeenEvery), and one idle for the limit ends on both.
func TestSessionUseSeenAcrossInstances(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			stA, stB := twoInstances(t, db == "postgres")
			c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
			l := sessionLimits(5*time.Second, time.Hour)
			a := newSessionPortal(t, stA, c, l, time.Second)
			b := newSessionPortal(t, stB, c, l, time.Second)
			token := storeSession(t, stA, c, l, 1)

			c.Advance(500 * time.Millisecond)
			if !alive(t, b, token) {
				t.Fatal("B: fresh session refused")
			}
			c.Advance(3500 * time.Millisecond) // 4 s
			if !alive(t, a, token) {
				t.Fatal("A: session refused 4 s after sign-in")
			}
			writeLastSeen(t, a)
			c.Advance(1200 * time.Millisecond) // 5.2 s: 4.7 s after B's own use, 1.2 s after A's
			if !alive(t, b, token) {
				t.Fatal("B: ended 5.2 s after sign-in although A used it 1.2 s ago")
			}
			writeLastSeen(t, b)
			c.Advance(5 * time.Second) // 10.2 s: idle for the limit on both
			if alive(t, a, token) {
				t.Fatal("A: alive after 5 s idle on both instances")
			}
			if alive(t, b, token) {
				t.Fatal("B: alive after 5 s idle on both instances")
			}
		})
	}
}

// writeLastSeen makes p write the uses it has seen, as its writer does.
func writeLastSeen(t *testing.T, p *Portal) {
	t.Helper()
	if err := p.writeLastSeen(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// touchCounter counts the last-seen writes that reach the store.
type touchCounter struct {
	casegate.Store
	touches atomic.Int64
}

type countingTx struct {
	casegate.Tx
	n *atomic.Int64
}

func (c *touchCounter) Update(ctx context.Context, fn func(casegate.Tx) error) error {
	return c.Store.Update(ctx, func(tx casegate.Tx) error { return fn(countingTx{tx, &c.touches}) })
}

func (c countingTx) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	c.n.Add(1)
	return c.Tx.TouchSession(ctx, hash, at)
}

// TestLastSeenWritesAreCoalesced: however often a session is used, each
// write of the uses costs the store one update per session used since the
// last one, none for the others, and what is written is the latest use.
func TestLastSeenWritesAreCoalesced(t *testing.T) {
	st, _ := testenv.SQLite(t)
	counted := &touchCounter{Store: st}
	c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := sessionLimits(15*time.Minute, time.Hour)
	p := newSessionPortal(t, counted, c, l, time.Second)
	tokens := []string{storeSession(t, st, c, l, 1), storeSession(t, st, c, l, 2), storeSession(t, st, c, l, 3)}
	for i := 0; i < 1000; i++ {
		c.Advance(time.Millisecond)
		for _, tok := range tokens[:2] {
			if !alive(t, p, tok) {
				t.Fatal("session refused")
			}
		}
	}
	if n := counted.touches.Load(); n != 0 {
		t.Fatalf("%d writes on the request path, want none", n)
	}
	writeLastSeen(t, p)
	if n := counted.touches.Load(); n != 2 {
		t.Fatalf("2000 uses of 2 sessions written with %d updates, want 2", n)
	}
	for _, tok := range tokens[:2] {
		if got := storedLastSeen(t, st, tok); !got.Equal(c.Now()) {
			t.Errorf("stored last-seen %v, want the latest use %v", got, c.Now())
		}
	}
	writeLastSeen(t, p)
	if n := counted.touches.Load(); n != 2 {
		t.Fatalf("a write with no use since the last made %d updates, want 0", n-2)
	}
}

// TestLastSeenWriterRuns starts the writer as serve does: a use reaches the
// store within a second or so, concurrent uses go on while it writes, and
// one made just before the writer stops is written as it stops.
func TestLastSeenWriterRuns(t *testing.T) {
	st, _ := testenv.SQLite(t)
	c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := sessionLimits(15*time.Minute, time.Hour)
	p := newSessionPortal(t, st, c, l, time.Second)
	token := storeSession(t, st, c, l, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.RunLastSeenWriter(ctx) }()

	c.Advance(time.Minute)
	alive(t, p, token)
	start := time.Now()
	if !testenv.Eventually(10*time.Second, func() bool { return storedLastSeen(t, st, token).Equal(c.Now()) }) {
		t.Fatal("the writer did not write a use within 10 s")
	}
	t.Logf("written %v after the use (the writer runs every %v)", time.Since(start).Round(time.Millisecond), lastSeenEvery)

	// Uses from many requests at once while the writer writes (for -race).
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 200 {
				c.Advance(time.Microsecond)
				if _, err := p.Authenticate(ctx, token); err != nil {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Fatalf("%d of 1600 concurrent uses refused", n)
	}

	c.Advance(time.Minute)
	alive(t, p, token)
	stop()
	<-done
	if got := storedLastSeen(t, st, token); !got.Equal(c.Now()) {
		t.Fatalf("after the writer stopped: last-seen %v, want the last use %v", got, c.Now())
	}
}
