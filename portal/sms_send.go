package portal

import (
	"context"
	"fmt"
	"time"

	"github.com/casegate/casegate"
)

// The delivery worker asks the portal once more, just before it sends a
// text, whether its destination may be texted at all (delivery.SMSGuard):
// a number stored, or a text queued, before the rules on number types and
// countries, or before the operator narrowed them, is never texted. The
// worker reports the refusal as the text's outcome; RecordDeliveries
// cancels the text and queues what replaces it. The limits and the budget
// were counted when the text was queued, and are not counted again.

// RefuseSMS says why the text d must not be sent: "number_type:
// premium_rate", "country: MX"; "" lets it go. It names the kind of number
// or the country, never the number.
func (p *Portal) RefuseSMS(d casegate.Delivery) string {
	reason, line := p.limits.SMS.refuseDestination(d.Destination)
	switch reason {
	case SMSRefusedNumberType:
		return reason + ": " + string(line.Kind)
	case SMSRefusedCountry:
		if line.Region == "" {
			return reason
		}
		return reason + ": " + line.Region
	}
	return ""
}

// rerouteSMS runs in the transaction that cancels d, a text RefuseSMS
// refused (RecordDeliveries): it audits the refusal and, where the rules of enqueue say so (a
// code or an account notice, a party with an email address, email being
// sent), queues the same message by email. It reports whether it queued
// one. The requester, if any, is never told: they got their answer when
// the text was queued.
func (p *Portal) rerouteSMS(ctx context.Context, tx casegate.Tx, d casegate.Delivery, now time.Time) (bool, error) {
	reason, line := p.limits.SMS.refuseDestination(d.Destination)
	if reason == "" {
		return false, nil
	}
	var party casegate.Party
	if d.PartyID != 0 {
		var err error
		if party, err = tx.Party(ctx, d.PartyID); err != nil && !casegate.IsNotFound(err) {
			return false, fmt.Errorf("portal: reroute text: %w", err)
		}
	}
	dest := d.Destination
	email := casegate.Delivery{
		ChallengeID: d.ChallengeID, PartyID: d.PartyID, Channel: d.Channel, Destination: d.Destination,
		Template: d.Template, Language: d.Language, Params: d.Params, SealedCode: d.SealedCode,
		Status: casegate.DeliveryPending, NextAttempt: now, CreatedAt: now,
	}
	fallback := p.smsFallback(&email, party)
	if err := p.refuseSMS(ctx, tx, party.ID, dest, d.Template, smsRefusal{reason: reason, kind: line.Kind}, fallback, now); err != nil || !fallback {
		return false, err
	}
	if err := tx.EnqueueDelivery(ctx, &email); err != nil {
		return false, fmt.Errorf("portal: reroute text: %w", err)
	}
	return true, nil
}
