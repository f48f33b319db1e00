package portal

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casegate/casegate"
)

// BudgetShares split SMSLimits.DailyBudget between the kinds of text, in
// percent. Each kind draws only on its own share, so that what an attacker
// can make the portal send (codes for the few people they can pass for,
// lockout notices, contact changes on their own account) never spends the
// texts of people asking for their first code of the day. docs/security.md
// has the reasoning.
type BudgetShares struct {
	// FirstCode is the reserve for a person's first sign-in code by text
	// of the day. Only a first code draws on it, so it is spent one text
	// per person: an attacker spends of it only as many texts as people
	// they can pass for.
	FirstCode int
	// Code is for every other sign-in code (resends, more requests), and
	// for first codes once the reserve is spent.
	Code int
	// Contact is for codes confirming a new phone number.
	Contact int
	// Notice is for status updates, lockout notices and contact-changed
	// notices.
	Notice int
}

// The shares, as metrics, logs and audit events name them.
const (
	ShareFirstCode = "first_code"
	ShareCode      = "code"
	ShareContact   = "contact"
	ShareNotice    = "notice"
)

// SMSShares are the shares' names, in the order operators see them.
var SMSShares = []string{ShareFirstCode, ShareCode, ShareContact, ShareNotice}

// DefaultBudgetShares keeps most of the budget for first codes.
func DefaultBudgetShares() BudgetShares {
	return BudgetShares{FirstCode: 60, Code: 15, Contact: 10, Notice: 15}
}

// Percent returns the percentage of the share named name.
func (s BudgetShares) Percent(name string) int {
	switch name {
	case ShareFirstCode:
		return s.FirstCode
	case ShareCode:
		return s.Code
	case ShareContact:
		return s.Contact
	case ShareNotice:
		return s.Notice
	}
	return 0
}

// String is the shares in the form of CASEGATE_SMS_BUDGET_SHARES.
func (s BudgetShares) String() string {
	parts := make([]string, len(SMSShares))
	for i, name := range SMSShares {
		parts[i] = name + "=" + strconv.Itoa(s.Percent(name))
	}
	return strings.Join(parts, ",")
}

// Validate reports what makes the shares unusable: one outside 0–100,
// a sum other than 100, or no first-code reserve.
func (s BudgetShares) Validate() error {
	sum := 0
	for _, name := range SMSShares {
		n := s.Percent(name)
		if n < 0 || n > 100 {
			return fmt.Errorf("SMS budget share %s is %d%%, outside 0–100", name, n)
		}
		sum += n
	}
	if sum != 100 {
		return fmt.Errorf("SMS budget shares add up to %d%%, not 100%%", sum)
	}
	if s.FirstCode == 0 {
		return fmt.Errorf("SMS budget share %s must not be 0: it keeps first codes from being spent by others", ShareFirstCode)
	}
	return nil
}

// sizes returns how many texts a day each share holds of budget: its
// percentage, rounded down, and at least one text unless it is 0; the
// first-code reserve takes what the rounding leaves. With a budget smaller
// than the shares, they add up to a little more.
func (s BudgetShares) sizes(budget int) map[string]int {
	out := map[string]int{}
	rest := budget
	for _, name := range SMSShares[1:] {
		if n := s.Percent(name); n > 0 {
			out[name] = max(1, budget*n/100)
			rest -= out[name]
		}
	}
	out[ShareFirstCode] = max(1, rest)
	return out
}

// smsShareOf is the share a template's texts draw on: ShareCode for
// sign-in codes (which draw on the first-code reserve first, when they are
// the person's first of the day), ShareContact, or ShareNotice.
func smsShareOf(template string) string {
	switch template {
	case casegate.TemplateAccessCode:
		return ShareCode
	case casegate.TemplateContactCode:
		return ShareContact
	}
	return ShareNotice
}

// spent is how many texts counted against a count of rate r, at tat, have
// not refilled by now.
func spent(tat, now time.Time, r Rate) int {
	if r.N <= 0 || !tat.After(now) {
		return 0
	}
	interval := r.Per / time.Duration(r.N)
	return min(r.N, int((tat.Sub(now)+interval-1)/interval))
}

// budgetMarks are the parts of a share, in percent, whose crossing is logged.
var budgetMarks = []int{50, 80, 100}

// budgetLog remembers the UTC day on which each share last crossed each
// mark, so that a crossing is logged once a day, not at every text.
type budgetLog struct {
	mu     sync.Mutex
	logged map[string]string // share/mark → day
}

// cross records that share crossed marks on day and reports whether any
// of them had not been logged that day.
func (b *budgetLog) cross(share string, marks []int, day string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.logged == nil {
		b.logged = map[string]string{}
	}
	news := false
	for _, m := range marks {
		k := share + "/" + strconv.Itoa(m)
		if b.logged[k] != day {
			b.logged[k], news = day, true
		}
	}
	return news
}

// noteSpend tells operators that a text was counted against share c (from
// st.tat to st.next): the gauge, and a log line when the share's spend
// crosses 50, 80 or 100 %.
func (p *Portal) noteSpend(ctx context.Context, c smsCount, st countState, now time.Time) {
	was, is := spent(st.tat, now, c.rate), spent(st.next, now, c.rate)
	p.metrics.SMSBudget(c.share, is, c.rate.N)
	var crossed []int
	for _, m := range budgetMarks {
		if was*100 < m*c.rate.N && is*100 >= m*c.rate.N {
			crossed = append(crossed, m)
		}
	}
	if len(crossed) == 0 || !p.budget.cross(c.share, crossed, now.UTC().Format(time.DateOnly)) {
		return
	}
	mark := crossed[len(crossed)-1]
	level := slog.LevelInfo
	if mark >= 80 {
		level = slog.LevelWarn
	}
	p.log.LogAttrs(ctx, level, "SMS budget share spent past "+strconv.Itoa(mark)+"%",
		slog.String("share", c.share), slog.Int("percent", mark), slog.Int("spent", is), slog.Int("size", c.rate.N))
}

// SMSShareSpend is how much of one share of the daily SMS budget is spent:
// the texts counted against it that have not refilled yet. Spent equal to
// Size means the next text of its kind is refused.
type SMSShareSpend struct {
	Share       string
	Spent, Size int
}

// SMSBudgetSpend reads how much of each share of the daily SMS budget is
// spent now, in the order of SMSShares.
func (p *Portal) SMSBudgetSpend(ctx context.Context) ([]SMSShareSpend, error) {
	now := p.clock()
	sizes := p.limits.SMS.Shares.sizes(p.limits.SMS.DailyBudget)
	var out []SMSShareSpend
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		out = out[:0]
		for _, name := range SMSShares {
			tat, err := tx.RateTAT(ctx, p.rateTag(smsShare(name)))
			if err != nil {
				return fmt.Errorf("portal: sms budget: %w", err)
			}
			r := Rate{sizes[name], day}
			out = append(out, SMSShareSpend{Share: name, Spent: spent(tat, now, r), Size: r.N})
		}
		return nil
	})
	return out, err
}

// ReportSMSBudget sets the budget's gauges from the database. Serve calls
// it every minute, so that the gauges show the refill, and the texts other
// instances counted.
func (p *Portal) ReportSMSBudget(ctx context.Context) error {
	shares, err := p.SMSBudgetSpend(ctx)
	if err != nil {
		return err
	}
	for _, s := range shares {
		p.metrics.SMSBudget(s.Share, s.Spent, s.Size)
	}
	return nil
}
