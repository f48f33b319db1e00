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

// Every text counts against limits (per destination, per prefix, per
// person for some kinds) and the daily budget, each a GCRA rate row. The
// rows a text reads and writes depend on its kind only, never on whether
// it is refused or is a decoy's, so that no path can be told from another
// by the work it does.

// smsBudgetKey counts every text of the deployment.
const smsBudgetKey = "sms-budget"

// smsCount is one count a text is held to: a rate key, its rate, and the
// refusal when it has no room.
type smsCount struct {
	key    string
	rate   Rate
	reason string
}

const day = 24 * time.Hour

// smsCounts lists what a text of template for party partyID to dest, which
// leads to line, counts against, in the order they are read and written.
// The list's length and order depend on the template only: every sign-in
// code, a decoy's included, reads and writes the same rows in the same
// order. Keys are keyed hashes (rate tag), so the database holds no number.
func (p *Portal) smsCounts(template string, partyID int64, dest string, line identity.PhoneLine) []smsCount {
	l := p.limits.SMS
	person := strconv.FormatInt(partyID, 10)
	where := []smsCount{
		{key: "sms-dest:" + dest, rate: l.PerDestination, reason: SMSRefusedDestination},
		{key: "sms-prefix:" + strconv.Itoa(line.CallingCode) + ":" + line.National[:min(l.PrefixDigits, len(line.National))],
			rate: l.PerPrefix, reason: SMSRefusedPrefix},
	}
	budget := smsCount{key: smsBudgetKey, rate: Rate{l.DailyBudget, day}, reason: SMSRefusedDailyBudget}
	if template == casegate.TemplateContactCode {
		return slices.Concat([]smsCount{{key: "sms-contact:" + person, rate: l.ContactPerPerson, reason: SMSRefusedContact}}, where,
			[]smsCount{budget})
	}
	return append(where, budget)
}

// countState is one count as read, and what taking one from it would make it.
type countState struct {
	key       string // the tagged key
	tat, next time.Time
	room      bool
	wait      time.Duration
}

// countSMS reads every count of a text in order, decides, and writes every
// count back in the same order: charged when admit is set and the counts
// let the text go, else as it was. A decoy's text, and one refused for its
// destination or a full count, so make the same reads and writes as a text
// that goes. A text counts against all its limits and the budget, or nothing.
func (p *Portal) countSMS(ctx context.Context, tx casegate.Tx, counts []smsCount, now time.Time, admit bool) (smsRefusal, error) {
	st := make([]countState, len(counts))
	for i, c := range counts {
		st[i].key = p.keys.Tag("rate", c.key)
		tat, err := tx.RateTAT(ctx, st[i].key)
		if err != nil {
			return smsRefusal{}, fmt.Errorf("portal: sms limits: %w", err)
		}
		st[i].tat = tat
		st[i].next, st[i].room, st[i].wait, _ = gcra(tat, now, c.rate)
	}
	refused := decideSMS(counts, st)
	admit = admit && refused.reason == ""
	for i := range counts {
		tat := st[i].tat
		if admit {
			tat = st[i].next
		}
		if tat.IsZero() {
			tat = time.Unix(0, 0).UTC() // a time long past counts as nothing, like no row
		}
		if err := tx.SetRateTAT(ctx, st[i].key, tat); err != nil {
			return smsRefusal{}, fmt.Errorf("portal: sms limits: %w", err)
		}
	}
	return refused, nil
}

// decideSMS says whether counts as read in st let a text go: every one
// must have room.
func decideSMS(counts []smsCount, st []countState) smsRefusal {
	for i, c := range counts {
		if !st[i].room {
			return smsRefusal{reason: c.reason, wait: st[i].wait}
		}
	}
	return smsRefusal{}
}
