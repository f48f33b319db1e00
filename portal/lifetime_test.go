package portal

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// TestRequestEndsWhenThePortalSays: CodeIssued.Until, which the pages' flow
// cookie lasts until, is when a resend stops being given: one just before
// it is sent, one at it or after answers code_expired. Once the sends are
// used up, the request ends with its code.
func TestRequestEndsWhenThePortalSays(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	if _, err := (&Importer{Store: st, Keys: keys}).Import(ctx, strings.NewReader(finishedCase(1, "I-485", "", "NBC", "2026-01-01")), "jsonl", "test", nil); err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := DefaultLimits()
	p, err := New(Deps{Store: st, Keys: keys, Limits: l, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	start := c.Now()
	issued, err := p.RequestCode(ctx, CodeRequest{ReceiptNumber: "IOE0000000001", GivenName: "P1", FamilyName: "Test",
		DateOfBirth: "1990-01-01", CountryOfBirth: "MX", Channel: "email", ClientIP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Add(l.CodeTTL * time.Duration(l.MaxSends+1)); !issued.Until.Equal(want) {
		t.Fatalf("request ends %v, want %v (the code lifetime × (sends + 1))", issued.Until, want)
	}
	c.Set(issued.Until.Add(-time.Microsecond))
	again, err := p.Resend(ctx, issued.RequestID, "192.0.2.1")
	if err != nil {
		t.Fatalf("resend just before the request ends: %v", err)
	}
	// Its new code may still be entered after the request's hour.
	if !again.Until.Equal(again.ExpiresAt) {
		t.Errorf("after a resend at the end the request ends %v, want with the new code at %v", again.Until, again.ExpiresAt)
	}
	// Sends left, but the request's time is over.
	c.Set(again.ResendAfter.Add(time.Second))
	if _, err := p.Resend(ctx, issued.RequestID, "192.0.2.1"); casegate.ErrorCodeOf(err) != casegate.ECodeExpired {
		t.Errorf("resend after the request ended: %v, want code_expired", err)
	}
	// At the very instant the request ends, it has ended (the flow cookie
	// has too).
	fresh, err := p.RequestCode(ctx, CodeRequest{ReceiptNumber: "IOE0000000001", GivenName: "P1", FamilyName: "Test",
		DateOfBirth: "1990-01-01", CountryOfBirth: "MX", Channel: "email", ClientIP: "192.0.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	c.Set(fresh.Until)
	if _, err := p.Resend(ctx, fresh.RequestID, "192.0.2.3"); casegate.ErrorCodeOf(err) != casegate.ECodeExpired {
		t.Errorf("resend at the instant the request ends: %v, want code_expired", err)
	}

	// With one send allowed, the request ends with its only code.
	l.MaxSends = 1
	one, err := New(Deps{Store: st, Keys: keys, Limits: l, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	issued, err = one.RequestCode(ctx, CodeRequest{ReceiptNumber: "IOE0000000001", GivenName: "P1", FamilyName: "Test",
		DateOfBirth: "1990-01-01", CountryOfBirth: "MX", Channel: "email", ClientIP: "192.0.2.2"})
	if err != nil {
		t.Fatal(err)
	}
	if !issued.Until.Equal(issued.ExpiresAt) {
		t.Errorf("with no resend left the request ends %v, want with its code at %v", issued.Until, issued.ExpiresAt)
	}
}
