package casegate

import (
	"context"
	"time"
)

// Outbox is how a delivery worker holds outbox rows: it leases them, so
// that two workers never send one row, and gives them back. The portal
// never sees a lease; it queues with Deliveries, or through the worker
// when it hands a code over (portal.Outbox).
type Outbox interface {
	// EnqueueClaimed stores d as EnqueueDelivery does, already leased under
	// d.Lease, and sets d.ID: a row queued for its worker to take at once,
	// which no other worker claims meanwhile.
	EnqueueClaimed(ctx context.Context, d *ClaimedDelivery) error
	// ClaimDeliveries leases up to n due pending deliveries to owner until
	// leaseUntil, each with the state of its challenge (ChallengeExpiresAt,
	// ChallengeUsed).
	ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, n int) ([]ClaimedDelivery, error)
	// FinishDelivery stores the outcome of one send by the lease owner: status, attempts,
	// next attempt, last error, sent time; it wipes the sealed code unless the status is pending.
	FinishDelivery(ctx context.Context, d ClaimedDelivery) error
	// ReleaseLeases hands back the unsent deliveries leased to owner and
	// returns how many.
	ReleaseLeases(ctx context.Context, owner string) (int, error)
	// DeliveryLease returns the lease a delivery is held under, the zero
	// Lease when none: which worker holds a row, for diagnostics and tests.
	DeliveryLease(ctx context.Context, id int64) (Lease, error)
}

// Lease is a worker's hold on an outbox row: until Until, no other worker
// claims it.
type Lease struct {
	Owner string // the worker's owner id, hostname-pid-random
	Until time.Time
}

// ClaimedDelivery is a delivery as the worker that holds it sees it: the
// row, its lease, and the state of its challenge when it was claimed (or
// queued, for a delivery handed straight to the worker). None of it but the
// row is a fact of the domain; it exists between the outbox and its worker.
type ClaimedDelivery struct {
	Delivery
	Lease Lease

	// The state of the delivery's challenge: its expiry, zero when the
	// delivery has no challenge or the challenge is gone, and whether its
	// code was used. Not stored with the delivery; ClaimDeliveries reads them.
	ChallengeExpiresAt time.Time
	ChallengeUsed      bool
}

// DeliveryResult is what became of a delivery its worker held.
type DeliveryResult string

// The results a worker reports; each is the suffix of its audit action
// ("delivery.sent").
const (
	DeliverySentResult      DeliveryResult = "sent"      // the provider accepted it
	DeliveryRetryResult     DeliveryResult = "retry"     // not sent this time; due again at RetryAt
	DeliveryFailedResult    DeliveryResult = "failed"    // given up
	DeliveryCancelledResult DeliveryResult = "cancelled" // no longer wanted, or not to be sent: not sent
)

// ReasonSMSRefused is the Reason of a text cancelled at send time because
// its destination may not be texted; the portal may queue its replacement.
const ReasonSMSRefused = "sms_refused"

// DeliveryOutcome is what a worker reports of one delivery it held. The
// worker decides what happened (sent, to retry, failed, cancelled, and why);
// the portal records it: the row's new state and the audit event.
type DeliveryOutcome struct {
	Delivery  ClaimedDelivery // as the worker held it, sealed code and all
	Result    DeliveryResult
	Reason    string    // the audit outcome: ok, transient_error, permanent_error, max_attempts, no_sender, ...
	Attempted bool      // a send was tried, so the attempt counts
	Error     string    // what went wrong, redacted; "" when nothing did
	RetryAt   time.Time // for a retry: when the delivery is due again
	// At is when the worker decided the outcome: for a send, the moment the
	// provider accepted or refused it. The row's sent_at is At, not the
	// time the outcome reaches the database, which may be much later while
	// the database fails over; zero means the time of recording.
	At time.Time
}

// Attempts is how many sends of the delivery were tried, this one included.
func (o DeliveryOutcome) Attempts() int {
	if o.Attempted {
		return o.Delivery.Attempts + 1
	}
	return o.Delivery.Attempts
}
