package portal

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/testenv"
)

// instancesRig is two portals over one database, as two instances behind
// a load balancer, each with a read cache whose TTL the test never lets
// pass: what one does must show on the other with the clock standing still.
type instancesRig struct {
	t    *testing.T
	a, b *Portal
	st   casegate.Store // a's
	keys *accesscode.Keyring
	n    int // client addresses used
}

func newInstancesRig(t *testing.T, postgres bool) *instancesRig {
	t.Helper()
	stA, stB := twoInstances(t, postgres)
	keys := testenv.Keyring(t)
	line := finishedCase(1, "I-485", "", "NBC", "2026-01-01", "received@2026-01-02")
	if _, err := (&Importer{Store: stA, Keys: keys}).Import(context.Background(), strings.NewReader(line), "jsonl", "test", nil); err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := DefaultLimits()
	l.RequestsPerIdentifier = Rate{N: 100, Per: 10 * time.Minute}
	l.PartyFailures = Rate{N: 2, Per: 24 * time.Hour} // the second wrong code locks
	r := &instancesRig{t: t, st: stA, keys: keys}
	for _, p := range []struct {
		st  casegate.Store
		dst **Portal
	}{{stA, &r.a}, {stB, &r.b}} {
		var err error
		if *p.dst, err = New(Deps{Store: p.st, Keys: keys, Limits: l, Now: c.Now, ReadCacheTTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *instancesRig) ip() string {
	r.n++
	return "192.0.2." + strconv.Itoa(r.n)
}

// code reads the code queued for challenge id from the outbox.
func (r *instancesRig) code(id string) string {
	r.t.Helper()
	var sealed []byte
	err := r.st.View(context.Background(), func(tx casegate.Tx) error {
		ds, err := tx.Deliveries(context.Background(), casegate.DeliveryPending, 0)
		for _, d := range ds {
			if d.ChallengeID == id {
				sealed = d.SealedCode
			}
		}
		return err
	})
	if err != nil || sealed == nil {
		r.t.Fatalf("no code queued for %s: %v", id, err)
	}
	code, err := r.keys.Open(sealed)
	if err != nil {
		r.t.Fatal(err)
	}
	return code
}

// request asks A for a code and returns the request and its code.
func (r *instancesRig) request() (string, string) {
	r.t.Helper()
	issued, err := r.a.RequestCode(context.Background(), CodeRequest{ReceiptNumber: "IOE0000000001", GivenName: "P1", FamilyName: "Test",
		DateOfBirth: "1990-01-01", CountryOfBirth: "MX", Channel: "email", ClientIP: r.ip()})
	if err != nil {
		r.t.Fatal(err)
	}
	return issued.RequestID, r.code(issued.RequestID)
}

// signIn signs the person in on A and returns the token, used once on B so
// that B has read (and could have cached) the session and the dashboard.
func (r *instancesRig) signIn() string {
	r.t.Helper()
	id, code := r.request()
	in, err := r.a.Redeem(context.Background(), id, code, r.ip())
	if err != nil {
		r.t.Fatal(err)
	}
	s := r.on(r.b, in.Token)
	if _, err := r.b.Dashboard(context.Background(), s); err != nil {
		r.t.Fatal(err)
	}
	return in.Token
}

// on authenticates token on p, failing the test when it is refused.
func (r *instancesRig) on(p *Portal, token string) casegate.Session {
	r.t.Helper()
	s, err := p.Authenticate(context.Background(), token)
	if err != nil {
		r.t.Fatalf("authenticate: %v", err)
	}
	return s
}

// TestChangesShowOnEveryInstanceAtOnce: a sign-out, a sign-out everywhere,
// a contact change and a lockout made on instance A hold on instance B at
// once, with B's read cache warm and its TTL far from over.
func TestChangesShowOnEveryInstanceAtOnce(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			r := newInstancesRig(t, db == "postgres")

			token := r.signIn()
			if err := r.a.SignOut(ctx, r.on(r.a, token), "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.b.Authenticate(ctx, token); casegate.ErrorCodeOf(err) != casegate.EUnauthenticated {
				t.Errorf("B after a sign-out on A: %v, want unauthenticated at once", err)
			}

			one, two := r.signIn(), r.signIn()
			if err := r.a.SignOutEverywhere(ctx, r.on(r.a, one), "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]string{"the session signed out": one, "the other session": two} {
				if _, err := r.b.Authenticate(ctx, tok); casegate.ErrorCodeOf(err) != casegate.EUnauthenticated {
					t.Errorf("B, %s, after sign-out everywhere on A: %v, want unauthenticated at once", name, err)
				}
			}

			token = r.signIn()
			before, err := r.b.Dashboard(ctx, r.on(r.b, token))
			if err != nil {
				t.Fatal(err)
			}
			sA := r.on(r.a, token)
			change, err := r.a.StartContactChange(ctx, sA, "new.address@example.org", "", "", "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			after, err := r.a.ConfirmContactChange(ctx, sA, change.ID, r.code(change.ID), "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			if after.Email == before.Party.Email {
				t.Fatalf("the masked email %q did not change", after.Email)
			}
			if d, err := r.b.Dashboard(ctx, r.on(r.b, token)); err != nil || d.Party.Email != after.Email {
				t.Errorf("B's dashboard after a contact change on A shows %q (%v), want %q at once", d.Party.Email, err, after.Email)
			}

			// A code asked for before the lock: right, but entered on B
			// after two wrong codes on A locked the person.
			id, code := r.request()
			for range 2 {
				if _, err := r.a.Redeem(ctx, id, "0000000000", "192.0.2.1"); casegate.ErrorCodeOf(err) != casegate.ECodeIncorrect {
					t.Fatalf("wrong code on A: %v", err)
				}
			}
			if _, err := r.b.Redeem(ctx, id, code, "192.0.2.2"); casegate.ErrorCodeOf(err) != casegate.ECodeIncorrect {
				t.Errorf("B, the right code after a lockout on A: %v, want code_incorrect (a locked person's code answers like a decoy's)", err)
			}
		})
	}
}
