package portal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/catalog"
	"github.com/casegate/casegate/identity"
)

// CodeRequest is what a person submits to ask for an access code.
type CodeRequest struct {
	ReceiptNumber  string
	ANumber        string
	GivenName      string
	FamilyName     string
	DateOfBirth    string
	CountryOfBirth string
	Channel        string
	Language       string
	ClientIP       string
}

// CodeIssued is the uniform answer to a code request or resend.
type CodeIssued struct {
	RequestID   string
	ExpiresAt   time.Time // the code's
	ResendAfter time.Time
	// Until is when the request ends: after it no code is taken and no
	// resend given, so whoever carries the request for the person (the
	// pages' flow cookie) can forget it then.
	Until time.Time
}

// issued is the answer for the request of ch, just made or resent.
func (p *Portal) issued(ch casegate.Challenge) CodeIssued {
	return CodeIssued{RequestID: ch.ID, ExpiresAt: ch.ExpiresAt, ResendAfter: ch.ResendAfter, Until: p.limits.requestEnds(ch)}
}

// validRequest is a CodeRequest in canonical form.
type validRequest struct {
	identifier string // canonical receipt number or A-Number
	byANumber  bool
	given      string
	family     string
	dob        string
	country    string
	channel    casegate.Channel
	language   string
}

// maxNameLen bounds a submitted name.
const maxNameLen = 200

// validate checks every field and reports each problem under its JSON name.
func (r CodeRequest) validate() (validRequest, error) {
	var v validRequest
	fields := map[string]casegate.Msg{}
	receipt, aNum := strings.TrimSpace(r.ReceiptNumber), strings.TrimSpace(r.ANumber)
	switch {
	case receipt != "" && aNum != "":
		fields["receipt_number"] = casegate.M("request.both_ids")
	case receipt != "":
		id, err := identity.ReceiptNumber(receipt)
		if err != nil {
			fields["receipt_number"] = formatMsg(err)
		}
		v.identifier = id
	case aNum != "":
		id, err := identity.ANumber(aNum)
		if err != nil {
			fields["a_number"] = formatMsg(err)
		}
		v.identifier, v.byANumber = id, true
	default:
		fields["receipt_number"] = casegate.M("request.no_id")
	}
	v.given, v.family = strings.TrimSpace(r.GivenName), strings.TrimSpace(r.FamilyName)
	checkName := func(field, value string) {
		switch {
		case value == "":
			fields[field] = casegate.M("request." + field + "_empty")
		case len(value) > maxNameLen:
			fields[field] = casegate.M("request."+field+"_too_long", "Max", maxNameLen)
		case len(identity.Tokens(value)) == 0:
			fields[field] = casegate.M("request." + field + "_letters")
		}
	}
	checkName("given_name", v.given)
	checkName("family_name", v.family)
	if strings.TrimSpace(r.DateOfBirth) == "" {
		fields["date_of_birth"] = casegate.M("request.dob_empty")
	} else if dob, err := identity.Date(r.DateOfBirth); err != nil {
		fields["date_of_birth"] = formatMsg(err)
	} else {
		v.dob = dob
	}
	if strings.TrimSpace(r.CountryOfBirth) == "" {
		fields["country_of_birth"] = casegate.M("request.country_empty")
	} else if c, err := identity.Country(r.CountryOfBirth); err != nil {
		fields["country_of_birth"] = formatMsg(err)
	} else {
		v.country = c
	}
	v.channel = casegate.Channel(r.Channel)
	if r.Channel == "" {
		v.channel = casegate.ChannelEmail
	} else if !v.channel.Valid() {
		fields["channel"] = casegate.M("request.channel")
	}
	v.language = Language(r.Language)
	if len(fields) > 0 {
		return v, casegate.FieldErrors(fields)
	}
	return v, nil
}

// formatMsg is the message of identity's format error err.
func formatMsg(err error) casegate.Msg {
	if fe, ok := errors.AsType[*identity.FormatError](err); ok {
		return casegate.M(fe.Key)
	}
	return casegate.M("error.invalid")
}

// Language returns a supported language for tag, defaulting to English.
func Language(tag string) string {
	if l, ok := catalog.Default().Language(tag); ok {
		return l
	}
	return catalog.Reference
}

// RequestCode handles a code request. Whatever the records say, a valid request
// that is within the limits gets the same answer: a fresh request id, the
// expiry and the resend time. Only when exactly one unlocked party matches is a
// code sent, to the contact on file; otherwise a decoy challenge is stored.
// Both paths do the same work: generate, MAC and seal a code, store a challenge.
func (p *Portal) RequestCode(ctx context.Context, r CodeRequest) (CodeIssued, error) {
	v, err := r.validate()
	if err != nil {
		return CodeIssued{}, err
	}
	now := p.clock()
	ch, sealed, err := p.newCodeChallenge(casegate.PurposeSignIn, v.channel, now)
	if err != nil {
		return CodeIssued{}, err
	}
	ch.Language = v.language

	var limited *casegate.Error
	var queued casegate.ClaimedDelivery // the code's delivery; ID 0 when none is to be sent
	outcome := ""
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		limited, queued = nil, casegate.ClaimedDelivery{}
		ch.PartyID, ch.Channel = 0, v.channel // a retried transaction starts afresh
		var err error
		if limited, err = p.admit(ctx, tx, limitRequestsPerIP, ipKey(r.ClientIP), p.limits.RequestsPerIP, "code.request", r.ClientIP, now); err != nil || limited != nil {
			return err
		}
		if limited, err = p.admit(ctx, tx, limitRequestsPerIdentifier, v.identifier, p.limits.RequestsPerIdentifier, "code.request", r.ClientIP, now); err != nil || limited != nil {
			return err
		}
		details := map[string]string{"channel": string(v.channel), "by": "receipt_number"}
		if v.byANumber {
			details["by"] = "a_number"
		}
		party, why, err := p.matchParty(ctx, tx, v, ch.ID, now)
		if err != nil {
			return err
		}
		outcome = why
		if party.ID != 0 {
			ch.PartyID = party.ID
			ch.Channel, _ = p.reachableChannel(party, v.channel)
			details["party"] = strconv.FormatInt(party.ID, 10)
		}
		if err := tx.InsertChallenge(ctx, ch); err != nil {
			return fmt.Errorf("portal: store challenge: %w", err)
		}
		if queued, err = p.queueCode(ctx, tx, ch, party, sealed, now); err != nil {
			return err
		}
		return p.audit(ctx, tx, now, r.ClientIP, casegate.AuditEvent{
			Actor: "public", Action: "code.request", Target: "challenge:" + ch.ID, Outcome: outcome, Details: details,
		})
	})
	if err != nil {
		return CodeIssued{}, err
	}
	if limited != nil {
		p.metrics.CodeRequested("rate_limited")
		return CodeIssued{}, limited
	}
	p.metrics.CodeRequested(outcome)
	p.dispatch(queued)
	return p.issued(ch), nil
}

// matchParty finds the one party the request proves to be, and says why there
// is none otherwise ("issued", "no_match", "ambiguous", "locked", "no_contact",
// "party_limit"). Every outcome counts one send against a limit — the
// party's codes of the day, or the decoy challenge requestID's — so that
// every path does the same work.
func (p *Portal) matchParty(ctx context.Context, tx casegate.Tx, v validRequest, requestID string, now time.Time) (casegate.Party, string, error) {
	// An identifier on file and one that is not are looked up alike: a miss
	// reads the parties of the next identifier (exact false), and every
	// candidate is compared in full, so the work is the same; only the
	// parties of the identifier itself can match.
	var candidates []casegate.Party
	var exact bool
	var err error
	if v.byANumber {
		candidates, exact, err = tx.PartiesNearANumber(ctx, v.identifier)
	} else {
		candidates, exact, err = tx.PartiesNearReceipt(ctx, v.identifier)
	}
	if err != nil {
		return casegate.Party{}, "", fmt.Errorf("portal: find parties: %w", err)
	}
	var matched []casegate.Party
	for _, c := range candidates {
		name := identity.NameMatches(v.given, v.family, c.GivenName, c.FamilyName)
		born := c.DateOfBirth == v.dob && c.CountryOfBirth == v.country
		if exact && name && born {
			matched = append(matched, c)
		}
	}
	why := ""
	switch {
	case len(matched) == 0:
		why = "no_match"
	case len(matched) > 1:
		why = "ambiguous"
	case matched[0].Locked(now):
		why = "locked"
	default:
		if _, ok := p.reachableChannel(matched[0], v.channel); !ok {
			why = "no_contact"
		}
	}
	if why != "" {
		if _, err := p.hit(ctx, tx, decoySends(requestID), p.limits.CodesPerParty, now); err != nil {
			return casegate.Party{}, "", err
		}
		return casegate.Party{}, why, nil
	}
	// However the codes are asked for (several receipt numbers, an A-Number,
	// resends), one person gets only so many.
	res, err := p.hit(ctx, tx, partySends(matched[0].ID), p.limits.CodesPerParty, now)
	if err != nil {
		return casegate.Party{}, "", err
	}
	if !res.ok {
		return casegate.Party{}, "party_limit", nil
	}
	return matched[0], "issued", nil
}

// reachableChannel is the chosen channel when the party has a contact for it
// and messages can be sent on it, else the other one; ok is false when neither works.
func (p *Portal) reachableChannel(party casegate.Party, chosen casegate.Channel) (casegate.Channel, bool) {
	other := casegate.ChannelEmail
	if chosen == casegate.ChannelEmail {
		other = casegate.ChannelSMS
	}
	for _, ch := range []casegate.Channel{chosen, other} {
		if p.channels[ch] && party.Contact(ch) != "" {
			return ch, true
		}
	}
	return chosen, false
}

// queueCode puts the sealed code of ch in the outbox for the contact on file
// of party and returns its delivery, for dispatch once committed. For no
// party (a decoy, or a person who may not get a code now) it does the same
// store work and queues a delivery that is never sent: a cancelled row with
// no destination and no code, which the purge removes with its challenge.
// Where texts can be sent, every code pays for the SMS checks, on a text
// for real and on anything else as their shadow, so the channel on file
// does not show either. The delivery's ID is 0 when nothing is to be sent
// (a decoy, or the SMS limits refused it with no email to fall back on).
func (p *Portal) queueCode(ctx context.Context, tx casegate.Tx, ch casegate.Challenge, party casegate.Party, sealed []byte, now time.Time) (casegate.ClaimedDelivery, error) {
	d := p.codeDelivery(ch, party.ID, party.Contact(ch.Channel), casegate.TemplateAccessCode, sealed, nil, now)
	if party.ID == 0 || d.Channel != casegate.ChannelSMS {
		if p.channels[casegate.ChannelSMS] {
			if err := p.shadowSMS(ctx, tx); err != nil {
				return casegate.ClaimedDelivery{}, err
			}
		}
		if party.ID == 0 {
			// Queued through the outbox as a real code is, never to be sent.
			d.Destination, d.SealedCode, d.Status = "", nil, casegate.DeliveryCancelled
			if _, err := p.outbox.QueueCode(ctx, tx, &d, ch.ExpiresAt); err != nil {
				return casegate.ClaimedDelivery{}, fmt.Errorf("portal: queue code: %w", err)
			}
			return casegate.ClaimedDelivery{}, nil
		}
	}
	queued, err := p.admitMessage(ctx, tx, &d, party, now)
	if err != nil {
		return casegate.ClaimedDelivery{}, fmt.Errorf("portal: queue code: %w", err)
	}
	if !queued {
		return casegate.ClaimedDelivery{}, nil
	}
	handed, err := p.outbox.QueueCode(ctx, tx, &d, ch.ExpiresAt)
	if err != nil {
		return casegate.ClaimedDelivery{}, fmt.Errorf("portal: queue code: %w", err)
	}
	return handed, nil
}

// Resend replaces the code of a request with a new one and restarts its expiry.
// The cooldown doubles with every send, and a request gets at most MaxSends
// codes. Decoys answer the same way and send nothing.
func (p *Portal) Resend(ctx context.Context, requestID, clientIP string) (CodeIssued, error) {
	now := p.clock()
	code, err := p.freshCode()
	if err != nil {
		return CodeIssued{}, err
	}
	var refused *casegate.Error
	var issued CodeIssued
	var queued casegate.ClaimedDelivery
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		refused, queued = nil, casegate.ClaimedDelivery{}
		var err error
		if refused, err = p.admit(ctx, tx, limitRequestsPerIP, ipKey(clientIP), p.limits.RequestsPerIP, "code.resend", clientIP, now); err != nil || refused != nil {
			return err
		}
		outcome := "resent"
		ch, err := tx.Challenge(ctx, requestID)
		switch {
		case casegate.IsNotFound(err) || err == nil && ch.Purpose != casegate.PurposeSignIn:
			refused = errExpired()
		case err != nil:
			return fmt.Errorf("portal: resend: %w", err)
		case !ch.ConsumedAt.IsZero():
			refused = errUsed()
		case now.Sub(ch.CreatedAt) >= p.limits.requestLifetime(): // at Until it has ended, as the flow cookie has
			refused = errExpired()
		case ch.Attempts >= p.limits.MaxAttempts:
			refused = errTooManyAttempts()
		case ch.Sends >= p.limits.MaxSends:
			refused = casegate.NewError(casegate.ETooManyAttempts, "resend.max_sends")
		case now.Before(ch.ResendAfter):
			refused = &casegate.Error{Code: casegate.EResendTooSoon, Msg: casegate.M("resend.too_soon"), RetryAfter: ch.ResendAfter.Sub(now)}
		}
		if refused != nil {
			outcome = string(refused.Code)
		} else {
			if outcome, queued, err = p.resendCode(ctx, tx, &ch, code, now); err != nil {
				return err
			}
			issued = p.issued(ch)
		}
		return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
			Actor: "public", Action: "code.resend", Target: "challenge:" + requestID, Outcome: outcome,
		})
	})
	if err != nil {
		return CodeIssued{}, err
	}
	if refused != nil {
		return CodeIssued{}, refused
	}
	p.dispatch(queued)
	return issued, nil
}

// resendCode gives ch a new code and queues it, for a real challenge and a
// decoy alike: the party is read (a decoy's, a stand-in), a send is
// counted against the party's limit or the decoy's, and queueCode queues a
// delivery that is sent only when the party may have it. It returns the
// outcome to audit and the delivery to dispatch.
func (p *Portal) resendCode(ctx context.Context, tx casegate.Tx, ch *casegate.Challenge, code freshCode, now time.Time) (string, casegate.ClaimedDelivery, error) {
	p.renewCode(ch, code, now)
	if err := tx.ReplaceCode(ctx, *ch); err != nil {
		return "", casegate.ClaimedDelivery{}, fmt.Errorf("portal: replace code: %w", err)
	}
	if err := tx.CancelDeliveries(ctx, ch.ID); err != nil {
		return "", casegate.ClaimedDelivery{}, fmt.Errorf("portal: cancel old code: %w", err)
	}
	party, err := p.challengeParty(ctx, tx, *ch)
	if err != nil {
		return "", casegate.ClaimedDelivery{}, fmt.Errorf("portal: resend: %w", err)
	}
	key := decoySends(ch.ID)
	if !ch.Decoy() {
		key = partySends(party.ID)
	}
	res, err := p.hit(ctx, tx, key, p.limits.CodesPerParty, now)
	if err != nil {
		return "", casegate.ClaimedDelivery{}, err
	}
	outcome := "resent"
	switch {
	case ch.Decoy():
		party = casegate.Party{}
	case party.Locked(now):
		outcome, party = "locked", casegate.Party{}
	case !res.ok:
		outcome, party = "party_limit", casegate.Party{}
	default:
		ch.Channel, _ = p.reachableChannel(party, ch.Channel)
	}
	queued, err := p.queueCode(ctx, tx, *ch, party, code.sealed, now)
	return outcome, queued, err
}

func errExpired() *casegate.Error {
	return casegate.NewError(casegate.ECodeExpired, "code.expired")
}

func errUsed() *casegate.Error {
	return casegate.NewError(casegate.ECodeUsed, "code.used")
}

func errTooManyAttempts() *casegate.Error {
	return casegate.NewError(casegate.ETooManyAttempts, "code.too_many_attempts")
}
