// Package portal holds casegate's use cases and every business rule: who may
// get a code, what a redeem answers, the limits and lockouts, what is audited.
// HTTP handlers and commands call it; the store only persists.
package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync/atomic"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// Rate is a limit of N events per window.
type Rate struct {
	N   int
	Per time.Duration
}

// Limits are the tunable limits and timeouts of DESIGN §5, §7, §8 and §11.
type Limits struct {
	CodeLength             int           // symbols, check symbol included
	CodeTTL                time.Duration // how long a code is valid
	MaxAttempts            int           // wrong codes per challenge
	ResendBase             time.Duration // first cooldown; doubles with each send
	MaxSends               int           // sends per request, the first included
	RequestsPerIdentifier  Rate
	RequestsPerIP          Rate
	RedeemsPerIP           Rate
	CodesPerParty          Rate          // codes sent to one person, however asked for
	PartyFailures          Rate          // wrong codes per party before a timed lock
	LockBase               time.Duration // first timed lock; doubles each time
	MaxConsecutiveFailures int           // then locked until an operator unlocks
	SessionIdle            time.Duration
	SessionAbsolute        time.Duration
	Reauth                 time.Duration // contact changes only this soon after sign-in
	SMS                    SMSLimits     // SMS pumping protection (pumping.go)
	// ProcessingMinCases is how many finished cases a processing-time
	// figure must come from to be published (stats.Publish).
	ProcessingMinCases int
}

// DefaultLimits returns the defaults of the design.
func DefaultLimits() Limits {
	return Limits{
		CodeLength:             accesscode.DefaultLength,
		CodeTTL:                10 * time.Minute,
		MaxAttempts:            5,
		ResendBase:             30 * time.Second,
		MaxSends:               5,
		RequestsPerIdentifier:  Rate{5, 10 * time.Minute},
		RequestsPerIP:          Rate{25, 5 * time.Minute},
		RedeemsPerIP:           Rate{60, 5 * time.Minute},
		CodesPerParty:          Rate{10, 24 * time.Hour},
		PartyFailures:          Rate{10, 24 * time.Hour},
		LockBase:               time.Hour,
		MaxConsecutiveFailures: 100,
		SessionIdle:            15 * time.Minute,
		SessionAbsolute:        12 * time.Hour,
		Reauth:                 20 * time.Minute,
		SMS:                    DefaultSMSLimits(),
		ProcessingMinCases:     10,
	}
}

// Validate reports the first limit that makes no sense.
func (l Limits) Validate() error {
	if l.CodeLength < accesscode.MinLength || l.CodeLength > accesscode.MaxLength {
		return fmt.Errorf("code length %d is outside %d–%d", l.CodeLength, accesscode.MinLength, accesscode.MaxLength)
	}
	for name, d := range map[string]time.Duration{
		"code TTL": l.CodeTTL, "resend base": l.ResendBase, "lock base": l.LockBase,
		"session idle": l.SessionIdle, "session absolute": l.SessionAbsolute, "reauthentication window": l.Reauth,
	} {
		if d <= 0 {
			return fmt.Errorf("%s must be positive", name)
		}
	}
	for name, n := range map[string]int{"max attempts": l.MaxAttempts, "max sends": l.MaxSends, "max consecutive failures": l.MaxConsecutiveFailures,
		"processing-time minimum of cases": l.ProcessingMinCases} {
		if n <= 0 {
			return fmt.Errorf("%s must be positive", name)
		}
	}
	for name, r := range map[string]Rate{
		"requests per identifier": l.RequestsPerIdentifier, "requests per IP": l.RequestsPerIP,
		"redeems per IP": l.RedeemsPerIP, "party failures": l.PartyFailures, "codes per party": l.CodesPerParty,
	} {
		if r.N <= 0 || r.Per <= 0 {
			return fmt.Errorf("%s must be a positive count per positive duration", name)
		}
	}
	return l.SMS.validate()
}

// Deps is what a Portal needs.
type Deps struct {
	Store   casegate.Store
	Keys    *accesscode.Keyring
	Limits  Limits
	Now     func() time.Time // defaults to time.Now
	Outbox  Outbox           // this instance's delivery worker; may be nil
	Metrics casegate.Metrics // may be nil
	Logger  *slog.Logger
	// Channels are the ones a sender is configured for; codes and notices go
	// only through them. Nil means both.
	Channels []casegate.Channel
	// ReadCacheTTL is how long dashboards and the processing times read
	// from the store are reused (see readCache); 0 turns the cache off.
	// Sessions are read every time.
	ReadCacheTTL time.Duration
	// Retention is how long what is stored is kept; the zero value means DefaultRetention.
	Retention Retention
}

// Outbox is this instance's delivery worker (delivery.Worker) as the portal
// sees it. Every message is queued in the database, in the transaction that
// decides it; the worker sends it from there. How the worker holds a row
// (its lease) is the worker's: the portal only asks it to queue a code and,
// after the commit, to take it.
type Outbox interface {
	// Wake says that messages were queued, for the worker to claim.
	Wake()
	// QueueCode queues d in tx, sets d.ID, and returns the code as the
	// worker will hold it; expiresAt is when its challenge expires. A
	// person waits for a code: when the worker can take it at once, it is
	// queued already held by the worker, so that no claim is needed, and
	// otherwise it is claimed as any other message.
	QueueCode(ctx context.Context, tx casegate.Outbox, d *casegate.Delivery, expiresAt time.Time) (casegate.ClaimedDelivery, error)
	// HandOver gives the worker a code QueueCode queued, once the
	// transaction that queued it has committed.
	HandOver(d casegate.ClaimedDelivery)
}

// noOutbox is the outbox of a process without a worker (the command line):
// what it queues waits for a running instance's worker to claim it.
type noOutbox struct{}

func (noOutbox) Wake() {}

func (noOutbox) QueueCode(ctx context.Context, tx casegate.Outbox, d *casegate.Delivery, expiresAt time.Time) (casegate.ClaimedDelivery, error) {
	c := casegate.ClaimedDelivery{Delivery: *d} // held by nobody
	err := tx.EnqueueClaimed(ctx, &c)
	d.ID = c.ID
	return c, err
}

func (noOutbox) HandOver(casegate.ClaimedDelivery) {}

// wake tells the worker that messages wait in the outbox.
func (p *Portal) wake() { p.outbox.Wake() }

// handOverDelay is how long after the commit a code's delivery reaches the
// worker: long enough for the answer to the request to be written first, so
// that the worker's sending (rendering, sealing open, the SMTP exchange)
// never competes for the CPU with the answer, and a request that matched a
// person answers in the time of one that did not (docs/decisions.md).
const handOverDelay = 2 * time.Millisecond

// dispatch follows the commit that queued a code's delivery d: after
// handOverDelay the worker gets it (and sends it, or claims it when it could
// not take it at once). A decoy's request dispatches too, with no delivery
// (ID 0): its timer is set and fires alike, and hands nothing over, so that
// a match does not show in the work of the runtime.
func (p *Portal) dispatch(d casegate.ClaimedDelivery) {
	time.AfterFunc(handOverDelay, func() {
		if d.ID != 0 {
			p.outbox.HandOver(d)
		}
	})
}

// Portal runs the use cases.
type Portal struct {
	store     casegate.Store
	keys      *accesscode.Keyring
	limits    Limits
	now       func() time.Time
	outbox    Outbox
	metrics   casegate.Metrics
	log       *slog.Logger
	channels  map[casegate.Channel]bool
	reads     *readCache
	seen      *lastSeen
	budget    *budgetLog // which SMS budget marks were logged today
	retention Retention
	// scrubbedOnce is set once a purge of this process has scrubbed every
	// destination due; later purges scrub only a recent band.
	scrubbedOnce atomic.Bool
}

// New checks deps and returns a Portal.
func New(d Deps) (*Portal, error) {
	if d.Store == nil || d.Keys == nil {
		return nil, errors.New("portal: a store and a keyring are required")
	}
	if err := d.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("portal: limits: %w", err)
	}
	if d.Retention == (Retention{}) {
		d.Retention = DefaultRetention()
	}
	if err := d.Retention.Validate(); err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	p := &Portal{store: d.Store, keys: d.Keys, limits: d.Limits, now: d.Now, outbox: d.Outbox, metrics: d.Metrics, log: d.Logger, retention: d.Retention}
	if p.metrics == nil {
		p.metrics = casegate.NopMetrics{}
	}
	if d.Channels == nil {
		d.Channels = []casegate.Channel{casegate.ChannelEmail, casegate.ChannelSMS}
	}
	p.reads = newReadCache(d.ReadCacheTTL)
	p.seen = newLastSeen()
	p.budget = &budgetLog{}
	p.channels = map[casegate.Channel]bool{}
	for _, ch := range d.Channels {
		p.channels[ch] = true
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.outbox == nil {
		p.outbox = noOutbox{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// Importer returns an importer of cases into the portal's store, its audit
// event chained with the portal's keys.
func (p *Portal) Importer() *Importer {
	return &Importer{Store: p.store, Keys: p.keys, Now: p.now, AllowVoIP: p.limits.SMS.AllowVoIP}
}

// Keys returns the portal's keyring.
func (p *Portal) Keys() *accesscode.Keyring { return p.keys }

// Limits returns the limits in force.
func (p *Portal) Limits() Limits { return p.limits }

// clock returns now in UTC, truncated to what the store keeps.
func (p *Portal) clock() time.Time { return p.now().UTC().Truncate(time.Microsecond) }

// requestLifetime is how long after it was made a request may still be resent.
func (l Limits) requestLifetime() time.Duration { return l.CodeTTL * time.Duration(l.MaxSends+1) }

// requestEnds is when the request of ch can no longer be used: its code
// has expired and, once its sends are used up or its lifetime is over, no
// resend brings another.
func (l Limits) requestEnds(ch casegate.Challenge) time.Time {
	if ch.Sends >= l.MaxSends {
		return ch.ExpiresAt
	}
	return latest(ch.ExpiresAt, ch.CreatedAt.Add(l.requestLifetime()))
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// withRequestID returns details with the ID of the HTTP request ctx serves,
// when it serves one, under casegate.RequestIDKey. Details are part of the
// event's keyed hash, so the ID cannot be changed without the chain showing.
func withRequestID(ctx context.Context, details map[string]string) map[string]string {
	id := casegate.RequestID(ctx)
	if id == "" {
		return details
	}
	out := make(map[string]string, len(details)+1)
	maps.Copy(out, details)
	out[casegate.RequestIDKey] = id
	return out
}

// audit appends one event in tx, filling time and the client IP hash.
func (p *Portal) audit(ctx context.Context, tx casegate.Audit, now time.Time, ip string, e casegate.AuditEvent) error {
	e.At = now
	if ip != "" {
		e.IPHash = p.keys.Tag("ip", ip)
	}
	e.Details = withRequestID(ctx, e.Details)
	if err := tx.AppendAudit(ctx, &e, p.keys); err != nil {
		return fmt.Errorf("portal: audit %s: %w", e.Action, err)
	}
	return nil
}
