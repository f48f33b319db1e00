package portal

import (
	"context"
	"errors"
	"fmt"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// How an unsubscribe arrived, for its audit event.
const (
	UnsubscribeOneClick = "one_click" // a mail provider's RFC 8058 POST
	UnsubscribePage     = "page"      // the button on the unsubscribe page
)

// linkError is the refusal of an unsubscribe link that does not work,
// in words that say what to do instead.
func linkError(err error) error {
	if errors.Is(err, accesscode.ErrLinkExpired) {
		return casegate.NewError(casegate.EInvalid, "unsubscribe.expired")
	}
	return casegate.NewError(casegate.EInvalid, "unsubscribe.invalid")
}

// UnsubscribeLink reads the link of a status notice and returns the receipt
// number of the case it stops emails about, without changing anything: the
// page that asks "stop these emails?" shows it. A link altered, forged or
// expired is an EInvalid error.
func (p *Portal) UnsubscribeLink(token string) (receipt string, err error) {
	u, err := p.keys.ParseUnsubscribe(token, p.clock())
	if err != nil {
		return "", linkError(err)
	}
	return u.Receipt, nil
}

// Unsubscribe stops the status emails of the case and party the link was
// made for, whoever follows it: the link is the proof, as no sign-in is
// asked for (RFC 8058). Text messages the party chose are kept; the link
// came by email and speaks for email. Following it again changes nothing
// and is audited as such. via is UnsubscribeOneClick or UnsubscribePage.
func (p *Portal) Unsubscribe(ctx context.Context, token, via, clientIP string) (receipt string, err error) {
	now := p.clock()
	u, err := p.keys.ParseUnsubscribe(token, now)
	if err != nil {
		return "", linkError(err)
	}
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		c, err := tx.CaseByReceipt(ctx, u.Receipt)
		if err != nil {
			return err
		}
		sub, err := tx.Subscription(ctx, u.PartyID, c.ID)
		if err != nil {
			return err
		}
		outcome := "not_subscribed"
		if sub.Email {
			sub.PartyID, sub.CaseID, sub.Email = u.PartyID, c.ID, false
			if err := tx.SetSubscription(ctx, sub); err != nil {
				return err
			}
			outcome = "ok"
		}
		return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
			Actor: partyActor(u.PartyID), Action: "subscription.unsubscribed", Target: "case:" + u.Receipt, Outcome: outcome,
			Details: map[string]string{"channel": string(casegate.ChannelEmail), "via": via},
		})
	})
	if casegate.IsNotFound(err) {
		// The case is gone (purged): there is nothing left to send about.
		return u.Receipt, nil
	}
	if err != nil {
		return "", fmt.Errorf("portal: unsubscribe: %w", err)
	}
	p.reads.forgetDashboard(u.PartyID)
	return u.Receipt, nil
}
