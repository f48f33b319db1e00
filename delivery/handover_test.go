package delivery

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/testenv"
)

// handOver queues a code through w.QueueCode, as the portal does, and hands
// the committed delivery to w. It returns the delivery's id and code.
func (e *env) handOver(w *Worker, challengeID, to string) (int64, string) {
	e.t.Helper()
	var handed casegate.ClaimedDelivery
	id, code := e.queueCodeWith(challengeID, to, func(tx casegate.Tx, d *casegate.Delivery) error {
		var err error
		handed, err = w.QueueCode(e.ctx, tx, d, e.clock.Now().Add(10*time.Minute))
		return err
	})
	if handed.ID != id || handed.Lease.Owner != w.Owner {
		e.t.Fatalf("QueueCode gave delivery %d held by %q, want %d held by the running worker", handed.ID, handed.Lease.Owner, id)
	}
	if l := e.lease(id); l != handed.Lease {
		e.t.Fatalf("delivery %d is stored under lease %+v, want %+v", id, l, handed.Lease)
	}
	w.HandOver(handed)
	return id, code
}

// runWorker starts w.Run and waits until it takes hand-overs; the returned
// function stops it and returns Run's error.
func (e *env) runWorker(w *Worker) (stop func() error) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	if !testenv.Eventually(5*time.Second, func() bool { _, ok := w.Reserve(); return ok }) {
		e.t.Fatal("Run did not start taking hand-overs")
	}
	return func() error { cancel(); return <-done }
}

func TestHandOverSendsWithoutAClaim(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	if _, ok := w.Reserve(); ok {
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
	if !testenv.Eventually(5*time.Second, func() bool { return e.delivery(id).Status == casegate.DeliverySent }) {
		t.Fatalf("the sent delivery was not recorded: %+v", e.delivery(id))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Reserve(); ok {
		t.Error("Reserve offered a lease after Run stopped")
	}
	if d, l := e.delivery(id), e.lease(id); d.SealedCode != nil || l.Owner != "" || d.Attempts != 1 {
		t.Errorf("delivery after sending: %+v, lease %+v", d, l)
	}
	e.checkAudit(id, "delivery.sent")
	if n := len(e.server.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestHandOverCancelsACodeWhoseChallengeExpired(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	w.PollInterval, w.Lease = time.Hour, time.Hour // the lease outlives the code
	stop := e.runWorker(w)
	defer stop()
	var d casegate.ClaimedDelivery
	id, _ := e.queueCodeWith("req-1", "jose@example.com", func(tx casegate.Tx, q *casegate.Delivery) error {
		var err error
		d, err = w.QueueCode(e.ctx, tx, q, e.clock.Now().Add(10*time.Minute)) // the challenge's expiry, as the portal gives it
		return err
	})
	e.clock.Advance(10 * time.Minute) // the code expires before a sender takes it
	w.HandOver(d)
	if !testenv.Eventually(5*time.Second, func() bool { return e.delivery(id).Status == casegate.DeliveryCancelled }) {
		t.Fatalf("delivery: %+v, want cancelled", e.delivery(id))
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

// stuckWorker runs a worker with one sender, whose provider never answers.
func (e *env) stuckWorker() (*Worker, hungSender, func() error) {
	w := e.worker()
	hung := hungSender{started: make(chan struct{}, 1)}
	w.Senders = map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: hung}
	w.Parallel, w.PollInterval = 1, time.Hour
	return w, hung, e.runWorker(w)
}

func TestBusyWorkerRefusesHandOversAndReleasesItsQueueOnStop(t *testing.T) {
	e := newEnv(t)
	w, hung, stop := e.stuckWorker()
	inFlight, _ := e.handOver(w, "req-1", "a@example.com")
	<-hung.started // the only sender is now stuck on the first delivery
	waiting, _ := e.handOver(w, "req-2", "b@example.com")
	for i := 1; i < maxQueued; i++ {
		if _, ok := w.Reserve(); !ok {
			t.Fatalf("Reserve refused with %d waiting, want room for %d", i, maxQueued)
		}
		lease, _ := w.Reserve()
		w.HandOver(casegate.ClaimedDelivery{Delivery: casegate.Delivery{ID: int64(1_000_000 + i)}, Lease: lease}) // stands for others' deliveries; never sent
	}
	if _, ok := w.Reserve(); ok {
		t.Fatalf("Reserve offered a lease with %d deliveries waiting", maxQueued)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The send cut short by the stop counts as a failed attempt; the one that
	// never left the queue is handed back for any worker to claim at once.
	if d, l := e.delivery(inFlight), e.lease(inFlight); d.Status != casegate.DeliveryPending || d.Attempts != 1 || l.Owner != "" {
		t.Errorf("interrupted delivery: %+v, lease %+v, want pending, attempt 1, no lease", d, l)
	}
	if d, l := e.delivery(waiting), e.lease(waiting); d.Status != casegate.DeliveryPending || d.Attempts != 0 || l.Owner != "" || d.SealedCode == nil {
		t.Errorf("waiting delivery: %+v, lease %+v, want pending, untried, no lease, code kept", d, l)
	}
	e.update(func(tx casegate.Tx) error {
		ds, err := tx.ClaimDeliveries(e.ctx, "another", e.clock.Now(), e.clock.Now().Add(time.Minute), 10)
		if err == nil && (len(ds) != 1 || ds[0].ID != waiting) {
			t.Errorf("another worker claimed %d deliveries, want only %d", len(ds), waiting)
		}
		return err
	})
}

func TestReserveRefusesWhileTheQueueDoesNotMove(t *testing.T) {
	e := newEnv(t)
	w, hung, stop := e.stuckWorker()
	defer stop()
	e.handOver(w, "req-1", "a@example.com")
	<-hung.started
	e.handOver(w, "req-2", "b@example.com") // waits at the front of the queue
	e.clock.Advance(maxQueueWait)
	if _, ok := w.Reserve(); !ok {
		t.Fatalf("Reserve refused after the front waited %v", maxQueueWait)
	}
	e.clock.Advance(time.Millisecond)
	if _, ok := w.Reserve(); ok {
		t.Fatalf("Reserve offered a lease while the front of the queue waited longer than %v", maxQueueWait)
	}
}

// gatedSender is a provider that answers only when its gate opens: a slow
// mail server, the fault injected. It counts what it accepted per recipient.
type gatedSender struct {
	gate    chan struct{}
	started chan string
	mu      sync.Mutex
	sent    map[string]int
}

func (s *gatedSender) Send(ctx context.Context, m casegate.Message) error {
	s.started <- m.To
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[m.To]++
	return nil
}

// TestALeaseThatRanOutInTheQueueIsNotSentTwice: while the senders are stuck,
// the leases of the rows they hold and of one waiting in the queue run out,
// and the worker claims the same rows again. Each row must go out once.
func TestALeaseThatRanOutInTheQueueIsNotSentTwice(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	slow := &gatedSender{gate: make(chan struct{}), started: make(chan string, 16), sent: map[string]int{}}
	w.Senders = map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: slow}
	w.Parallel, w.PollInterval = 2, time.Hour
	stop := e.runWorker(w)
	defer stop()
	var ids []int64
	for i, to := range []string{"b1@example.com", "b2@example.com"} {
		id, _ := e.handOver(w, fmt.Sprintf("req-b%d", i), to)
		ids = append(ids, id)
		<-slow.started
	}
	waiting, _ := e.handOver(w, "req-a", "a@example.com")
	ids = append(ids, waiting)
	e.clock.Advance(w.Lease + time.Second) // every lease runs out
	w.Wake()                               // the claim leases all three to this worker again
	if !testenv.Eventually(5*time.Second, func() bool { return e.lease(waiting).Until.After(e.clock.Now()) }) {
		t.Fatal("the worker did not claim the rows whose leases ran out")
	}
	close(slow.gate)
	// The waiting row's first copy is dropped (its lease ran out); the row,
	// claimed again, is sent under its new lease.
	done := 0
	allSent := testenv.Eventually(5*time.Second, func() bool {
		done = 0
		for _, id := range ids {
			if e.delivery(id).Status == casegate.DeliverySent {
				done++
			}
		}
		if done == len(ids) {
			return true
		}
		w.Wake()
		return false
	})
	if !allSent {
		for _, id := range ids {
			t.Logf("delivery %d: %+v", id, e.delivery(id))
		}
		t.Fatalf("%d of %d sent", done, len(ids))
	}
	slow.mu.Lock()
	defer slow.mu.Unlock()
	for _, to := range []string{"b1@example.com", "b2@example.com", "a@example.com"} {
		if slow.sent[to] != 1 {
			t.Errorf("%s was sent %d messages, want 1", to, slow.sent[to])
		}
	}
}

// TestQueueCodeLeasesOnlyWhatTheWorkerCanTake: a code queued while the
// worker is not running is stored unleased, and handing it over wakes the
// worker to claim it; a row that is not to be sent (a decoy's) is never
// leased, even by a running worker.
func TestQueueCodeLeasesOnlyWhatTheWorkerCanTake(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	w.PollInterval = time.Hour
	queue := func(challengeID string, edit ...func(*casegate.Delivery)) (int64, casegate.ClaimedDelivery) {
		var d casegate.ClaimedDelivery
		id, _ := e.queueCodeWith(challengeID, "jose@example.com", func(tx casegate.Tx, q *casegate.Delivery) error {
			var err error
			d, err = w.QueueCode(e.ctx, tx, q, e.clock.Now().Add(10*time.Minute))
			return err
		}, edit...)
		return id, d
	}
	id, d := queue("req-1")
	if l := e.lease(id); d.ID != id || d.Lease != (casegate.Lease{}) || l != (casegate.Lease{}) {
		t.Fatalf("code queued with no worker running: delivery %d with lease %+v, stored lease %+v; want %d, no lease", d.ID, d.Lease, l, id)
	}
	w.HandOver(d)
	select {
	case <-w.wake:
	default:
		t.Error("handing over a code the worker does not hold did not wake it to claim the code")
	}
	if w.held[id] {
		t.Error("the worker took a code it does not hold")
	}

	stop := e.runWorker(w)
	defer stop()
	decoy, d := queue("req-2", func(d *casegate.Delivery) {
		d.Destination, d.SealedCode, d.Status = "", nil, casegate.DeliveryCancelled
	})
	if l := e.lease(decoy); d.Lease != (casegate.Lease{}) || l != (casegate.Lease{}) {
		t.Errorf("a cancelled row was queued leased: %+v, stored %+v", d.Lease, l)
	}
}
