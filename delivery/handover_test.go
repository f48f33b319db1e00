package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// handOver queues a code under a lease from w.Reserve, as the portal does,
// and hands the committed delivery to w. It returns the delivery's id and code.
func (e *env) handOver(w *Worker, challengeID, to string) (int64, string) {
	e.t.Helper()
	owner, until, ok := w.Reserve()
	if !ok {
		e.t.Fatal("Reserve refused a running worker with an empty queue")
	}
	id, code := e.queueCode(challengeID, to, func(d *casegate.Delivery) { d.LeaseOwner, d.LeaseUntil = owner, until })
	d := e.delivery(id)
	d.ChallengeExpiresAt = e.clock.Now().Add(10 * time.Minute)
	w.HandOver(d)
	return id, code
}

// runWorker starts w.Run and waits until it takes hand-overs; the returned
// function stops it and returns Run's error.
func (e *env) runWorker(w *Worker) (stop func() error) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, _, ok := w.Reserve(); ok {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatal("Run did not start taking hand-overs")
		}
	}
	return func() error { cancel(); return <-done }
}

func TestHandOverSendsWithoutAClaim(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	if _, _, ok := w.Reserve(); ok {
		t.Fatal("Reserve offered a lease before Run started")
	}
	// Only the first claim round runs (on an empty outbox), and nothing wakes
	// the worker: what is sent came by hand.
	w.PollInterval = time.Hour
	stop := e.runWorker(w)
	id, code := e.handOver(w, "req-1", "jose@example.com")
	msgs, err := e.server.WaitFor(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msgs[0].Text, accesscode.Display(code)) {
		t.Errorf("the message lacks the code:\n%s", msgs[0].Text)
	}
	for deadline := time.Now().Add(5 * time.Second); e.delivery(id).Status != casegate.DeliverySent; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sent delivery was not recorded: %+v", e.delivery(id))
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := w.Reserve(); ok {
		t.Error("Reserve offered a lease after Run stopped")
	}
	if d := e.delivery(id); d.SealedCode != nil || d.LeaseOwner != "" || d.Attempts != 1 {
		t.Errorf("delivery after sending: %+v", d)
	}
	e.checkAudit(id, "delivery.sent")
	if n := len(e.server.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestHandOverCancelsACodeWhoseChallengeExpired(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	w.PollInterval = time.Hour
	stop := e.runWorker(w)
	defer stop()
	owner, until, _ := w.Reserve()
	id, _ := e.queueCode("req-1", "jose@example.com", func(d *casegate.Delivery) { d.LeaseOwner, d.LeaseUntil = owner, until })
	d := e.delivery(id)
	d.ChallengeExpiresAt = e.clock.Now() // expired as it is handed over
	w.HandOver(d)
	for deadline := time.Now().Add(5 * time.Second); e.delivery(id).Status != casegate.DeliveryCancelled; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("delivery: %+v, want cancelled", e.delivery(id))
		}
	}
	if n := len(e.server.Messages()); n != 0 {
		t.Errorf("%d messages for an expired code", n)
	}
}

// hungSender is a provider that never answers: each send waits for its
// context. It injects the fault; nothing else in these tests is faked.
type hungSender struct{ started chan struct{} }

func (s hungSender) Send(ctx context.Context, _ casegate.Message) error {
	s.started <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestBusyWorkerRefusesHandOversAndReleasesItsQueueOnStop(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	hung := hungSender{started: make(chan struct{}, 1)}
	w.Senders = map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: hung}
	w.Parallel, w.PollInterval = 1, time.Hour
	stop := e.runWorker(w)
	inFlight, _ := e.handOver(w, "req-1", "a@example.com")
	<-hung.started // the only sender is now stuck on the first delivery
	waiting, _ := e.handOver(w, "req-2", "b@example.com")
	for i := 1; i < maxQueued; i++ {
		if _, _, ok := w.Reserve(); !ok {
			t.Fatalf("Reserve refused with %d waiting, want room for %d", i, maxQueued)
		}
		w.HandOver(casegate.Delivery{}) // stands for a delivery of another test; never sent
	}
	if _, _, ok := w.Reserve(); ok {
		t.Fatalf("Reserve offered a lease with %d deliveries waiting", maxQueued)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The send cut short by the stop counts as a failed attempt; the one that
	// never left the queue is handed back for any worker to claim at once.
	if d := e.delivery(inFlight); d.Status != casegate.DeliveryPending || d.Attempts != 1 || d.LeaseOwner != "" {
		t.Errorf("interrupted delivery: %+v, want pending, attempt 1, no lease", d)
	}
	if d := e.delivery(waiting); d.Status != casegate.DeliveryPending || d.Attempts != 0 || d.LeaseOwner != "" || d.SealedCode == nil {
		t.Errorf("waiting delivery: %+v, want pending, untried, no lease, code kept", d)
	}
	e.update(func(tx casegate.Tx) error {
		ds, err := tx.ClaimDeliveries(e.ctx, "another", e.clock.Now(), e.clock.Now().Add(time.Minute), 10)
		if err == nil && (len(ds) != 1 || ds[0].ID != waiting) {
			t.Errorf("another worker claimed %d deliveries, want only %d", len(ds), waiting)
		}
		return err
	})
}
