package portal

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/identity"
)

// ContactChange is a pending change of email or phone, confirmed by a code
// sent to the new destination.
type ContactChange struct {
	ID        string
	ExpiresAt time.Time
}

// errReauth answers a contact change too long after sign-in.
func (p *Portal) checkReauth(s casegate.Session, now time.Time) error {
	if now.Sub(s.CreatedAt) > p.limits.Reauth {
		return casegate.NewError(casegate.EReauthRequired, "contact.reauth")
	}
	return nil
}

// StartContactChange sends a code to a new email address or phone number of
// the signed-in party. Exactly one of email and phone is given. It works only
// soon after sign-in. The person asked for the code, so it speaks lang, the
// language they are using (the party's on file when lang is "").
func (p *Portal) StartContactChange(ctx context.Context, s casegate.Session, email, phone, lang, clientIP string) (ContactChange, error) {
	now := p.clock()
	if err := p.checkReauth(s, now); err != nil {
		return ContactChange{}, err
	}
	ch, dest, err := p.newContact(email, phone)
	if err != nil {
		return ContactChange{}, err
	}
	c, sealed, err := p.newCodeChallenge(casegate.PurposeContactChange, ch, now)
	if err != nil {
		return ContactChange{}, err
	}
	c.PartyID, c.NewContact = s.PartyID, dest
	var refused *casegate.Error
	var queued casegate.ClaimedDelivery
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		refused, queued = nil, casegate.ClaimedDelivery{}
		party, err := tx.Party(ctx, s.PartyID)
		if err != nil {
			return fmt.Errorf("portal: contact change: %w", err)
		}
		if party.Contact(ch) == dest {
			field := map[casegate.Channel]string{casegate.ChannelEmail: "email", casegate.ChannelSMS: "phone"}[ch]
			refused = casegate.FieldError(field, "contact.already_on_file")
			return nil
		}
		res, err := p.hit(ctx, tx, contactChanges(s.PartyID), p.limits.RequestsPerIdentifier, now)
		if err != nil {
			return err
		}
		if !res.ok {
			refused = rateLimited(res.wait)
			return nil
		}
		c.Language = Language(cmp.Or(lang, party.Language))
		d := p.codeDelivery(c, party.ID, dest, casegate.TemplateContactCode, sealed, map[string]string{"changed": changedName(ch)}, now)
		if ch == casegate.ChannelSMS {
			if refused, err = p.gateContactSMS(ctx, tx, &d, now); err != nil || refused != nil {
				return err
			}
		}
		if err := tx.InsertChallenge(ctx, c); err != nil {
			return fmt.Errorf("portal: contact change: %w", err)
		}
		if queued, err = p.outbox.QueueCode(ctx, tx, &d, c.ExpiresAt); err != nil {
			return fmt.Errorf("portal: contact change: %w", err)
		}
		return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
			Actor: partyActor(party.ID), Action: "contact.change_requested", Target: "challenge:" + c.ID, Outcome: "ok",
			Details: map[string]string{"channel": string(ch)},
		})
	})
	if err != nil {
		return ContactChange{}, err
	}
	if refused != nil {
		return ContactChange{}, refused
	}
	p.dispatch(queued)
	return ContactChange{ID: c.ID, ExpiresAt: c.ExpiresAt}, nil
}

// newContact checks a new contact as submitted: exactly one of email and
// phone, valid, on a channel messages can be sent on. Errors are per field.
func (p *Portal) newContact(email, phone string) (casegate.Channel, string, error) {
	// The email address goes to identity.Email as sent, which refuses an
	// invisible character even at either end.
	hasEmail, phone := strings.TrimSpace(email) != "", strings.TrimSpace(phone)
	var ch casegate.Channel
	var dest string
	var err error
	switch {
	case hasEmail && phone != "":
		return "", "", casegate.FieldError("email", "contact.one_at_a_time")
	case hasEmail:
		ch = casegate.ChannelEmail
		if dest, err = identity.Email(email); err != nil {
			return "", "", casegate.FieldErrors(map[string]casegate.Msg{"email": formatMsg(err)})
		}
	case phone != "":
		ch = casegate.ChannelSMS
		if dest, err = identity.Phone(phone); err != nil {
			return "", "", casegate.FieldErrors(map[string]casegate.Msg{"phone": formatMsg(err)})
		}
	default:
		return "", "", casegate.FieldError("email", "contact.enter_new")
	}
	if !p.channels[ch] {
		return "", "", casegate.FieldError("phone", "contact.no_sms")
	}
	return ch, dest, nil
}

func changedName(ch casegate.Channel) string {
	if ch == casegate.ChannelEmail {
		return "email"
	}
	return "phone"
}

// ConfirmContactChange stores the new contact when the code is right, and
// tells the old destination that it was changed.
func (p *Portal) ConfirmContactChange(ctx context.Context, s casegate.Session, changeID, input, clientIP string) (PartyView, error) {
	now := p.clock()
	if err := p.checkReauth(s, now); err != nil {
		return PartyView{}, err
	}
	code, parseErr := accesscode.Parse(input, p.limits.CodeLength)
	if parseErr != nil {
		return PartyView{}, &casegate.Error{Code: casegate.ECodeMalformed, Msg: malformedMessage(parseErr, p.limits.CodeLength)}
	}
	var v verdict
	var view PartyView
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		details := map[string]string{}
		var err error
		if v, err = p.attempt(ctx, tx, casegate.PurposeContactChange, s.PartyID, changeID, code, now, clientIP, details); err != nil {
			return err
		}
		outcome := "ok"
		if v.refused != nil {
			outcome = string(v.refused.Code)
		} else {
			c, err := tx.Challenge(ctx, changeID)
			if err != nil {
				return fmt.Errorf("portal: confirm contact: %w", err)
			}
			party, err := tx.Party(ctx, s.PartyID)
			if err != nil {
				return fmt.Errorf("portal: confirm contact: %w", err)
			}
			old := party.Contact(c.Channel)
			if c.Channel == casegate.ChannelEmail {
				party.Email = c.NewContact
			} else {
				party.Phone = c.NewContact
			}
			party.Revision++ // every instance's cached dashboard of the party is stale
			if err := tx.UpdateParty(ctx, party); err != nil {
				return fmt.Errorf("portal: confirm contact: %w", err)
			}
			details["channel"] = string(c.Channel)
			if old != "" {
				d := casegate.Delivery{
					PartyID: party.ID, Channel: c.Channel, Destination: old, Template: casegate.TemplateContactChanged,
					Language: Language(party.Language), Params: map[string]string{"changed": changedName(c.Channel)},
					Status: casegate.DeliveryPending, NextAttempt: now, CreatedAt: now,
				}
				if v.queued, err = p.enqueue(ctx, tx, &d, party, now); err != nil {
					return fmt.Errorf("portal: notify old contact: %w", err)
				}
			}
			view = viewParty(party)
		}
		return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
			Actor: partyActor(s.PartyID), Action: "contact.change", Target: "challenge:" + changeID, Outcome: outcome, Details: details,
		})
	})
	if err != nil {
		return PartyView{}, err
	}
	p.settle(v)
	if v.refused != nil {
		return PartyView{}, v.refused
	}
	p.reads.forgetDashboard(s.PartyID)
	return view, nil
}

// SetLanguage makes lang (a catalog language, else English) the signed-in
// party's language on file, the one the notices it does not cause speak:
// the person chose it.
func (p *Portal) SetLanguage(ctx context.Context, s casegate.Session, lang string) error {
	l := Language(lang)
	changed := false
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		party, err := tx.Party(ctx, s.PartyID)
		if err != nil {
			return fmt.Errorf("portal: set language: %w", err)
		}
		if changed = party.Language != l; !changed {
			return nil
		}
		party.Language = l
		party.Revision++
		if err := tx.UpdateParty(ctx, party); err != nil {
			return fmt.Errorf("portal: set language: %w", err)
		}
		return nil
	})
	if err == nil && changed {
		p.reads.forgetDashboard(s.PartyID)
	}
	return err
}
