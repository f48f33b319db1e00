package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/testenv"
)

func TestWorkerSendsCode(t *testing.T) {
	e := newEnv(t)
	id, code := e.queueCode("req-1", "jose@example.com")
	w := e.worker()
	e.runOnce(w, 1)
	e.runOnce(w, 0) // nothing left

	msgs, err := e.server.WaitFor(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || strings.Join(msgs[0].To, ",") != "jose@example.com" {
		t.Fatalf("messages: %+v", msgs)
	}
	if n := strings.Count(msgs[0].Text, accesscode.Display(code)); n != 1 {
		t.Errorf("the code appears %d times in the text:\n%s", n, msgs[0].Text)
	}
	if !strings.Contains(msgs[0].HTML, accesscode.Display(code)) || !strings.Contains(msgs[0].Text, "14:05 UTC") {
		t.Errorf("message lacks the code or the expiry:\n%s", msgs[0].Text)
	}
	d, l := e.delivery(id), e.lease(id)
	if d.Status != casegate.DeliverySent || d.SealedCode != nil || !d.SentAt.Equal(t0) || d.Attempts != 1 || l.Owner != "" {
		t.Errorf("delivery after sending: %+v, lease %+v", d, l)
	}
	e.checkAudit(id, "delivery.sent")
	e.checkLogClean(code, accesscode.Display(code), "jose@example.com")
	if !strings.Contains(e.log.String(), `"outcome":"sent"`) {
		t.Errorf("no log line for the send:\n%s", e.log)
	}
}

// sendTimes records the queued-to-sent times the worker observes.
type sendTimes struct {
	casegate.NopMetrics
	mu  sync.Mutex
	got []time.Duration
}

func (m *sendTimes) DeliverySent(ch casegate.Channel, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, d)
}

func TestWorkerRetriesUntilServerReturns(t *testing.T) {
	e := newEnv(t)
	queued := e.clock.Now()
	id, code := e.queueCode("req-1", "jose@example.com")
	w := e.worker()
	times := &sendTimes{}
	w.Metrics = times
	e.server.Stop()

	e.runOnce(w, 1)
	d := e.delivery(id)
	if d.Status != casegate.DeliveryPending || d.Attempts != 1 || d.LastError == "" || d.SealedCode == nil {
		t.Fatalf("after one failure: %+v", d)
	}
	if d.NextAttempt.Before(t0) || d.NextAttempt.After(t0.Add(w.BaseBackoff)) {
		t.Errorf("next attempt %v, want within %v of %v", d.NextAttempt, w.BaseBackoff, t0)
	}
	e.runOnce(w, 0) // not due yet (unless the jitter drew zero, about never)

	e.clock.Advance(w.BaseBackoff)
	e.runOnce(w, 1)
	d = e.delivery(id)
	if d.Status != casegate.DeliveryPending || d.Attempts != 2 {
		t.Fatalf("after two failures: %+v", d)
	}
	if max := e.clock.Now().Add(2 * w.BaseBackoff); d.NextAttempt.After(max) {
		t.Errorf("second backoff reaches %v, want at most %v", d.NextAttempt, max)
	}

	e.server.Restart()
	e.clock.Advance(2 * w.BaseBackoff)
	e.runOnce(w, 1)
	e.runOnce(w, 0)
	if _, err := e.server.WaitFor(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(e.server.Messages()); n != 1 {
		t.Errorf("%d messages arrived, want exactly 1", n)
	}
	d = e.delivery(id)
	if d.Status != casegate.DeliverySent || d.Attempts != 3 || d.SealedCode != nil || d.LastError != "" {
		t.Errorf("after the server came back: %+v", d)
	}
	e.checkAudit(id, "delivery.retry", "delivery.retry", "delivery.sent")
	// The time to deliver runs from the queue to the send that worked, the
	// failed tries included; the failures are not observed.
	if want := e.clock.Now().Sub(queued); len(times.got) != 1 || times.got[0] != want {
		t.Errorf("queued-to-sent observed %v, want once %v", times.got, want)
	}
	e.checkLogClean(code, accesscode.Display(code), "jose@example.com")
}

func TestWorkerFailsAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	id, _ := e.queueCode("req-1", "jose@example.com")
	w := e.worker()
	w.MaxAttempts = 3
	e.server.Stop()
	for i := range 3 {
		e.runOnce(w, 1)
		e.clock.Advance(w.BaseBackoff << i) // the longest possible wait, well inside the code's life
	}
	e.runOnce(w, 0)
	d := e.delivery(id)
	if d.Status != casegate.DeliveryFailed || d.Attempts != 3 || d.SealedCode != nil {
		t.Errorf("after %d failures: %+v", w.MaxAttempts, d)
	}
	e.checkAudit(id, "delivery.retry", "delivery.retry", "delivery.failed")
	if events := e.audit(id); len(events) == 3 && events[2].Outcome != "max_attempts" {
		t.Errorf("outcome %q, want max_attempts", events[2].Outcome)
	}
}

func TestWorkerPermanentFailureIsNotRetried(t *testing.T) {
	e := newEnv(t)
	e.server.RejectRecipients(func(addr string) bool { return addr == "gone@example.com" })
	id, code := e.queueCode("req-1", "gone@example.com")
	w := e.worker()
	e.runOnce(w, 1)
	e.clock.Advance(time.Hour)
	e.runOnce(w, 0)
	d := e.delivery(id)
	if d.Status != casegate.DeliveryFailed || d.Attempts != 1 || d.SealedCode != nil {
		t.Errorf("after a 550: %+v", d)
	}
	if !strings.Contains(d.LastError, "550") || strings.Contains(d.LastError, "gone@example.com") {
		t.Errorf("last_error = %q, want the reply code without the address", d.LastError)
	}
	if n := len(e.server.Messages()); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
	e.checkAudit(id, "delivery.failed")
	e.checkLogClean(code, accesscode.Display(code), "gone@example.com")
}

func TestWorkerCancelsCodesNoLongerWanted(t *testing.T) {
	e := newEnv(t)
	expired, _ := e.queueCode("req-expired", "a@example.com")
	used, _ := e.queueCode("req-used", "b@example.com")
	e.clock.Advance(5 * time.Minute)
	fresh, _ := e.queueCode("req-fresh", "c@example.com")
	e.update(func(tx casegate.Tx) error {
		_, err := tx.Consume(e.ctx, "req-used", e.clock.Now())
		return err
	})
	e.clock.Advance(5 * time.Minute) // req-expired and req-used reach their expiry

	w := e.worker()
	e.runOnce(w, 3)
	for _, id := range []int64{expired, used} {
		d := e.delivery(id)
		if d.Status != casegate.DeliveryCancelled || d.SealedCode != nil {
			t.Errorf("delivery %d: %+v, want cancelled with the code wiped", id, d)
		}
		e.checkAudit(id, "delivery.cancelled")
	}
	if d := e.delivery(fresh); d.Status != casegate.DeliverySent {
		t.Errorf("fresh delivery: %+v", d)
	}
	msgs, _ := e.server.WaitFor(1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != "c@example.com" {
		t.Errorf("messages: %d, want only the fresh one", len(msgs))
	}
}

func TestWorkerFailsWithoutSender(t *testing.T) {
	e := newEnv(t)
	var id int64
	e.update(func(tx casegate.Tx) error {
		d := casegate.Delivery{PartyID: e.party, Channel: casegate.ChannelSMS, Destination: "+15555550123",
			Template: casegate.TemplateLockoutNotice, Language: "en", CreatedAt: t0}
		err := tx.EnqueueDelivery(e.ctx, &d)
		id = d.ID
		return err
	})
	w := e.worker()
	e.runOnce(w, 1)
	if d := e.delivery(id); d.Status != casegate.DeliveryFailed || d.Attempts != 0 {
		t.Errorf("SMS without a sender: %+v", d)
	}
	if events := e.audit(id); len(events) != 1 || events[0].Action != "delivery.failed" || events[0].Outcome != "no_sender" {
		t.Errorf("audit: %+v", events)
	}
	e.checkLogClean("+15555550123", "5555550123")
}

func TestWorkerSendsNoticeWithoutCode(t *testing.T) {
	e := newEnv(t)
	var id int64
	e.update(func(tx casegate.Tx) error {
		d := casegate.Delivery{PartyID: e.party, Channel: casegate.ChannelEmail, Destination: "jose@example.com",
			Template: casegate.TemplateLockoutNotice, Language: "es", CreatedAt: t0,
			Params: map[string]string{"locked_until": "2026-03-02T15:00:00Z"}}
		err := tx.EnqueueDelivery(e.ctx, &d)
		id = d.ID
		return err
	})
	e.runOnce(e.worker(), 1)
	msgs, err := e.server.WaitFor(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msgs[0].Text, "hasta las 15:00 UTC") {
		t.Errorf("notice text:\n%s", msgs[0].Text)
	}
	if d := e.delivery(id); d.Status != casegate.DeliverySent {
		t.Errorf("notice: %+v", d)
	}
}

// TestTwoWorkersNeverSendTwice runs two workers, each with its own SMTP
// connection, on one store and counts what arrives per recipient.
func TestTwoWorkersNeverSendTwice(t *testing.T) {
	e := newEnv(t)
	e.clock = testenv.NewClock(time.Now()) // real waiting happens here; the lease must be real
	const n = 40
	codes := map[string]string{}
	for i := range n {
		to := fmt.Sprintf("p%02d@example.com", i)
		_, codes[to] = e.queueCode(fmt.Sprintf("req-%02d", i), to)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	for range 2 {
		w := e.worker()
		w.Now = time.Now
		w.Batch, w.Parallel, w.PollInterval = 5, 3, 10*time.Millisecond
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	_, err := e.server.WaitFor(n, 30*time.Second)
	// A real pause: a duplicate would be a second send already on its way,
	// and nothing marks one that should not exist; stopping the workers at
	// once would cut it off unseen.
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range e.server.Messages() {
		to := m.To[0]
		got[to]++
		if !strings.Contains(m.Text, accesscode.Display(codes[to])) {
			t.Errorf("%s got someone else's code", to)
		}
	}
	if len(got) != n {
		t.Errorf("%d recipients got mail, want %d", len(got), n)
	}
	for to, k := range got {
		if k != 1 {
			t.Errorf("%s got %d messages", to, k)
		}
	}
	var sent []casegate.Delivery
	e.store.View(e.ctx, func(tx casegate.Tx) error {
		var err error
		sent, err = tx.Deliveries(e.ctx, casegate.DeliverySent, 0)
		return err
	})
	if len(sent) != n {
		t.Errorf("%d deliveries sent, want %d", len(sent), n)
	}
}

func TestRunWakesAndReleasesLeases(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	w.PollInterval = time.Hour // only Wake can start a round after the first
	updates := &updateCounter{Store: e.store}
	w.Store = updates
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	// Once the first, empty claim round is over, only Wake can send a row
	// queued now.
	if !testenv.Eventually(5*time.Second, func() bool { return updates.ended.Load() >= 1 }) {
		t.Fatal("the worker did not run its first claim round")
	}
	first, _ := e.queueCode("req-1", "jose@example.com")
	w.Wake()
	w.Wake() // never blocks
	if _, err := e.server.WaitFor(1, 5*time.Second); err != nil {
		t.Fatalf("Wake did not start a round: %v", err)
	}
	if !testenv.Eventually(5*time.Second, func() bool { return e.delivery(first).Status == casegate.DeliverySent }) {
		t.Fatal("the sent delivery was not recorded")
	}

	// A delivery claimed by this owner but not sent is handed back on exit.
	// It is due only later, so the running worker leaves it alone.
	later := e.clock.Now().Add(time.Minute)
	late, _ := e.queueCode("req-2", "ana@example.com", func(d *casegate.Delivery) { d.NextAttempt = later })
	e.update(func(tx casegate.Tx) error {
		ds, err := tx.ClaimDeliveries(e.ctx, w.Owner, later, later.Add(time.Hour), 10)
		if err == nil && len(ds) != 1 {
			err = fmt.Errorf("claimed %d deliveries, want 1", len(ds))
		}
		return err
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if d, l := e.delivery(late), e.lease(late); l.Owner != "" || d.Status != casegate.DeliveryPending {
		t.Errorf("after Run returned: %+v, lease %+v, want pending without a lease", d, l)
	}
	if n := w.HandedBack(); n != 1 {
		t.Errorf("HandedBack() = %d, want the 1 delivery handed back", n)
	}
}

// updateCounter is a store that counts the write transactions that have
// ended. A worker on an empty outbox writes only to claim.
type updateCounter struct {
	casegate.Store
	ended atomic.Int64
}

func (s *updateCounter) Update(ctx context.Context, fn func(casegate.Tx) error) error {
	defer s.ended.Add(1)
	return s.Store.Update(ctx, fn)
}

func TestBackoffBounds(t *testing.T) {
	w := &Worker{BaseBackoff: 2 * time.Second, MaxBackoff: 5 * time.Minute}
	for attempt := 1; attempt <= 80; attempt++ {
		ceiling := min(w.MaxBackoff, w.BaseBackoff<<min(attempt-1, 20))
		var top time.Duration
		for range 200 {
			d := w.backoff(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", attempt, d, ceiling)
			}
			top = max(top, d)
		}
		if top < ceiling/2 {
			t.Errorf("backoff(%d) never above %v in 200 draws; the ceiling is %v", attempt, top, ceiling)
		}
	}
}

func TestNewWorkerChecks(t *testing.T) {
	e := newEnv(t)
	if _, err := NewWorker(nil, e.keys, nil, testURL); err == nil {
		t.Error("no store: no error")
	}
	if _, err := NewWorker(e.store, nil, nil, testURL); err == nil {
		t.Error("no keyring: no error")
	}
	if _, err := NewWorker(e.store, e.keys, nil, "portal.example.org"); err == nil {
		t.Error("relative public URL: no error")
	}
	w, err := NewWorker(e.store, e.keys, nil, testURL)
	if err != nil {
		t.Fatal(err)
	}
	w2, _ := NewWorker(e.store, e.keys, nil, testURL)
	if w.Owner == "" || w.Owner == w2.Owner {
		t.Errorf("owners %q and %q, want distinct", w.Owner, w2.Owner)
	}
	if w.Lease != DefaultLease || w.Batch != DefaultBatch || w.Parallel != DefaultParallel || w.MaxAttempts != DefaultMaxAttempts ||
		w.BaseBackoff != DefaultBaseBackoff || w.MaxBackoff != DefaultMaxBackoff || w.PollInterval != DefaultPollInterval ||
		w.SendTimeout > w.Lease/2 {
		t.Errorf("defaults: %+v", w)
	}
}

// TestWorkerWithoutRecorderClaimsNothing: the worker has no way of its own
// to write an outcome, so without a Recorder it refuses to start, before it
// leases anything.
func TestWorkerWithoutRecorderClaimsNothing(t *testing.T) {
	e := newEnv(t)
	id, _ := e.queueCode("req-1", "jose@example.com")
	w := e.worker()
	w.Recorder = nil
	if _, err := w.RunOnce(e.ctx); !errors.Is(err, errNoRecorder) {
		t.Errorf("RunOnce without a Recorder: %v, want %v", err, errNoRecorder)
	}
	if err := w.Run(e.ctx); !errors.Is(err, errNoRecorder) {
		t.Errorf("Run without a Recorder: %v, want %v", err, errNoRecorder)
	}
	if l := e.lease(id); l != (casegate.Lease{}) {
		t.Errorf("delivery leased to %+v by a worker that cannot record", l)
	}
	if n := len(e.server.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

// downRecorder fails with the store's "unavailable" while down is set, as
// the portal does while PostgreSQL fails over, and counts the calls.
type downRecorder struct {
	Recorder
	down  atomic.Bool
	calls atomic.Int64
}

func (r *downRecorder) RecordDeliveries(ctx context.Context, outs []casegate.DeliveryOutcome) ([]bool, error) {
	r.calls.Add(1)
	if r.down.Load() {
		return nil, fmt.Errorf("portal: record deliveries: store: update: %w", casegate.NewError(casegate.EUnavailable, "error.unavailable"))
	}
	return r.Recorder.RecordDeliveries(ctx, outs)
}

// sendWhileDown runs w, with a Recorder that answers unavailable, until the
// test ends, and waits until the code it queues has reached the mail server
// and its outcome has been offered twice. It returns the delivery's id.
func (e *env) sendWhileDown(w *Worker) (*downRecorder, int64) {
	e.t.Helper()
	rec, id := e.runWhileDown(w)
	if _, err := e.server.WaitFor(1, 5*time.Second); err != nil {
		e.t.Fatal(err)
	}
	return rec, id
}

// runWhileDown is sendWhileDown without waiting for the message: the send
// may have failed.
func (e *env) runWhileDown(w *Worker) (*downRecorder, int64) {
	e.t.Helper()
	rec := &downRecorder{Recorder: w.Recorder}
	rec.down.Store(true)
	w.Recorder = rec
	id, _ := e.queueCode("req-1", "jose@example.com")
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
	e.offeredAgain(rec, 2)
	return rec, id
}

// offeredAgain waits until rec has been offered an outcome n more times.
func (e *env) offeredAgain(rec *downRecorder, n int64) {
	e.t.Helper()
	want := rec.calls.Load() + n
	if !testenv.Eventually(5*time.Second, func() bool { return rec.calls.Load() >= want }) {
		e.t.Fatalf("the outcome was offered %d times while the database was down, want it tried again", rec.calls.Load())
	}
}

// backUp lets rec record again and checks that delivery id ends sent,
// audited once, with one message.
func (e *env) backUp(rec *downRecorder, id int64) {
	e.t.Helper()
	rec.down.Store(false)
	if !testenv.Eventually(10*time.Second, func() bool { return e.delivery(id).Status == casegate.DeliverySent }) {
		e.t.Fatalf("not recorded sent once the database was back: %+v\n%s", e.delivery(id), e.log)
	}
	if n := len(e.server.Messages()); n != 1 {
		e.t.Errorf("%d messages, want 1", n)
	}
	e.checkAudit(id, "delivery.sent")
}

// TestRunRecordsOutcomeOnceTheDatabaseReturns sends a code while the
// database cannot record the outcome: the worker keeps the outcome and tries
// again until the database is back, so the row ends sent and is not left
// pending to be claimed and sent a second time.
func TestRunRecordsOutcomeOnceTheDatabaseReturns(t *testing.T) {
	e := newEnv(t)
	rec, id := e.sendWhileDown(e.worker())
	if d := e.delivery(id); d.Status != casegate.DeliveryPending {
		t.Fatalf("recorded while down: %+v", d)
	}
	e.backUp(rec, id)
	if !strings.Contains(e.log.String(), "delivery outcomes wait for the database") {
		t.Errorf("no log line says the outcomes wait:\n%s", e.log)
	}
}

// TestRunKeepsOutcomePastItsLease lets the database stay away for longer
// than the delivery's lease: the worker goes on offering the outcome, does
// not send the row again when its own claim takes it back, and records it
// sent once the database returns. One message.
func TestRunKeepsOutcomePastItsLease(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	w.PollInterval = 50 * time.Millisecond // claims come often: one would find the row once its lease ran out
	rec, id := e.sendWhileDown(w)
	e.clock.Advance(w.Lease + time.Second)
	past := rec.calls.Load()
	if !testenv.Eventually(10*time.Second, func() bool { return rec.calls.Load() >= past+3 }) {
		t.Fatalf("the outcome was offered %d more times after the lease ran out, want it kept and offered again", rec.calls.Load()-past)
	}
	if n := len(e.server.Messages()); n != 1 {
		t.Fatalf("%d messages while the outcome waited past the lease, want 1", n)
	}
	e.backUp(rec, id)
}

// TestRunRecordsTheSendTimeNotTheRecordTime keeps the database away for 20
// seconds after the provider accepted a code: the sent time stored and the
// queued-to-sent time observed are those of the send, not of the database
// coming back, so a failover does not make mail that went out promptly look
// late (the time-to-deliver alert watches that histogram).
func TestRunRecordsTheSendTimeNotTheRecordTime(t *testing.T) {
	e := newEnv(t)
	queued := e.clock.Now()
	w := e.worker()
	times := &sendTimes{}
	w.Metrics = times
	rec, id := e.sendWhileDown(w)
	sent := e.clock.Now() // the clock stood still from the queue to the send
	e.clock.Advance(20 * time.Second)
	e.offeredAgain(rec, 1) // offered again after the outage went on
	e.backUp(rec, id)
	if d := e.delivery(id); !d.SentAt.Equal(sent) {
		t.Errorf("sent_at %v, want the time of the send %v (the database came back at %v)", d.SentAt, sent, e.clock.Now())
	}
	// The observation follows the commit that backUp saw.
	observed := func() []time.Duration {
		times.mu.Lock()
		defer times.mu.Unlock()
		return slices.Clone(times.got)
	}
	testenv.Eventually(5*time.Second, func() bool { return len(observed()) > 0 })
	if got, want := observed(), sent.Sub(queued); len(got) != 1 || got[0] != want {
		t.Errorf("queued-to-sent observed %v, want once %v", got, want)
	}
}

// TestRunRetriesFromTheFailedSendNotTheRecord fails a send while the
// database is away for 20 seconds: the retry is due a backoff after the send
// that failed, not after the database came back.
func TestRunRetriesFromTheFailedSendNotTheRecord(t *testing.T) {
	e := newEnv(t)
	w := e.worker()
	w.PollInterval = time.Hour // one claim, at the start: the retry stays as recorded
	e.server.Stop()
	rec, id := e.runWhileDown(w)
	failed := e.clock.Now()
	e.clock.Advance(20 * time.Second)
	e.offeredAgain(rec, 1)
	rec.down.Store(false)
	if !testenv.Eventually(10*time.Second, func() bool { return e.delivery(id).Attempts == 1 }) {
		t.Fatalf("the failed try was not recorded once the database was back: %+v\n%s", e.delivery(id), e.log)
	}
	d := e.delivery(id)
	if d.Status != casegate.DeliveryPending || d.NextAttempt.Before(failed) || d.NextAttempt.After(failed.Add(w.BaseBackoff)) {
		t.Errorf("after the failed send: %s, due at %v; want pending, due within %v of the send at %v (the database came back at %v)",
			d.Status, d.NextAttempt, w.BaseBackoff, failed, e.clock.Now())
	}
	e.checkAudit(id, "delivery.retry")
}
