package delivery

import (
	"context"
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
}

// deliver handles one claimed delivery from check to recorded outcome. done
// reports whether an outcome was recorded; a delivery left without one keeps
// its lease until the lease runs out and is then claimed again.
func (w *Worker) deliver(ctx context.Context, d casegate.Delivery) (done bool, err error) {
	out, err := w.attempt(ctx, d)
	if err != nil {
		return false, fmt.Errorf("delivery %d: %w", d.ID, err)
	}
	if out.action == "" {
		return false, nil
	}
	if err := w.finish(ctx, d, out); err != nil {
		return false, fmt.Errorf("delivery %d: %w", d.ID, err)
	}
	return true, nil
}

// attempt decides whether d is still wanted and, if so, sends it. An error
// means nothing could be decided (the database did not answer); an outcome
// without an action means the delivery was handed back unsent.
func (w *Worker) attempt(ctx context.Context, d casegate.Delivery) (outcome, error) {
	if d.ChallengeID != "" {
		var ch casegate.Challenge
		err := w.Store.View(ctx, func(tx casegate.Tx) error {
			var err error
			ch, err = tx.Challenge(ctx, d.ChallengeID)
			return err
		})
		switch {
		case casegate.IsNotFound(err):
			return outcome{action: "cancelled", reason: "challenge_gone"}, nil
		case err != nil:
			return outcome{}, fmt.Errorf("read challenge: %w", err)
		case !ch.ConsumedAt.IsZero():
			return outcome{action: "cancelled", reason: "challenge_used"}, nil
		case !w.Now().Before(ch.ExpiresAt):
			return outcome{action: "cancelled", reason: "challenge_expired"}, nil
		}
	} else if len(d.SealedCode) > 0 {
		// Every code belongs to a challenge; the store clears the link when it
		// purges one, and a code whose challenge is gone must not go out.
		return outcome{action: "cancelled", reason: "challenge_gone"}, nil
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
	msg, err := Render(d, code, w.PublicURL, time.UTC)
	if err != nil {
		return outcome{action: "failed", reason: "render_error", err: err, code: code}, nil
	}
	// A send must end well inside the lease, or another worker may claim and
	// send the delivery too. Too little lease left: hand it back unsent.
	if d.LeaseUntil.Sub(w.Now()) < w.SendTimeout {
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
func (w *Worker) handBack(ctx context.Context, d casegate.Delivery) error {
	err := w.Store.Update(ctx, func(tx casegate.Tx) error { return tx.FinishDelivery(ctx, d) })
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("hand back: %w", err)
	}
	w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery handed back: lease too short to send",
		slog.Int64("delivery_id", d.ID), slog.String("channel", string(d.Channel)), slog.String("template", d.Template))
	return nil
}

// finish writes the outcome and its audit event in one transaction and logs it.
func (w *Worker) finish(ctx context.Context, d casegate.Delivery, out outcome) error {
	now := w.Now()
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
	}
	if d.Status != casegate.DeliveryPending {
		d.SealedCode = nil // the store wipes it too
	}
	event := casegate.AuditEvent{
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
	// The outcome is written even when ctx ends meanwhile: the send happened.
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := w.Store.Update(writeCtx, func(tx casegate.Tx) error {
		if err := tx.FinishDelivery(writeCtx, d); err != nil {
			return err
		}
		return tx.AppendAudit(writeCtx, &event)
	})
	attrs := []slog.Attr{
		slog.Int64("delivery_id", d.ID),
		slog.String("channel", string(d.Channel)),
		slog.String("template", d.Template),
		slog.String("outcome", out.action),
		slog.String("reason", out.reason),
		slog.Int("attempt", d.Attempts),
	}
	if errText != "" {
		attrs = append(attrs, slog.String("error", errText))
	}
	if err != nil {
		if casegate.IsNotFound(err) {
			// The lease ran out and another worker holds the delivery, or the
			// portal cancelled it meanwhile; that one's record stands.
			w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery lease lost before the outcome was written", attrs...)
			return nil
		}
		return fmt.Errorf("record %s: %w", out.action, err)
	}
	w.Metrics.DeliveryFinished(d.Channel, d.Template, out.action)
	level := slog.LevelInfo
	switch out.action {
	case "retry":
		level = slog.LevelWarn
		attrs = append(attrs, slog.Time("next_attempt", d.NextAttempt))
	case "failed":
		level = slog.LevelError
	}
	w.Logger.LogAttrs(ctx, level, "delivery "+out.action, attrs...)
	return nil
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
