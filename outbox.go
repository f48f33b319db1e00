package casegate

import (
	"context"
	"time"
)

// Outbox is how a delivery worker holds outbox rows: it leases them, so
// that two workers never send one row, and gives them back.
type Outbox interface {
	// ClaimDeliveries leases up to n due pending deliveries to owner until
	// leaseUntil, each with the state of its challenge (ChallengeExpiresAt,
	// ChallengeUsed).
	ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, n int) ([]Delivery, error)
	// FinishDelivery stores the outcome of one send by the lease owner: status, attempts,
	// next attempt, last error, sent time; it wipes the sealed code unless the status is pending.
	FinishDelivery(ctx context.Context, d Delivery) error
	// ReleaseLeases hands back the unsent deliveries leased to owner.
	ReleaseLeases(ctx context.Context, owner string) error
}
