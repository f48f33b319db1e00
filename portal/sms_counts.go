package portal

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// Every text counts against limits (per destination, per prefix, per
// person for some kinds) and one share of the daily budget, each a GCRA
// rate row. The rows a text reads and writes depend on its kind only, never
// on whether it is refused or is a decoy's, so that no path can be told
// from another by the work it does.

// smsCount is one count a text is held to: a rate key, its rate and its part.
type smsCount struct {
	key    rateKey
	rate   Rate
	role   countRole
	reason string // for countLimit: the refusal when it is full
	share  string // for countReserve and countShare: the share's name
}

type countRole uint8

const (
	countLimit   countRole = iota // must have room, or the text is refused
	countFirst                    // has room when this is the person's first code of the day
	countReserve                  // a share only a person's first code may draw on
	countShare                    // the share the text draws on otherwise
)

const day = 24 * time.Hour

// smsCounts lists what a text of template for party partyID to dest, which
// leads to line, counts against, in the order they are read and written.
// The list's length and order depend on the template only: every sign-in
// code, a decoy's included, reads and writes the same rows in the same
// order. Keys are keyed hashes (rate tag), so the database holds no number.
func (p *Portal) smsCounts(template string, partyID int64, dest string, line identity.PhoneLine) []smsCount {
	l := p.limits.SMS
	sizes := l.Shares.sizes(l.DailyBudget)
	where := []smsCount{
		{key: smsDestination(dest), rate: l.PerDestination, reason: SMSRefusedDestination},
		{key: smsPrefix(line.CallingCode, line.National[:min(l.PrefixDigits, len(line.National))]),
			rate: l.PerPrefix, reason: SMSRefusedPrefix},
	}
	share := func(name string, role countRole) smsCount {
		return smsCount{key: smsShare(name), rate: Rate{sizes[name], day}, role: role, share: name}
	}
	switch smsShareOf(template) {
	case ShareCode:
		return slices.Concat([]smsCount{{key: smsFirstCode(partyID), rate: Rate{1, day}, role: countFirst}}, where,
			[]smsCount{share(ShareFirstCode, countReserve), share(ShareCode, countShare)})
	case ShareContact:
		return slices.Concat([]smsCount{{key: smsContacts(partyID), rate: l.ContactPerPerson, reason: SMSRefusedContact}}, where,
			[]smsCount{share(ShareContact, countShare)})
	}
	return append(where, share(ShareNotice, countShare))
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
// that goes. A text counts against all its limits and one share, or nothing.
func (p *Portal) countSMS(ctx context.Context, tx casegate.RateLimits, counts []smsCount, now time.Time, admit bool) (smsRefusal, error) {
	st := make([]countState, len(counts))
	for i, c := range counts {
		st[i].key = p.rateTag(c.key)
		tat, err := tx.RateTAT(ctx, st[i].key)
		if err != nil {
			return smsRefusal{}, fmt.Errorf("portal: sms limits: %w", err)
		}
		st[i].tat = tat
		if c.rate.N > 0 {
			st[i].next, st[i].room, st[i].wait, _ = gcra(tat, now, c.rate)
		} else {
			st[i].wait = day // a share of 0: texts of its kind never go
		}
	}
	refused, drawn := decideSMS(counts, st)
	admit = admit && refused.reason == ""
	for i, c := range counts {
		tat := st[i].tat
		if admit && (c.role == countLimit || c.role == countFirst && st[i].room || i == drawn) {
			tat = st[i].next
		}
		if tat.IsZero() {
			tat = time.Unix(0, 0).UTC() // a time long past counts as nothing, like no row
		}
		if err := tx.SetRateTAT(ctx, st[i].key, tat); err != nil {
			return smsRefusal{}, fmt.Errorf("portal: sms limits: %w", err)
		}
	}
	if admit {
		p.noteSpend(ctx, counts[drawn], st[drawn], now)
	}
	return refused, nil
}

// decideSMS says whether counts as read in st let a text go, and if so
// which share it draws on: the reserve for a person's first code of the
// day while it has room, else the kind's own share.
func decideSMS(counts []smsCount, st []countState) (refused smsRefusal, drawn int) {
	first := false
	for i, c := range counts {
		switch {
		case c.role == countFirst:
			first = st[i].room
		case c.role == countLimit && !st[i].room:
			return smsRefusal{reason: c.reason, wait: st[i].wait}, -1
		}
	}
	refused = smsRefusal{reason: SMSRefusedDailyBudget, wait: day}
	for i, c := range counts {
		if c.role == countShare || c.role == countReserve && first {
			if st[i].room {
				return smsRefusal{}, i
			}
			refused.share, refused.wait = c.share, min(refused.wait, st[i].wait)
		}
	}
	return refused, -1
}
