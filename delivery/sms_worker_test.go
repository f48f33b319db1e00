package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// smsWorker is a worker whose text messages go to a local Twilio stand-in.
func (e *env) smsWorker(s *SMS) *Worker {
	e.t.Helper()
	w, err := NewWorker(e.store, e.keys, map[casegate.Channel]casegate.Sender{casegate.ChannelSMS: s}, testURL)
	if err != nil {
		e.t.Fatal(err)
	}
	w.Now = e.clock.Now
	w.Logger = slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.Recorder = e.recorder(w, e.store)
	return w
}

func bySMS(d *casegate.Delivery) {
	d.Channel, d.Destination = casegate.ChannelSMS, "+15555550123"
}

func TestWorkerSendsCodeBySMS(t *testing.T) {
	e := newEnv(t)
	s, api := newTwilioTest(t, testSID, "from=+15551234567")
	id, code := e.queueCode("req-1", "", bySMS)
	e.runOnce(e.smsWorker(s), 1)
	form := api.last()
	if form.Get("To") != "+15555550123" || !strings.HasSuffix(form.Get("Body"), "\n@portal.example.org #"+code) {
		t.Errorf("Twilio got %v", form)
	}
	if d := e.delivery(id); d.Status != casegate.DeliverySent || d.SealedCode != nil {
		t.Errorf("delivery after sending: %+v", d)
	}
	e.checkLogClean(code, "5555550123")
}

// TestWorkerFailsPermanentSMSAtOnce checks that a number the provider
// refuses fails the delivery without retries, with the provider's reason
// for operators and without the number or the code.
func TestWorkerFailsPermanentSMSAtOnce(t *testing.T) {
	e := newEnv(t)
	s, api := newTwilioTest(t, testSID, "from=+15551234567")
	api.answer(http.StatusBadRequest, `{"code":21211,"message":"The 'To' number +15555550123 is not a valid phone number.","status":400}`)
	id, code := e.queueCode("req-1", "", bySMS)
	e.runOnce(e.smsWorker(s), 1)
	d := e.delivery(id)
	if d.Status != casegate.DeliveryFailed || d.Attempts != 1 || d.SealedCode != nil {
		t.Fatalf("after a permanent refusal: %+v", d)
	}
	if !strings.Contains(d.LastError, "21211") || strings.Contains(d.LastError, "5555550123") || strings.Contains(d.LastError, code) {
		t.Errorf("last_error %q: want the provider's code, not the number or the code", d.LastError)
	}
	if events := e.audit(id); len(events) != 1 || events[0].Action != "delivery.failed" || events[0].Outcome != "permanent_error" ||
		events[0].Details["channel"] != "sms" {
		t.Errorf("audit: %+v", events)
	}
	e.checkLogClean(code, "5555550123")

	// A provider that is overloaded is retried.
	api.answer(http.StatusTooManyRequests, `{"code":20429,"message":"Too Many Requests","status":429}`)
	id, _ = e.queueCode("req-2", "", bySMS)
	e.runOnce(e.smsWorker(s), 1)
	if d := e.delivery(id); d.Status != casegate.DeliveryPending || d.Attempts != 1 || !strings.Contains(d.LastError, "20429") {
		t.Errorf("after a 429: %+v", d)
	}
}

// refusingGuard refuses texts to one number.
type refusingGuard struct{ number string }

func (g *refusingGuard) RefuseSMS(d casegate.Delivery) string {
	if d.Destination == g.number {
		return "number_type: premium_rate"
	}
	return ""
}

// enqueueWatch is a store whose transactions keep what is queued in them,
// and fail queueing when fail is set: the fault injected.
type enqueueWatch struct {
	casegate.Store
	fail   error
	queued []casegate.Delivery
}

func (s *enqueueWatch) Update(ctx context.Context, fn func(casegate.Tx) error) error {
	return s.Store.Update(ctx, func(tx casegate.Tx) error { return fn(watchedTx{tx, s}) })
}

type watchedTx struct {
	casegate.Tx
	s *enqueueWatch
}

func (t watchedTx) EnqueueDelivery(ctx context.Context, d *casegate.Delivery) error {
	if t.s.fail != nil {
		return t.s.fail
	}
	t.s.queued = append(t.s.queued, *d)
	return t.Tx.EnqueueDelivery(ctx, d)
}

func TestWorkerGuardStopsATextAtSendTime(t *testing.T) {
	e := newEnv(t)
	s, api := newTwilioTest(t, testSID, "from=+15551234567")
	w := e.smsWorker(s)
	w.Senders[casegate.ChannelEmail] = newTestSMTP(t, e.server, "")
	w.Guard = &refusingGuard{number: "+19005550123"}
	watch := &enqueueWatch{Store: e.store}
	w.Recorder = e.recorder(w, watch)
	id, code := e.queueCode("req-1", "", func(d *casegate.Delivery) { d.Channel, d.Destination = casegate.ChannelSMS, "+19005550123" })
	e.runOnce(w, 1)
	if len(api.forms) != 0 {
		t.Fatalf("the provider was asked to text it: %v", api.last())
	}
	d := e.delivery(id)
	if d.Status != casegate.DeliveryCancelled || d.SealedCode != nil || d.Attempts != 0 || d.LastError != "sms_refused: number_type: premium_rate" {
		t.Errorf("refused text: %+v", d)
	}
	if events := e.audit(id); len(events) != 1 || events[0].Action != "delivery.cancelled" || events[0].Outcome != "sms_refused" {
		t.Errorf("audit: %+v", events)
	}
	// The recorder had the text as claimed, sealed code and all, in the
	// transaction that cancelled it, and queued its code by email; that goes next.
	if q := watch.queued; len(q) != 1 || q[0].ChallengeID != "req-1" || q[0].Channel != casegate.ChannelEmail || len(q[0].SealedCode) == 0 {
		t.Fatalf("queued in place of the text: %+v", q)
	}
	e.runOnce(w, 1)
	msgs, err := e.server.WaitFor(1, 5*time.Second)
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Text, accesscode.Display(code)) {
		t.Fatalf("the code by email: %v %+v", err, msgs)
	}
	// Texts it does not refuse go as before.
	id, _ = e.queueCode("req-2", "", bySMS)
	e.runOnce(w, 1)
	if d := e.delivery(id); d.Status != casegate.DeliverySent || api.last().Get("To") != "+15555550123" {
		t.Errorf("a text the guard allows: %+v", d)
	}
	e.checkLogClean(code, "9005550123")

	// When the replacement cannot be queued, nothing of the outcome is
	// written: the text is still pending, and is tried again once its lease ends.
	watch.fail = errors.New("database gone")
	id, _ = e.queueCode("req-3", "", func(d *casegate.Delivery) { d.Channel, d.Destination = casegate.ChannelSMS, "+19005550123" })
	if _, err := w.RunOnce(e.ctx); err == nil || !strings.Contains(err.Error(), "database gone") {
		t.Errorf("RunOnce: %v, want the recorder's error", err)
	}
	if d := e.delivery(id); d.Status != casegate.DeliveryPending || len(d.SealedCode) == 0 {
		t.Errorf("after a failed reroute: %+v", d)
	}
}
