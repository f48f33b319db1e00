package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// outcome is what became of one claimed delivery.
type outcome struct {
	action  string // sent, retry, failed, cancelled: the audit action's suffix
	reason  string // the audit outcome: ok, transient_error, permanent_error, ...
	err     error  // the send or preparation error, unredacted; nil when sent
	code    string // the plaintext code, only to redact it from err
	attempt bool   // whether a send was tried, so the attempt counts
	reroute bool   // a text the guard refused: it may queue a replacement
}

// result is one claimed delivery and what became of it, waiting to be recorded.
type result struct {
	d   casegate.ClaimedDelivery
	out outcome
}

// deliver handles one claimed delivery up to its outcome, which the caller
// records (with finish). An outcome without an action means the delivery was
// handed back unsent and there is nothing to record.
func (w *Worker) deliver(ctx context.Context, d casegate.ClaimedDelivery) (outcome, error) {
	out, err := w.attempt(ctx, d)
	if err != nil {
		return outcome{}, fmt.Errorf("delivery %d: %w", d.ID, err)
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
			return outcome{action: "cancelled", reason: "challenge_gone"}, nil
		case d.ChallengeUsed:
			return outcome{action: "cancelled", reason: "challenge_used"}, nil
		case !w.Now().Before(d.ChallengeExpiresAt):
			return outcome{action: "cancelled", reason: "challenge_expired"}, nil
		}
	} else if len(d.SealedCode) > 0 {
		// Every code belongs to a challenge; the store clears the link when it
		// purges one, and a code whose challenge is gone must not go out.
		return outcome{action: "cancelled", reason: "challenge_gone"}, nil
	}
	if d.Channel == casegate.ChannelSMS && w.Guard != nil {
		if why := w.Guard.RefuseSMS(d.Delivery); why != "" {
			return outcome{action: "cancelled", reason: "sms_refused", err: errors.New(why), reroute: true}, nil
		}
	}
	sender := w.Senders[d.Channel]
	if sender == nil {
		return outcome{action: "failed", reason: "no_sender",
			err: fmt.Errorf("no sender is configured for channel %q", d.Channel)}, nil
	}
	var code string
	if len(d.SealedCode) > 0 {
		var err error
		if code, err = w.Keys.Open(d.SealedCode); err != nil {
			return outcome{action: "failed", reason: "unsealable", err: err}, nil
		}
	}
	msg, err := Render(d.Delivery, code, w.PublicURL, time.UTC)
	if err != nil {
		return outcome{action: "failed", reason: "render_error", err: err, code: code}, nil
	}
	// A send must end well inside the lease, or another worker may claim and
	// send the delivery too. Too little lease left: hand it back unsent.
	if d.Lease.Until.Sub(w.Now()) < w.SendTimeout {
		return outcome{}, w.handBack(ctx, d)
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	err = sender.Send(sendCtx, msg)
	cancel()
	switch {
	case err == nil:
		return outcome{action: "sent", reason: "ok", code: code, attempt: true}, nil
	case casegate.IsPermanent(err):
		return outcome{action: "failed", reason: "permanent_error", err: err, code: code, attempt: true}, nil
	default:
		return outcome{action: "retry", reason: "transient_error", err: err, code: code, attempt: true}, nil
	}
}

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

// finish writes the outcomes of a batch and their audit events in one
// transaction, then logs and counts each. A delivery whose lease was lost
// meanwhile (another worker holds it, or the portal cancelled it) keeps the
// other's record. It returns how many outcomes it recorded.
func (w *Worker) finish(ctx context.Context, results []result) (int, error) {
	if len(results) == 0 {
		return 0, nil
	}
	now := w.Now()
	recs := make([]settled, len(results))
	for i, r := range results {
		recs[i] = w.settle(r.d, r.out, now)
	}
	// The outcomes are written even when ctx ends meanwhile: the sends happened.
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rerouted := false
	err := w.Store.Update(writeCtx, func(tx casegate.Tx) error {
		rerouted = false
		for i := range recs {
			err := tx.FinishDelivery(writeCtx, recs[i].d)
			recs[i].lost = casegate.IsNotFound(err)
			if err != nil && !recs[i].lost {
				return err
			}
		}
		// A refused text's replacement (its code by email) is queued with
		// the refusal, from the delivery as claimed, sealed code and all.
		for i := range recs {
			if recs[i].out.reroute && !recs[i].lost {
				queued, err := w.Guard.RerouteSMS(writeCtx, tx, results[i].d.Delivery, now)
				if err != nil {
					return err
				}
				rerouted = rerouted || queued
			}
		}
		// The audit events come last: on PostgreSQL the first one takes the
		// chain's lock, held until the commit.
		for i := range recs {
			if recs[i].lost {
				continue
			}
			ev := recs[i].event
			if err := tx.AppendAudit(writeCtx, &ev, w.Keys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record outcomes: %w", err)
	}
	if rerouted {
		w.Wake()
	}
	recorded := 0
	for _, r := range recs {
		attrs := []slog.Attr{
			slog.Int64("delivery_id", r.d.ID),
			slog.String("channel", string(r.d.Channel)),
			slog.String("template", r.d.Template),
			slog.String("outcome", r.out.action),
			slog.String("reason", r.out.reason),
			slog.Int("attempt", r.d.Attempts),
		}
		if r.errT != "" {
			attrs = append(attrs, slog.String("error", r.errT))
		}
		if r.lost {
			w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery lease lost before the outcome was written", attrs...)
			continue
		}
		recorded++
		w.Metrics.DeliveryFinished(r.d.Channel, r.d.Template, r.out.action)
		level := slog.LevelInfo
		switch r.out.action {
		case "retry":
			level = slog.LevelWarn
			attrs = append(attrs, slog.Time("next_attempt", r.d.NextAttempt))
		case "failed":
			level = slog.LevelError
		}
		w.Logger.LogAttrs(ctx, level, "delivery "+r.out.action, attrs...)
	}
	return recorded, nil
}

// settled is an outcome turned into the row to store and its audit event.
type settled struct {
	d     casegate.ClaimedDelivery
	out   outcome
	event casegate.AuditEvent
	errT  string // the redacted error, for the log
	lost  bool   // the lease was lost before the outcome could be written
}

// settle turns an outcome into the delivery row to store and its audit event.
func (w *Worker) settle(d casegate.ClaimedDelivery, out outcome, now time.Time) (rec settled) {
	if out.attempt {
		d.Attempts++
	}
	var errText string
	if out.err != nil {
		errText = Redact(out.err.Error(), out.code, accesscode.Display(out.code))
	}
	d.LastError = errText
	switch out.action {
	case "sent":
		d.Status, d.SentAt, d.LastError = casegate.DeliverySent, now, ""
	case "retry":
		if d.Attempts >= w.MaxAttempts {
			out.action, out.reason = "failed", "max_attempts"
			d.Status = casegate.DeliveryFailed
		} else {
			d.Status, d.NextAttempt = casegate.DeliveryPending, now.Add(w.backoff(d.Attempts))
		}
	case "failed":
		d.Status = casegate.DeliveryFailed
	case "cancelled":
		d.Status, d.LastError = casegate.DeliveryCancelled, out.reason
		if errText != "" {
			d.LastError += ": " + errText
		}
	}
	if d.Status != casegate.DeliveryPending {
		d.SealedCode = nil // the store wipes it too
	}
	rec.d, rec.out, rec.errT = d, out, errText
	rec.event = casegate.AuditEvent{
		At:      now,
		Actor:   "system",
		Action:  "delivery." + out.action,
		Target:  "delivery:" + strconv.FormatInt(d.ID, 10),
		Outcome: out.reason,
		Details: map[string]string{
			"channel":  string(d.Channel),
			"template": d.Template,
			"attempt":  strconv.Itoa(d.Attempts),
		},
	}
	return rec
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
