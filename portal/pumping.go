package portal

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// AnyCountry in SMSLimits.Countries lets texts go to every country.
const AnyCountry = "*"

// SMSLimits protect the deployment's SMS account from pumping (toll fraud:
// codes requested in bulk for numbers whose operators share the revenue).
// Every text message is checked before it is queued; see docs/sms.md.
type SMSLimits struct {
	// Countries are the ISO 3166-1 alpha-2 codes of the countries texts may
	// go to, or AnyCountry alone.
	Countries []string
	// AllowVoIP lets texts go to VoIP numbers too. Texts go to mobile
	// numbers (and those a plan does not tell from landlines) only; never
	// to premium-rate, toll-free, shared-cost or other service numbers.
	AllowVoIP bool
	// PrefixDigits is how many national digits after the country calling
	// code make a destination prefix: 3 is an area code in North America.
	PrefixDigits int
	// PerPrefix is how many texts may go to numbers sharing one prefix.
	PerPrefix Rate
	// PerDestination is how many texts may go to one number, whichever
	// parties have it on file.
	PerDestination Rate
	// ContactPerPerson is how many codes confirming a new phone number one
	// person may have sent.
	ContactPerPerson Rate
	// DailyBudget is how many texts the deployment sends in any 24 hours;
	// the allowance refills evenly through the day. Shares split it
	// between the kinds of text (sms_budget.go).
	DailyBudget int
	Shares      BudgetShares
}

// The reasons a text is refused, as metrics and audit events name them.
const (
	SMSRefusedCountry     = "country"           // the destination's country is not allowed
	SMSRefusedNumberType  = "number_type"       // the destination is not a number that receives texts
	SMSRefusedPrefix      = "prefix_limit"      // too many texts to numbers with the destination's prefix
	SMSRefusedDestination = "destination_limit" // too many texts to the destination
	SMSRefusedContact     = "contact_limit"     // too many new numbers confirmed by the person
	SMSRefusedDailyBudget = "daily_budget"      // the share of the daily budget for such texts is spent
)

// DefaultSMSLimits allows 30 texts an hour to one area code (or its like),
// 10 a day to one number, 3 new numbers a day per person, and 1000 texts
// a day in all, to any country: the portal does not know where it is
// deployed. The configuration narrows Countries to the deployment's own
// (CASEGATE_SMS_COUNTRIES defaults to CASEGATE_PHONE_REGION).
func DefaultSMSLimits() SMSLimits {
	return SMSLimits{
		Countries:        []string{AnyCountry},
		PrefixDigits:     3,
		PerPrefix:        Rate{30, time.Hour},
		PerDestination:   Rate{10, 24 * time.Hour},
		ContactPerPerson: Rate{3, 24 * time.Hour},
		DailyBudget:      1000,
		Shares:           DefaultBudgetShares(),
	}
}

// validate reports the first setting that makes no sense.
func (l SMSLimits) validate() error {
	if len(l.Countries) == 0 {
		return fmt.Errorf("SMS countries: name at least one country, or %s for all", AnyCountry)
	}
	for _, c := range l.Countries {
		if c == AnyCountry {
			if len(l.Countries) > 1 {
				return fmt.Errorf("SMS countries: %s stands alone", AnyCountry)
			}
			continue
		}
		if canon, err := identity.PhoneRegionCode(c); err != nil || canon != c {
			return fmt.Errorf("SMS countries: %q is not an upper-case ISO 3166-1 alpha-2 code with a calling code", c)
		}
	}
	if l.PrefixDigits < 0 || l.PrefixDigits > 8 {
		return fmt.Errorf("SMS prefix digits %d is outside 0–8", l.PrefixDigits)
	}
	for name, r := range map[string]Rate{"SMS per prefix": l.PerPrefix, "SMS per destination": l.PerDestination, "SMS contact changes per person": l.ContactPerPerson} {
		if r.N <= 0 || r.Per <= 0 {
			return fmt.Errorf("%s must be a positive count per positive duration", name)
		}
	}
	if l.DailyBudget <= 0 {
		return fmt.Errorf("SMS daily budget must be positive")
	}
	return l.Shares.Validate()
}

// allows reports whether texts may go to region.
func (l SMSLimits) allows(region string) bool {
	return slices.Contains(l.Countries, AnyCountry) || slices.Contains(l.Countries, region)
}

// textableKind says whether texts may go to a number of kind k: a mobile
// number, or one its plan does not tell from a landline (all of North
// America), and a VoIP number only when voip is set. Landlines, service
// numbers (premium-rate, toll-free, shared-cost, UAN), voicemail,
// personal and pager numbers, and numbers in no known range, never.
func textableKind(k identity.PhoneKind, voip bool) bool {
	return k == identity.PhoneMobile || k == identity.PhoneFixedLineOrMobile || voip && k == identity.PhoneVoIP
}

// refuseDestination says why no text may go to dest at all, whatever the
// counts: its country is not allowed (or cannot be told), or it is not a
// number that receives texts. "" when it may. line is where dest leads.
func (l SMSLimits) refuseDestination(dest string) (reason string, line identity.PhoneLine) {
	line, err := identity.PhoneParts(dest)
	switch {
	case err != nil || !l.allows(line.Region):
		// A number whose country cannot be told is not sent to either.
		return SMSRefusedCountry, line
	case !textableKind(line.Kind, l.AllowVoIP):
		return SMSRefusedNumberType, line
	}
	return "", line
}

// smsRefusal is why a text was not admitted, with how long until the count
// that refused it would allow it.
type smsRefusal struct {
	reason string
	kind   identity.PhoneKind // for SMSRefusedNumberType
	share  string             // for SMSRefusedDailyBudget: the share that is spent
	wait   time.Duration
}

// admitSMS decides whether d, a text, may be queued at now. When it may,
// it counts the text against every limit of its kind and one share of the
// daily budget, all or none. Whatever it decides, it reads and writes the
// same rate rows, so a refusal costs what an admission does.
func (p *Portal) admitSMS(ctx context.Context, tx casegate.Tx, d *casegate.Delivery, now time.Time) (smsRefusal, error) {
	reason, line := p.limits.SMS.refuseDestination(d.Destination)
	counts := p.smsCounts(d.Template, d.PartyID, d.Destination, line)
	counted, err := p.countSMS(ctx, tx, counts, now, reason == "")
	if err != nil || reason != "" {
		return smsRefusal{reason: reason, kind: line.Kind}, err
	}
	return counted, nil
}

// decoyLine is where a decoy's text is counted: calling code 0 and no
// digits, a prefix and a destination no real number has.
var decoyLine = identity.PhoneLine{}

// shadowSMS does the work admitSMS does for a sign-in code by text,
// changing nothing, so that a code that is not a text (a decoy's, or one
// going by email) answers in the time one going by text does: it reads a
// number, and reads and writes back the same count rows, in the same
// order, as a real code's.
func (p *Portal) shadowSMS(ctx context.Context, tx casegate.Tx) error {
	p.limits.SMS.refuseDestination("+12015550123")
	_, err := p.countSMS(ctx, tx, p.smsCounts(casegate.TemplateAccessCode, 0, "", decoyLine), p.clock(), false)
	return err
}

// emailFallback are the templates that go by email when the SMS limits
// refuse them and the party has an address on file: the code a person asked
// for, and notices about the safety of their account. A status update is
// not repeated by email (the person chose its channels), and a code
// confirming a new phone number must reach that number or nobody.
var emailFallback = map[string]bool{
	casegate.TemplateAccessCode:     true,
	casegate.TemplateLockoutNotice:  true,
	casegate.TemplateContactChanged: true,
}

// enqueue puts d in the outbox. A text message passes the SMS limits first;
// when they refuse it, a code or account notice goes by email instead if
// party has an address on file and email can be sent, and anything else is
// not sent. A refusal is audited and counted; the requester sees nothing
// different. queued reports whether a message was queued.
func (p *Portal) enqueue(ctx context.Context, tx casegate.Tx, d *casegate.Delivery, party casegate.Party, now time.Time) (queued bool, err error) {
	if ok, err := p.admitMessage(ctx, tx, d, party, now); !ok || err != nil {
		return false, err
	}
	if err := tx.EnqueueDelivery(ctx, d); err != nil {
		return false, err
	}
	return true, nil
}

// admitMessage is enqueue up to the insert: it applies the SMS limits to d
// and reports whether d is to be queued, perhaps turned into an email.
func (p *Portal) admitMessage(ctx context.Context, tx casegate.Tx, d *casegate.Delivery, party casegate.Party, now time.Time) (bool, error) {
	if d.Channel == casegate.ChannelSMS {
		refused, err := p.admitSMS(ctx, tx, d, now)
		if err != nil {
			return false, err
		}
		if refused.reason != "" {
			dest := d.Destination
			fallback := p.smsFallback(d, party)
			if err := p.refuseSMS(ctx, tx, party.ID, dest, d.Template, refused, fallback, now); err != nil || !fallback {
				return false, err
			}
		}
	}
	return true, nil
}

// smsFallback turns d, a refused text, into an email when its template
// falls back to email, party has an address on file and email can be
// sent; it reports whether it did.
func (p *Portal) smsFallback(d *casegate.Delivery, party casegate.Party) bool {
	if !emailFallback[d.Template] || !p.channels[casegate.ChannelEmail] || party.Email == "" {
		return false
	}
	d.Channel, d.Destination = casegate.ChannelEmail, party.Email
	return true
}

// gateContactSMS applies the SMS limits to d, the code that confirms a new
// phone number. The person is signed in, so a refusal is told plainly: a
// number that cannot be texted as a field error, a reached limit as
// rate_limited.
func (p *Portal) gateContactSMS(ctx context.Context, tx casegate.Tx, d *casegate.Delivery, now time.Time) (*casegate.Error, error) {
	refused, err := p.admitSMS(ctx, tx, d, now)
	if err != nil || refused.reason == "" {
		return nil, err
	}
	if err := p.refuseSMS(ctx, tx, d.PartyID, d.Destination, d.Template, refused, false, now); err != nil {
		return nil, err
	}
	switch refused.reason {
	case SMSRefusedCountry:
		return casegate.FieldError("phone", "sms.refused_country"), nil
	case SMSRefusedNumberType:
		return casegate.FieldError("phone", numberTypeMessage(refused.kind)), nil
	}
	e := rateLimited(refused.wait)
	e.Msg = casegate.M("sms.not_now")
	if refused.reason == SMSRefusedContact {
		e.Msg = casegate.M("sms.contact_limit")
	}
	return e, nil
}

// numberTypeMessage is the catalog key that tells a signed-in person why
// their new number cannot be texted.
func numberTypeMessage(k identity.PhoneKind) string {
	switch k {
	case identity.PhoneFixedLine:
		return "sms.refused_landline"
	case identity.PhoneVoIP:
		return "sms.refused_voip"
	case identity.PhonePremiumRate, identity.PhoneTollFree, identity.PhoneSharedCost, identity.PhoneUAN:
		return "sms.refused_service"
	}
	return "sms.refused_unknown"
}

// refuseSMS records that a text was not queued or sent: an audit event
// (the destination's country and kind of number, never the number) and the
// metric.
func (p *Portal) refuseSMS(ctx context.Context, tx casegate.Tx, partyID int64, dest, template string, refused smsRefusal, fallback bool, now time.Time) error {
	details := map[string]string{"template": template, "fallback": "none"}
	if fallback {
		details["fallback"] = string(casegate.ChannelEmail)
	}
	if line, err := identity.PhoneParts(dest); err == nil {
		details["country"] = line.Region
	}
	if refused.kind != "" && refused.reason == SMSRefusedNumberType {
		details["kind"] = string(refused.kind)
	}
	if refused.share != "" {
		details["share"] = refused.share
	}
	target := "sms"
	if partyID != 0 {
		target = "party:" + strconv.FormatInt(partyID, 10)
	}
	if err := p.audit(ctx, tx, now, "", casegate.AuditEvent{
		Actor: "system", Action: "sms.refused", Target: target, Outcome: refused.reason, Details: details,
	}); err != nil {
		return err
	}
	// Counted inside the transaction: one retried by PostgreSQL may count a
	// refusal twice. The audit log is exact.
	p.metrics.SMSRefused(refused.reason)
	return nil
}
