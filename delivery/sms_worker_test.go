package delivery

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/casegate/casegate"
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
