package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// outcome is what became of one claimed delivery.
type outcome struct {
	action  casegate.DeliveryResult // sent, retry, failed, cancelled; empty when handed back unsent
	reason  string                  // the audit outcome: ok, transient_error, permanent_error, ...
	err     error                   // the send or preparation error, unredacted; nil when sent
	code    string                  // the plaintext code, only to redact it from err
	attempt bool                    // whether a send was tried, so the attempt counts
	at      time.Time               // when the send ended (the provider accepted or refused it), or the outcome was decided
}

// result is one claimed delivery and what became of it, waiting to be recorded.
type result struct {
	d   casegate.ClaimedDelivery
	out outcome
}

// deliver handles one claimed delivery up to its outcome, which the caller
// reports (with finish). An outcome without an action means the delivery was
// handed back unsent and there is nothing to record.
func (w *Worker) deliver(ctx context.Context, d casegate.ClaimedDelivery) (outcome, error) {
	out, err := w.attempt(ctx, d)
	if err != nil {
		return outcome{}, fmt.Errorf("delivery %d: %w", d.ID, err)
	}
	if out.at.IsZero() {
		out.at = w.Now() // decided without a send
	}
	return out, nil
}

// attempt decides whether d is still wanted and, if so, sends it. An error
// means nothing could be decided (the database did not answer); an outcome
// without an action means the delivery was handed back unsent.
func (w *Worker) attempt(ctx context.Context, d casegate.ClaimedDelivery) (outcome, error) {
	if !w.Now().Before(d.Lease.Until) {
		// The lease ran out while the delivery waited for a sender: another
		// worker may have claimed it since. Leave it be; whoever holds the
		// row now, or the next claim, sends it.
		w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery lease ran out before it was sent",
			slog.Int64("delivery_id", d.ID), slog.String("channel", string(d.Channel)), slog.String("template", d.Template))
		return outcome{}, nil
	}
	if d.ChallengeID != "" {
		// The challenge's state came with the claim (or with the hand-over
		// from the portal): no read per message.
		switch {
		case d.ChallengeExpiresAt.IsZero():
			return outcome{action: casegate.DeliveryCancelledResult, reason: "challenge_gone"}, nil
		case d.ChallengeUsed:
			return outcome{action: casegate.DeliveryCancelledResult, reason: "challenge_used"}, nil
		case !w.Now().Before(d.ChallengeExpiresAt):
			return outcome{action: casegate.DeliveryCancelledResult, reason: "challenge_expired"}, nil
		}
	} else if len(d.SealedCode) > 0 {
		// Every code belongs to a challenge; the store clears the link when it
		// purges one, and a code whose challenge is gone must not go out.
		return outcome{action: casegate.DeliveryCancelledResult, reason: "challenge_gone"}, nil
	}
	if d.Channel == casegate.ChannelSMS && w.Guard != nil {
		if why := w.Guard.RefuseSMS(d.Delivery); why != "" {
			return outcome{action: casegate.DeliveryCancelledResult, reason: casegate.ReasonSMSRefused, err: errors.New(why)}, nil
		}
	}
	sender := w.Senders[d.Channel]
	if sender == nil {
		return outcome{action: casegate.DeliveryFailedResult, reason: "no_sender",
			err: fmt.Errorf("no sender is configured for channel %q", d.Channel)}, nil
	}
	var code string
	if len(d.SealedCode) > 0 {
		var err error
		if code, err = w.Keys.Open(d.SealedCode); err != nil {
			return outcome{action: casegate.DeliveryFailedResult, reason: "unsealable", err: err}, nil
		}
	}
	msg, err := renderMessage(w.Agency, d.Delivery, code, w.PublicURL, w.Location, w.unsubscribeURL(d.Delivery))
	if err != nil {
		return outcome{action: casegate.DeliveryFailedResult, reason: "render_error", err: err, code: code}, nil
	}
	// A send must end well inside the lease, or another worker may claim and
	// send the delivery too. Too little lease left: hand it back unsent.
	if d.Lease.Until.Sub(w.Now()) < w.SendTimeout {
		return outcome{}, w.handBack(ctx, d)
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	err = sender.Send(sendCtx, msg)
	cancel()
	// The time the provider answered, read here and not when the outcome
	// is recorded: recording waits out a database failover (finishHeld),
	// and neither the sent time nor the time to deliver includes that wait.
	at := w.Now()
	switch {
	case err == nil:
		return outcome{action: casegate.DeliverySentResult, reason: "ok", code: code, attempt: true, at: at}, nil
	case casegate.IsPermanent(err):
		return outcome{action: casegate.DeliveryFailedResult, reason: "permanent_error", err: err, code: code, attempt: true, at: at}, nil
	default:
		return outcome{action: casegate.DeliveryRetryResult, reason: "transient_error", err: err, code: code, attempt: true, at: at}, nil
	}
}

// unsubscribeURL is the one-click unsubscribe address of an emailed status
// notice, "" for any other message: a code is not something to unsubscribe
// from, and a text has no room for the link.
func (w *Worker) unsubscribeURL(d casegate.Delivery) string {
	if w.Keys == nil || d.Template != casegate.TemplateStatusUpdate || d.Channel != casegate.ChannelEmail || d.PartyID <= 0 || d.Params["receipt_number"] == "" {
		return ""
	}
	tok := w.Keys.UnsubscribeToken(accesscode.Unsubscribe{
		PartyID: d.PartyID, Receipt: d.Params["receipt_number"], Expires: w.Now().Add(w.UnsubscribeTTL),
	})
	return strings.TrimSuffix(w.PublicURL, "/") + UnsubscribePath + "?t=" + tok
}

// UnsubscribePath is where unsubscribe links point, under the public URL.
const UnsubscribePath = "/unsubscribe"

// handBack clears d's lease without counting an attempt.
func (w *Worker) handBack(ctx context.Context, d casegate.ClaimedDelivery) error {
	err := w.Store.Update(ctx, func(tx casegate.Tx) error { return tx.FinishDelivery(ctx, d) })
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("hand back: %w", err)
	}
	w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery handed back: lease too short to send",
		slog.Int64("delivery_id", d.ID), slog.String("channel", string(d.Channel)), slog.String("template", d.Template))
	return nil
}

// finish reports the outcomes of a batch to the Recorder, which records
// them in one transaction, then logs and counts each. A delivery whose lease
// was lost meanwhile (another worker holds it, or the portal cancelled it)
// keeps the other's record. It returns how many outcomes were recorded.
func (w *Worker) finish(ctx context.Context, results []result) (int, error) {
	if len(results) == 0 {
		return 0, nil
	}
	outs := make([]casegate.DeliveryOutcome, len(results))
	for i, r := range results {
		outs[i] = w.report(r.d, r.out)
	}
	// The outcomes are written even when ctx ends meanwhile: the sends happened.
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	recorded, err := w.Recorder.RecordDeliveries(writeCtx, outs)
	if err != nil {
		return 0, fmt.Errorf("record outcomes: %w", err)
	}
	n := 0
	for i, o := range outs {
		attrs := []slog.Attr{
			slog.Int64("delivery_id", o.Delivery.ID),
			slog.String("channel", string(o.Delivery.Channel)),
			slog.String("template", o.Delivery.Template),
			slog.String("outcome", string(o.Result)),
			slog.String("reason", o.Reason),
			slog.Int("attempt", o.Attempts()),
		}
		if o.Error != "" {
			attrs = append(attrs, slog.String("error", o.Error))
		}
		if !recorded[i] {
			w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery lease lost before the outcome was written", attrs...)
			continue
		}
		n++
		w.Metrics.DeliveryFinished(o.Delivery.Channel, o.Delivery.Template, string(o.Result))
		level := slog.LevelInfo
		switch o.Result {
		case casegate.DeliverySentResult:
			if !o.Delivery.CreatedAt.IsZero() {
				queued := o.At.Sub(o.Delivery.CreatedAt)
				w.Metrics.DeliverySent(o.Delivery.Channel, queued)
				attrs = append(attrs, slog.Float64("queued_to_sent_seconds", queued.Seconds()))
			}
		case casegate.DeliveryRetryResult:
			level = slog.LevelWarn
			attrs = append(attrs, slog.Time("next_attempt", o.RetryAt))
		case casegate.DeliveryFailedResult:
			level = slog.LevelError
		}
		w.Logger.LogAttrs(ctx, level, "delivery "+string(o.Result), attrs...)
	}
	return n, nil
}

// report turns an outcome into what the worker tells the Recorder: the
// error redacted, and a retry that used the last attempt turned into a
// failure (max_attempts), or given the time it is due again.
//
// The backoff runs from the failed send (out.at), not from when the outcome
// is recorded: it is the pause the provider gets between two tries, and a
// database outage that held the outcome back already gave it that pause.
// Counting from the record would add the outage to the wait of a person
// for their code; a retry whose backoff passed during the outage is due at
// once, and Parallel still bounds how many go to the provider together.
func (w *Worker) report(d casegate.ClaimedDelivery, out outcome) casegate.DeliveryOutcome {
	o := casegate.DeliveryOutcome{Delivery: d, Result: out.action, Reason: out.reason, Attempted: out.attempt, At: out.at}
	if out.err != nil {
		o.Error = Redact(out.err.Error(), out.code, accesscode.Display(out.code))
	}
	if o.Result == casegate.DeliveryRetryResult {
		if o.Attempts() >= w.MaxAttempts {
			o.Result, o.Reason = casegate.DeliveryFailedResult, "max_attempts"
		} else {
			o.RetryAt = out.at.Add(w.backoff(o.Attempts()))
		}
	}
	return o
}

// backoff returns the delay before retry number attempt (1 after the first
// failure): uniform between zero and BaseBackoff·2^(attempt-1), capped at
// MaxBackoff ("full jitter"), so retries of many deliveries spread out.
func (w *Worker) backoff(attempt int) time.Duration {
	ceiling := w.MaxBackoff
	if shift := attempt - 1; shift >= 0 && shift < 63 && w.BaseBackoff <= ceiling>>shift {
		ceiling = w.BaseBackoff << shift
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}
