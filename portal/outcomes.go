package portal

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/casegate/casegate"
)

// RecordDeliveries records what the delivery worker reports of the
// deliveries it held (delivery.Recorder), in one transaction: each row's new
// state and its audit event, and for a text refused at send time the email
// that replaces it. It reports which outcomes were recorded: a delivery
// whose lease passed to another worker meanwhile, or that was cancelled
// (its code replaced), keeps the other's record, and nothing of it is
// audited here.
func (p *Portal) RecordDeliveries(ctx context.Context, outs []casegate.DeliveryOutcome) ([]bool, error) {
	now := p.clock()
	rows := make([]casegate.ClaimedDelivery, len(outs))
	for i, o := range outs {
		rows[i] = outcomeRow(o, now)
	}
	recorded := make([]bool, len(outs))
	rerouted := false
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		rerouted = false
		for i := range rows {
			err := tx.FinishDelivery(ctx, rows[i])
			recorded[i] = err == nil
			if err != nil && !casegate.IsNotFound(err) {
				return err
			}
		}
		// A refused text's replacement (its code by email) is queued with
		// the refusal, from the delivery as claimed, sealed code and all.
		for i, o := range outs {
			if recorded[i] && o.Result == casegate.DeliveryCancelledResult && o.Reason == casegate.ReasonSMSRefused {
				queued, err := p.rerouteSMS(ctx, tx, o.Delivery.Delivery, now)
				if err != nil {
					return err
				}
				rerouted = rerouted || queued
			}
		}
		// The audit events come last: on PostgreSQL the first one takes the
		// chain's lock, held until the commit.
		for i, o := range outs {
			if !recorded[i] {
				continue
			}
			if err := p.audit(ctx, tx, now, "", deliveryEvent(o, rows[i])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("portal: record deliveries: %w", err)
	}
	if rerouted {
		p.wake()
	}
	return recorded, nil
}

// outcomeRow is the row an outcome leaves: sent, due again, failed or
// cancelled, with the attempt counted when a send was tried. The store
// wipes the sealed code of a row that is no longer pending.
func outcomeRow(o casegate.DeliveryOutcome, now time.Time) casegate.ClaimedDelivery {
	d := o.Delivery
	d.Attempts = o.Attempts()
	d.LastError = o.Error
	switch o.Result {
	case casegate.DeliverySentResult:
		d.Status, d.SentAt, d.LastError = casegate.DeliverySent, o.At, ""
		if o.At.IsZero() {
			d.SentAt = now
		}
	case casegate.DeliveryRetryResult:
		d.Status, d.NextAttempt = casegate.DeliveryPending, o.RetryAt
	case casegate.DeliveryFailedResult:
		d.Status = casegate.DeliveryFailed
	case casegate.DeliveryCancelledResult:
		d.Status, d.LastError = casegate.DeliveryCancelled, o.Reason
		if o.Error != "" {
			d.LastError += ": " + o.Error
		}
	}
	if d.Status != casegate.DeliveryPending {
		d.SealedCode = nil
	}
	return d
}

// deliveryEvent is the audit event of an outcome: actor system, the result
// as the action, the reason as the outcome.
func deliveryEvent(o casegate.DeliveryOutcome, d casegate.ClaimedDelivery) casegate.AuditEvent {
	return casegate.AuditEvent{
		Actor:   "system",
		Action:  "delivery." + string(o.Result),
		Target:  "delivery:" + strconv.FormatInt(d.ID, 10),
		Outcome: o.Reason,
		Details: map[string]string{
			"channel":  string(d.Channel),
			"template": d.Template,
			"attempt":  strconv.Itoa(d.Attempts),
		},
	}
}
