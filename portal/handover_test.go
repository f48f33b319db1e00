package portal

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
)

// watchedOutbox is the real delivery worker, counting what the portal gives it.
type watchedOutbox struct {
	*delivery.Worker
	handed, woken atomic.Int32
}

// HandOver counts a code queued under the worker's lease as handed over,
// and one queued when the worker could not take it as a wake-up: the worker
// claims it.
func (o *watchedOutbox) HandOver(d casegate.ClaimedDelivery) {
	if d.Lease.Owner == o.Worker.Owner {
		o.handed.Add(1)
	} else {
		o.woken.Add(1)
	}
	o.Worker.HandOver(d)
}

func (o *watchedOutbox) Wake() { o.woken.Add(1); o.Worker.Wake() }

func TestCodesAreHandedToTheRunningWorker(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	server := smtptest.Start(t)
	cfg, err := delivery.ParseSMTPURL(server.URL())
	if err != nil {
		t.Fatal(err)
	}
	smtp, err := delivery.NewSMTP(cfg, "no-reply@casegate.test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	w, err := delivery.NewWorker(st, keys, map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: smtp}, "https://status.casegate.test")
	if err != nil {
		t.Fatal(err)
	}
	w.PollInterval = time.Hour // claims only at start and when woken
	out := &watchedOutbox{Worker: w}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p, err := New(Deps{Store: st, Keys: keys, Limits: DefaultLimits(), Now: clock, Outbox: out})
	if err != nil {
		t.Fatal(err)
	}
	w.Recorder = p
	line := finishedCase(1, "I-485", "", "NBC", "2026-01-01", "received@2026-01-02")
	if _, err := (&Importer{Store: st, Keys: keys}).Import(ctx, strings.NewReader(line), "jsonl", "test", nil); err != nil {
		t.Fatal(err)
	}
	request := func(given string) CodeIssued {
		t.Helper()
		iss, err := p.RequestCode(ctx, CodeRequest{ReceiptNumber: "IOE0000000001", GivenName: given, FamilyName: "Test",
			DateOfBirth: "1990-01-01", CountryOfBirth: "MX", Channel: "email", ClientIP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		return iss
	}
	sent := func(n int) {
		t.Helper()
		var ds []casegate.Delivery
		read := func() bool {
			if err := st.View(ctx, func(tx casegate.Tx) error {
				var err error
				ds, err = tx.Deliveries(ctx, casegate.DeliverySent, 0)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return len(ds) == n
		}
		if !testenv.Eventually(5*time.Second, read) {
			t.Fatalf("%d deliveries recorded sent, want %d", len(ds), n)
		}
	}
	// counts waits until the worker got what it should, then out the
	// hand-over delay again, in which nothing more may reach it.
	counts := func(what string, handed, woken int32) {
		t.Helper()
		got := func() bool { return out.handed.Load() == handed && out.woken.Load() == woken }
		testenv.Eventually(5*time.Second, got)
		time.Sleep(10 * handOverDelay) // waiting out what must not happen: there is no event to wait for
		if h, wk := out.handed.Load(), out.woken.Load(); h != handed || wk != woken {
			t.Errorf("%s: handed over %d, woken %d; want %d, %d", what, h, wk, handed, woken)
		}
	}

	// With no worker running, the code waits in the outbox to be claimed.
	request("P1")
	counts("worker stopped", 0, 1)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	if _, err := server.WaitFor(1, 5*time.Second); err != nil {
		t.Fatalf("the queued code was not claimed when the worker started: %v", err)
	}
	if !testenv.Eventually(5*time.Second, func() bool { _, ok := w.Reserve(); return ok }) {
		t.Fatal("the worker did not start taking hand-overs")
	}

	// A running worker gets the code from the portal the moment it is committed.
	iss := request("P1")
	if _, err := server.WaitFor(2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	counts("request", 1, 1)
	sent(2) // recorded before the resend, which cancels what is still pending
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if _, err := p.Resend(ctx, iss.RequestID, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.WaitFor(3, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	counts("resend", 2, 1)
	sent(3)
	request("Nobody") // a decoy: nothing to send
	counts("no match", 2, 1)

	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(server.Messages()); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}
