// Package casegate holds the domain of the case-status portal: the types that
// every other package speaks, the Error type and its codes, and the small
// interfaces (Store, Tx and its ports, Sender) that the adapters implement.
//
// Business rules do not live here; they live in package portal.
package casegate

import (
	"time"

	"github.com/casegate/casegate/catalog"
)

// Channel is a way to reach a party: email or text message.
type Channel string

// The channels a code or notice can travel by.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == ChannelEmail || c == ChannelSMS }

// Role is how a party is linked to a case.
type Role string

// The roles a party may hold on a case.
const (
	RoleApplicant      Role = "applicant"
	RolePetitioner     Role = "petitioner"
	RoleBeneficiary    Role = "beneficiary"
	RoleRepresentative Role = "representative"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleApplicant, RolePetitioner, RoleBeneficiary, RoleRepresentative:
		return true
	}
	return false
}

// Languages the portal speaks: one per message file of the catalog. The
// first, English, is the default.
var Languages = catalog.Default().Languages()

// Case is one filing, keyed by its receipt number.
type Case struct {
	ID            int64
	ReceiptNumber string // canonical: 3 upper-case letters + 10 digits
	FormType      string
	Category      string
	Office        string
	ReceivedOn    time.Time // a date, at 00:00 UTC
	History       []StatusEvent
}

// StatusEvent is one step in a case's history.
type StatusEvent struct {
	ID     int64
	CaseID int64
	Status string // a catalog code such as "received", or a custom code
	Title  string // a custom title; empty when the catalog describes Status
	At     time.Time
	// IdempotencyKey is the operator's key for the post that added the
	// event (the Idempotency-Key header), unique per case; "" for none.
	IdempotencyKey string
}

// Party is a person linked to cases, with the identity and contact data on file.
type Party struct {
	ID             int64
	GivenName      string // as on file, for display
	FamilyName     string
	DateOfBirth    string // canonical YYYY-MM-DD
	CountryOfBirth string // ISO 3166-1 alpha-2
	ANumber        string // canonical "A" + 9 digits, or empty
	Email          string // empty when none on file
	Phone          string // E.164, empty when none on file
	Language       string // a catalog language ("en", "es", …)

	// Lockout state, kept by portal.
	LockedUntil         time.Time // zero when not locked for a time
	LockedIndefinitely  bool      // set after too many consecutive failures; an operator unlocks
	LockCount           int       // how many timed locks since the last sign-in; each doubles
	ConsecutiveFailures int       // wrong codes since the last sign-in

	// Revision is moved on by portal when a change must show on every
	// instance at once; instances compare it, never order it.
	Revision int64
}

// Locked reports whether the party may not sign in at now.
func (p Party) Locked(now time.Time) bool {
	return p.LockedIndefinitely || now.Before(p.LockedUntil)
}

// Contact returns the destination on file for ch, or "" when there is none.
func (p Party) Contact(ch Channel) string {
	switch ch {
	case ChannelEmail:
		return p.Email
	case ChannelSMS:
		return p.Phone
	}
	return ""
}

// CaseLink is a party's link to a case with its role.
type CaseLink struct {
	CaseID  int64
	PartyID int64
	Role    Role
}

// Purpose says what a challenge proves.
type Purpose string

// The purposes of a challenge.
const (
	PurposeSignIn        Purpose = "sign_in"
	PurposeContactChange Purpose = "contact_change"
)

// Challenge is one access-code request. A challenge with PartyID 0 is a decoy:
// it behaves like a real one and can never be redeemed.
type Challenge struct {
	ID          string // the public request_id
	PartyID     int64  // 0 for a decoy
	Purpose     Purpose
	Channel     Channel
	Language    string
	KeyID       string // which MAC key made CodeMAC
	CodeMAC     []byte // HMAC-SHA256(key, request_id ‖ code)
	CreatedAt   time.Time
	ExpiresAt   time.Time
	Attempts    int       // attempts counted, wrong or right
	Sends       int       // how many codes were sent for this request
	ResendAfter time.Time // no resend before this
	ConsumedAt  time.Time // zero until redeemed
	NewContact  string    // for PurposeContactChange: the destination being confirmed
}

// Decoy reports whether the challenge can never be redeemed.
func (c Challenge) Decoy() bool { return c.PartyID == 0 }

// DeliveryStatus is where an outbox row stands.
type DeliveryStatus string

// The states of a delivery.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting to be claimed or retried
	DeliverySent      DeliveryStatus = "sent"      // handed to the provider
	DeliveryFailed    DeliveryStatus = "failed"    // gave up; visible to operators
	DeliveryCancelled DeliveryStatus = "cancelled" // no longer wanted (code replaced or expired)
)

// Templates of outgoing messages.
const (
	TemplateAccessCode     = "access_code"
	TemplateLockoutNotice  = "lockout_notice"
	TemplateContactCode    = "contact_code"    // a code confirming a new email or phone, sent to it
	TemplateContactChanged = "contact_changed" // a notice to the old destination after a change
	TemplateStatusUpdate   = "status_update"   // a case's new status, to a subscribed party
)

// Delivery is one outgoing message in the outbox. Which worker holds it, and
// the state of its challenge as the worker saw it, are the worker's
// (ClaimedDelivery).
type Delivery struct {
	ID          int64
	ChallengeID string // the challenge whose code this carries; empty for notices
	PartyID     int64
	Channel     Channel
	Destination string
	Template    string
	Language    string
	Params      map[string]string // non-secret values for the template
	SealedCode  []byte            // the code sealed with AES-GCM; nil once sent, cancelled or expired
	Status      DeliveryStatus
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
	SentAt      time.Time
}

// Session is what a redeemed code becomes. Only the SHA-256 of its token is stored.
type Session struct {
	TokenHash  []byte
	PartyID    int64
	CreatedAt  time.Time // the sign-in time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	// PartyRevision is the party's Revision as read with the session; it
	// is not stored with the session.
	PartyRevision int64
}

// AdminToken is an operator credential. Only its SHA-256 is stored.
type AdminToken struct {
	ID        int64
	Name      string
	TokenHash []byte
	CreatedAt time.Time
	RevokedAt time.Time
}

// Revoked reports whether the token may no longer be used.
func (t AdminToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// ProcessingTime is how long cases of one form, category and office took to
// finish: days from received to the first terminal status, over the cases
// finished in the trailing window. A whole-form figure, over every category
// and office of the form together, has an empty Category and Office (every
// case has an office, so no group's figure does).
type ProcessingTime struct {
	FormType   string
	Category   string
	Office     string
	MedianDays int
	P80Days    int // the 80th percentile: the inquiry date is received + this
	Cases      int // how many finished cases the figures come from
	ComputedAt time.Time
	// Withheld marks a whole-form figure that is not published because too
	// few cases finished: its days and Cases are zero. It is never stored.
	Withheld bool
}

// WholeForm reports whether p covers every category and office of its form.
func (p ProcessingTime) WholeForm() bool { return p.Office == "" }

// Office is one office of the agency as the office catalog names it: cases
// and processing times carry its Code, people read its Name and where to
// reach it. Address, Phone and URL may be empty.
type Office struct {
	Code    string // as cases name it: "NBC", "Los Angeles"
	Name    string // "National Benefits Center"
	Address string // postal address, lines joined with ", "
	Phone   string // as it is dialled: "+1 800 555 0100"
	URL     string // the office's web page, http or https
}

// Completion is one finished case, the raw material of processing times.
type Completion struct {
	FormType    string
	Category    string
	Office      string
	ReceivedOn  time.Time
	CompletedAt time.Time
}

// Subscription says how a party wants to hear of status changes on a case.
type Subscription struct {
	PartyID int64
	CaseID  int64
	Email   bool
	SMS     bool
}
