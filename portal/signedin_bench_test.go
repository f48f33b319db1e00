package portal

import (
	"context"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
)

// BenchmarkSignedInRead is what every signed-in page and GET /api/v1/me
// costs the portal: the session, then the dashboard, with the read cache
// at its default TTL and warm.
func BenchmarkSignedInRead(b *testing.B) {
	st, _ := testenv.SQLite(b)
	c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := DefaultLimits()
	p, err := New(Deps{Store: st, Keys: testenv.Keyring(b), Limits: l, Now: c.Now, ReadCacheTTL: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	token := storeSession(b, st, c, l, 1)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := p.Authenticate(ctx, token)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Dashboard(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
