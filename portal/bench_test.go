package portal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/synth"
)

// benchPortal is a portal over a real SQLite file with n synthetic cases and
// limits lifted, as a load test runs it.
func benchPortal(b *testing.B, n int) (*Portal, casegate.Store, *synth.Generator) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	g := synth.New(synth.Options{Seed: 3})
	var sb strings.Builder
	if err := synth.Write(&sb, n, synth.Options{Seed: 3}, nil); err != nil {
		b.Fatal(err)
	}
	secret, _ := accesscode.NewSecret("k1")
	keys, _ := accesscode.NewKeyring([]accesscode.Secret{secret})
	if _, err := (&Importer{Store: st, Keys: keys}).Import(ctx, strings.NewReader(sb.String()), "jsonl", "bench", nil); err != nil {
		b.Fatal(err)
	}
	limits := DefaultLimits()
	huge := Rate{N: 1 << 30, Per: time.Minute}
	limits.RequestsPerIP, limits.RequestsPerIdentifier, limits.RedeemsPerIP, limits.CodesPerParty = huge, huge, huge, huge
	p, err := New(Deps{Store: st, Keys: keys, Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	return p, st, g
}

// applicant returns case i's first party that is not a representative, as a code request.
func applicant(g *synth.Generator, i int) CodeRequest {
	c := g.Case(i)
	for _, p := range c.Parties {
		if p.Role != "representative" {
			return CodeRequest{ReceiptNumber: c.ReceiptNumber, GivenName: p.GivenName, FamilyName: p.FamilyName,
				DateOfBirth: p.DateOfBirth, CountryOfBirth: p.CountryOfBirth, Channel: "email", ClientIP: "127.0.0.1"}
		}
	}
	panic(fmt.Sprintf("case %d has only representatives", i))
}

// BenchmarkRequestCode measures a code request that matches a person, and
// one that matches nobody: the two should cost the same.
func BenchmarkRequestCode(b *testing.B) {
	for _, matched := range []bool{true, false} {
		name := map[bool]string{true: "matched", false: "unmatched"}[matched]
		b.Run(name, func(b *testing.B) {
			p, _, g := benchPortal(b, 1000)
			i := 0
			for b.Loop() {
				r := applicant(g, i%1000)
				if !matched {
					r.ReceiptNumber = fmt.Sprintf("ZZZ%010d", i)
				}
				if _, err := p.RequestCode(context.Background(), r); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkRedeemWrongCode(b *testing.B) {
	p, _, g := benchPortal(b, 200)
	iss, err := p.RequestCode(context.Background(), applicant(g, 0))
	if err != nil {
		b.Fatal(err)
	}
	code, _ := accesscode.Generate(accesscode.DefaultLength)
	for b.Loop() {
		p.Redeem(context.Background(), iss.RequestID, code, "127.0.0.1")
	}
}

func BenchmarkDashboard(b *testing.B) {
	p, st, _ := benchPortal(b, 1000)
	if _, err := p.RecomputeProcessingTimes(context.Background(), "bench"); err != nil {
		b.Fatal(err)
	}
	var sess casegate.Session
	err := st.View(context.Background(), func(tx casegate.Tx) error {
		ps, err := tx.PartiesByReceipt(context.Background(), synth.New(synth.Options{Seed: 3}).Case(5).ReceiptNumber)
		if len(ps) > 0 {
			sess.PartyID = ps[0].ID
		}
		return err
	})
	if err != nil || sess.PartyID == 0 {
		b.Fatal("no party", err)
	}
	for b.Loop() {
		if _, err := p.Dashboard(context.Background(), sess); err != nil {
			b.Fatal(err)
		}
	}
}
