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
	// PrefixDigits is how many national digits after the country calling
	// code make a destination prefix: 3 is an area code in North America.
	PrefixDigits int
	// PerPrefix is how many texts may go to numbers sharing one prefix.
	PerPrefix Rate
	// DailyBudget is how many texts the deployment sends in any 24 hours;
	// the allowance refills evenly through the day.
	DailyBudget int
}

// The reasons a text is refused, as metrics and audit events name them.
const (
	SMSRefusedCountry     = "country"      // the destination's country is not allowed
	SMSRefusedPrefix      = "prefix_limit" // too many texts to numbers with the destination's prefix
	SMSRefusedDailyBudget = "daily_budget" // the deployment's daily budget is spent
)

// DefaultSMSLimits allows 30 texts an hour to one area code (or its like)
// and 1000 a day in all, to any country: the portal does not know where it
// is deployed. The configuration narrows Countries to the deployment's own
// (CASEGATE_SMS_COUNTRIES defaults to CASEGATE_PHONE_REGION).
func DefaultSMSLimits() SMSLimits {
	return SMSLimits{
		Countries:    []string{AnyCountry},
		PrefixDigits: 3,
		PerPrefix:    Rate{30, time.Hour},
		DailyBudget:  1000,
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
	if l.PerPrefix.N <= 0 || l.PerPrefix.Per <= 0 {
		return fmt.Errorf("SMS per prefix must be a positive count per positive duration")
	}
	if l.DailyBudget <= 0 {
		return fmt.Errorf("SMS daily budget must be positive")
	}
	return nil
}

// smsBudgetKey counts every text of the deployment.
const smsBudgetKey = "sms-budget"

// admitSMS decides whether a text to dest may be queued at now. When it may,
// it counts the text against its prefix's limit and the daily budget, both
// or neither. It returns "" or the reason it may not, and how long until
// the limit that refused it would allow it.
func (p *Portal) admitSMS(ctx context.Context, tx casegate.Tx, dest string, now time.Time) (reason string, wait time.Duration, err error) {
	l := p.limits.SMS
	line, err := identity.PhoneParts(dest)
	if err != nil || !l.allows(line.Region) {
		// A number whose country cannot be told is not sent to either.
		return SMSRefusedCountry, 0, nil
	}
	prefix := line.National[:min(l.PrefixDigits, len(line.National))]
	counts := []struct {
		key    string
		rate   Rate
		reason string
	}{
		{smsBudgetKey, Rate{l.DailyBudget, 24 * time.Hour}, SMSRefusedDailyBudget},
		{"sms-prefix:" + strconv.Itoa(line.CallingCode) + ":" + prefix, l.PerPrefix, SMSRefusedPrefix},
	}
	next := make([]time.Time, len(counts))
	for i, c := range counts {
		tat, err := tx.RateTAT(ctx, p.keys.Tag("rate", c.key))
		if err != nil {
			return "", 0, fmt.Errorf("portal: sms limits: %w", err)
		}
		var ok bool
		if next[i], ok, wait, _ = gcra(tat, now, c.rate); !ok {
			return c.reason, wait, nil
		}
	}
	for i, c := range counts {
		if err := tx.SetRateTAT(ctx, p.keys.Tag("rate", c.key), next[i]); err != nil {
			return "", 0, fmt.Errorf("portal: sms limits: %w", err)
		}
	}
	return "", 0, nil
}

// allows reports whether texts may go to region.
func (l SMSLimits) allows(region string) bool {
	return slices.Contains(l.Countries, AnyCountry) || slices.Contains(l.Countries, region)
}

// shadowSMS does the work admitSMS does for a text, changing nothing, so
// that a code that is not a text (a decoy's, or one going by email) answers
// in the time one going by text does. It reads the budget and a prefix that
// no number has, and writes each back as it was.
func (p *Portal) shadowSMS(ctx context.Context, tx casegate.Tx) error {
	identity.PhoneParts("+12015550123")
	keys := []string{p.keys.Tag("rate", smsBudgetKey), p.keys.Tag("rate", "sms-prefix:0:")}
	tats := make([]time.Time, len(keys))
	for i, k := range keys { // read all, then write all, as admitSMS does
		tat, err := tx.RateTAT(ctx, k)
		if err != nil {
			return fmt.Errorf("portal: sms limits: %w", err)
		}
		if tat.IsZero() {
			tat = time.Unix(0, 0).UTC() // a time long past counts as nothing, like no row
		}
		tats[i] = tat
	}
	for i, k := range keys {
		if err := tx.SetRateTAT(ctx, k, tats[i]); err != nil {
			return fmt.Errorf("portal: sms limits: %w", err)
		}
	}
	return nil
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
	if d.Channel == casegate.ChannelSMS {
		reason, _, err := p.admitSMS(ctx, tx, d.Destination, now)
		if err != nil {
			return false, err
		}
		if reason != "" {
			fallback := emailFallback[d.Template] && p.channels[casegate.ChannelEmail] && party.Email != ""
			if err := p.refuseSMS(ctx, tx, party.ID, d.Destination, d.Template, reason, fallback, now); err != nil {
				return false, err
			}
			if !fallback {
				return false, nil
			}
			d.Channel, d.Destination = casegate.ChannelEmail, party.Email
		}
	}
	if err := tx.EnqueueDelivery(ctx, d); err != nil {
		return false, err
	}
	return true, nil
}

// gateContactSMS applies the SMS limits to the code that confirms a new
// phone number. The person is signed in, so a refusal is told plainly: the
// country as a field error, a reached limit as rate_limited.
func (p *Portal) gateContactSMS(ctx context.Context, tx casegate.Tx, partyID int64, dest string, now time.Time) (*casegate.Error, error) {
	reason, wait, err := p.admitSMS(ctx, tx, dest, now)
	if err != nil || reason == "" {
		return nil, err
	}
	if err := p.refuseSMS(ctx, tx, partyID, dest, casegate.TemplateContactCode, reason, false, now); err != nil {
		return nil, err
	}
	if reason == SMSRefusedCountry {
		return casegate.FieldErrors(map[string]string{"phone": "We cannot send text messages to phone numbers in this country. Enter another number or change your email address."}), nil
	}
	e := rateLimited(wait)
	e.Message = "Text messages cannot be sent to this number right now. Please try again later."
	return e, nil
}

// refuseSMS records that a text was not queued: an audit event (the
// destination's country, never the number) and the metric.
func (p *Portal) refuseSMS(ctx context.Context, tx casegate.Tx, partyID int64, dest, template, reason string, fallback bool, now time.Time) error {
	details := map[string]string{"template": template, "fallback": "none"}
	if fallback {
		details["fallback"] = string(casegate.ChannelEmail)
	}
	if line, err := identity.PhoneParts(dest); err == nil {
		details["country"] = line.Region
	}
	target := "sms"
	if partyID != 0 {
		target = "party:" + strconv.FormatInt(partyID, 10)
	}
	if err := p.audit(ctx, tx, now, "", casegate.AuditEvent{
		Actor: "system", Action: "sms.refused", Target: target, Outcome: reason, Details: details,
	}); err != nil {
		return err
	}
	// Counted inside the transaction: one retried by PostgreSQL may count a
	// refusal twice. The audit log is exact.
	p.metrics.SMSRefused(reason)
	return nil
}
