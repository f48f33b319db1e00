package casegate

import (
	"context"
	"time"
)

// Store is the one database behind an instance: SQLite or PostgreSQL.
// Public methods own the transaction; everything else happens through Tx.
type Store interface {
	// Update runs fn in one read-write transaction and commits when fn returns nil.
	// Write transactions are serialised on SQLite; on PostgreSQL row locks order them,
	// and a transaction that hits a serialisation failure or deadlock is run again:
	// fn may run more than once, so it must set, not accumulate, what it reports.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Session reads one session (as Tx.Session) outside any transaction:
	// the read every signed-in request makes, in one statement.
	Session(ctx context.Context, tokenHash []byte) (Session, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Migrate brings the schema up to date.
	Migrate(ctx context.Context) error
	// BulkLoad readies the database for a large import until done is
	// called: what helps is the store's own (SQLite enlarges its page cache
	// and spaces out checkpoints; PostgreSQL needs nothing). Durability is
	// unchanged, and the store works as usual meanwhile, for any caller.
	BulkLoad(ctx context.Context) (done func(), err error)
	Close() error
}

// Tx is a transaction's view of the data. It persists; it decides nothing.
// Methods return ErrNotFound (wrapped) when a row does not exist.
//
// It is made of one port per concern, so that code which needs one concern
// can say so: a function that takes Sessions cannot reach the outbox.
type Tx interface {
	Cases
	Parties
	CaseImport
	Challenges
	RateLimits
	Deliveries
	Outbox
	Sessions
	AdminTokens
	Audit
	Processing
	Subscriptions
	Offices
	Housekeeping
}

// Cases are the filings and their histories.
type Cases interface {
	CaseByReceipt(ctx context.Context, receipt string) (Case, error)            // with History, newest first
	InsertCase(ctx context.Context, c *Case) error                              // sets c.ID
	UpdateCase(ctx context.Context, c Case) error                               // form, category, office, received
	AddStatusEvent(ctx context.Context, e *StatusEvent) (added bool, err error) // ignores a duplicate (same case and key, or case, status, title, at): e becomes the stored event
	CasesForParty(ctx context.Context, partyID int64) ([]Case, error)           // with History, newest first, ordered by receipt
	CaseLinks(ctx context.Context, caseID int64) ([]CaseLink, error)
}

// Parties are the people linked to cases, with their lockout state.
type Parties interface {
	Party(ctx context.Context, id int64) (Party, error)
	PartiesByReceipt(ctx context.Context, receipt string) ([]Party, error) // parties linked to that case
	PartiesByANumber(ctx context.Context, aNumber string) ([]Party, error)
	// PartyNear returns the party with id (from mod the highest id) + 1, or
	// the next after it, locked as Party locks; ErrNotFound with no parties.
	PartyNear(ctx context.Context, from int64) (Party, error)
	// PartiesNearReceipt and PartiesNearANumber are PartiesByReceipt and
	// PartiesByANumber for a code request: on a miss they read the parties
	// of the next receipt number or A-Number instead, with exact false, so a
	// miss costs what a hit does.
	PartiesNearReceipt(ctx context.Context, receipt string) (parties []Party, exact bool, err error)
	PartiesNearANumber(ctx context.Context, aNumber string) (parties []Party, exact bool, err error)
	InsertParty(ctx context.Context, p *Party) error    // sets p.ID
	UpdateParty(ctx context.Context, p Party) error     // every column, lockout state included
	LinkParty(ctx context.Context, link CaseLink) error // upsert of the role
}

// CaseImport is the bulk reads and writes of an import, many rows per
// statement. After an error of a write the transaction must be rolled back:
// rows before the one that failed may have been written.
type CaseImport interface {
	CaseIDs(ctx context.Context, receipts []string) (map[string]int64, error)  // of the cases on file, by receipt
	InsertCases(ctx context.Context, cs []Case) error                          // sets each ID; EConflict for a receipt on file or given twice
	AddStatusEvents(ctx context.Context, es []StatusEvent) error               // as AddStatusEvent for each; IDs not set
	LinkParties(ctx context.Context, links []CaseLink) error                   // as LinkParty for each, in order
	PartiesByANumbers(ctx context.Context, aNumbers []string) ([]Party, error) // with any of them, by id
	// NewPartyIDs reserves n ids, ascending, that no other party will take; InsertParties stores parties under them.
	NewPartyIDs(ctx context.Context, n int) ([]int64, error)
	InsertParties(ctx context.Context, ps []Party) error
}

// Challenges are the access-code requests.
type Challenges interface {
	InsertChallenge(ctx context.Context, c Challenge) error
	Challenge(ctx context.Context, id string) (Challenge, error)
	// CountAttempt atomically adds one attempt and returns the challenge as it now is.
	CountAttempt(ctx context.Context, id string) (Challenge, error)
	// ReplaceCode stores a new code for a resend: MAC, key id, expiry, sends, resend time.
	ReplaceCode(ctx context.Context, c Challenge) error
	// Consume marks the challenge used at now unless it already was; it reports whether this call won.
	Consume(ctx context.Context, id string, now time.Time) (bool, error)
}

// RateLimits are the state of the rate limits and the counts of what they refused.
type RateLimits interface {
	// Rate limits: one theoretical-arrival-time per key (GCRA). RateTAT locks the
	// key's row for the rest of the transaction and returns the zero time for a new key.
	RateTAT(ctx context.Context, key string) (time.Time, error)
	SetRateTAT(ctx context.Context, key string, tat time.Time) error
	DeleteRate(ctx context.Context, key string) error
	// HitRate counts one event at now for key against a limit of one event
	// per interval with bursts of per (GCRA), reading, deciding and storing
	// in one statement that holds the key's row lock. The event is judged
	// at the later of now and the latest time the key was judged at, so
	// that a request that waited for the lock is never judged earlier than
	// the one that held it. The key's time moves only when the event is
	// allowed.
	HitRate(ctx context.Context, key string, now time.Time, interval, per time.Duration) (RateHit, error)

	// Refused requests, counted per limit key, action and window.
	CountRefusal(ctx context.Context, r Refusal) error
	// TakeRefusals removes and returns the counts of windows that ended by now.
	TakeRefusals(ctx context.Context, now time.Time) ([]Refusal, error)
}

// RateHit is what HitRate found and stored for a key: enough to work the
// decision out again (Prev and At) and to check it against what was stored (TAT).
type RateHit struct {
	Prev time.Time // the key's theoretical arrival time before; zero for a new key
	At   time.Time // the time the event was judged at
	TAT  time.Time // the key's theoretical arrival time now stored
}

// Deliveries are the outbox as the portal and operators see it: what is
// queued, cancelled, and how it went. How a worker holds a row is Outbox.
type Deliveries interface {
	EnqueueDelivery(ctx context.Context, d *Delivery) error // sets d.ID
	// CancelDeliveries cancels unsent deliveries of a challenge and wipes their sealed codes.
	CancelDeliveries(ctx context.Context, challengeID string) error
	Deliveries(ctx context.Context, status DeliveryStatus, limit int) ([]Delivery, error)
	// CountDeliveries counts outbox rows in a status.
	CountDeliveries(ctx context.Context, status DeliveryStatus) (int, error)
}

// Sessions are what redeemed codes became.
type Sessions interface {
	InsertSession(ctx context.Context, s Session) error
	Session(ctx context.Context, tokenHash []byte) (Session, error)         // with PartyRevision
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error // never moves last-seen back
	DeleteSession(ctx context.Context, tokenHash []byte) error
	DeleteSessionsOf(ctx context.Context, partyID int64) error
}

// AdminTokens are the operators' credentials.
type AdminTokens interface {
	InsertAdminToken(ctx context.Context, t *AdminToken) error // sets t.ID
	AdminTokenByHash(ctx context.Context, hash []byte) (AdminToken, error)
	AdminTokens(ctx context.Context) ([]AdminToken, error)
	RevokeAdminToken(ctx context.Context, id int64, at time.Time) error
}

// Audit is the hash-chained audit log.
type Audit interface {
	// AppendAudit sets Seq, KeyID, PrevHash and Hash (with AuditHash
	// under the current key of keys) and inserts.
	AppendAudit(ctx context.Context, e *AuditEvent, keys AuditKeys) error
	AuditEvents(ctx context.Context, afterSeq int64, limit int) ([]AuditEvent, error)
	AuditEventAt(ctx context.Context, seq int64) (AuditEvent, error)
	AuditHead(ctx context.Context) (AuditEvent, error) // the last event
	LastAuditBefore(ctx context.Context, before time.Time) (AuditEvent, error)
	// AuditAnchor is the checkpoint the last purge left; ErrNotFound before any.
	AuditAnchor(ctx context.Context) (AuditCheckpoint, error)
	// CutAudit deletes the events through anchor.Seq and keeps anchor; it
	// returns how many went.
	CutAudit(ctx context.Context, anchor AuditCheckpoint) (int64, error)
}

// Processing is what processing times are made of, and the figures made.
type Processing interface {
	// Completions calls fn for every case whose first event
	// with a status in terminal is at or after since.
	Completions(ctx context.Context, since time.Time, terminal []string, fn func(Completion) error) error
	ReplaceProcessingTimes(ctx context.Context, pts []ProcessingTime) error // all rows at once
	ProcessingTimes(ctx context.Context) ([]ProcessingTime, error)
}

// Offices are the office catalog: names and contacts by office code.
type Offices interface {
	// PutOffices upserts each office by its code and reports how many were
	// new and how many changed; offices not given stay.
	PutOffices(ctx context.Context, offices []Office) (created, updated int, err error)
	Offices(ctx context.Context) ([]Office, error) // ordered by code, byte by byte
}

// Subscriptions are how parties want to hear of status changes.
type Subscriptions interface {
	// SetSubscription upserts; one with neither channel is removed.
	SetSubscription(ctx context.Context, s Subscription) error
	Subscription(ctx context.Context, partyID, caseID int64) (Subscription, error) // the zero value when none
	Subscriptions(ctx context.Context, caseID int64) ([]Subscription, error)
}

// Housekeeping is retention and the clean-up of codes that ran out.
type Housekeeping interface {
	// Purge carries out one round of retention with the portal's cutoffs.
	Purge(ctx context.Context, cutoffs PurgeCutoffs) (PurgeCounts, error)
	// HasExpiredCodes reports whether an unsent delivery still holds the
	// sealed code of a challenge expired by now; CancelExpiredCodes cancels
	// those deliveries and wipes the codes.
	HasExpiredCodes(ctx context.Context, now time.Time) (bool, error)
	CancelExpiredCodes(ctx context.Context, now time.Time) (int64, error)
}

// Refusal counts the requests one limit refused in one window: refused
// requests cost a row per limit key and window, not a row each.
type Refusal struct {
	Key    string // the limit's rate key, a keyed tag
	Action string // the audit action refused: "code.request", "code.resend", "code.redeem"
	Limit  string // which limit: "requests_per_ip", "requests_per_identifier", "redeems_per_ip"
	IPHash string // the client's keyed tag for a per-IP limit, else empty
	From   time.Time
	Until  time.Time
	Count  int
}

// PurgeCutoffs say what retention removes: what ran out, or was made, before each time.
type PurgeCutoffs struct {
	Challenges   time.Time // challenges that expired before (their decoy deliveries with them; their unsent codes are cancelled first)
	Sessions     time.Time // sessions whose absolute expiry is before
	SessionsIdle time.Time // sessions last used before
	Rates        time.Time // rate rows whose theoretical arrival time is before
	Destinations time.Time // finished deliveries made before lose destination and error text …
	// DestinationsFrom, when set, bounds that to those made at or after it,
	// so an hourly purge does not rescan what earlier ones scrubbed.
	DestinationsFrom time.Time
	Deliveries       time.Time // finished deliveries made before
}

// PurgeCounts say how many rows each step of a purge changed. Cancelled
// counts the unsent codes the portal cancels before the store's purge.
type PurgeCounts struct {
	Cancelled, Decoys, Challenges, Sessions, Rates, Scrubbed, Deliveries int64
}
