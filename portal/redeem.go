package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// SignIn is a new session: the token is shown once and only its hash is kept.
type SignIn struct {
	Token     string
	ExpiresAt time.Time // the absolute expiry; idle sessions end sooner
	PartyID   int64
}

// Redeem exchanges a request id and code for a session. A malformed code uses
// no attempt. Otherwise the attempt is counted before the code is compared, and
// of any number of concurrent correct submissions exactly one wins.
func (p *Portal) Redeem(ctx context.Context, requestID, input, clientIP string) (SignIn, error) {
	now := p.clock()
	code, parseErr := accesscode.Parse(input, p.limits.CodeLength)
	token := newToken()
	var refused *casegate.Error
	var signIn SignIn
	locks := 0
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		refused, locks = nil, 0
		ctx := context.WithValue(ctx, lockCounterKey{}, &locks)
		limited, err := p.admit(ctx, tx, limitRedeemsPerIP, ipKey(clientIP), p.limits.RedeemsPerIP, "code.redeem", clientIP, now)
		if err != nil || limited != nil {
			refused = limited
			return err
		}
		target := "challenge:" + requestID
		details := map[string]string{}
		if parseErr != nil {
			refused = &casegate.Error{Code: casegate.ECodeMalformed, Message: malformedMessage(parseErr, p.limits.CodeLength)}
		} else {
			refused, err = p.attempt(ctx, tx, casegate.PurposeSignIn, 0, requestID, code, now, clientIP, details)
			if err != nil {
				return err
			}
			if refused == nil {
				signIn, err = p.startSession(ctx, tx, requestID, token, now)
				if err != nil {
					return err
				}
				details["party"] = strconv.FormatInt(signIn.PartyID, 10)
			}
		}
		outcome := "ok"
		if refused != nil {
			outcome = string(refused.Code)
		}
		return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
			Actor: "public", Action: "code.redeem", Target: target, Outcome: outcome, Details: details,
		})
	})
	if err != nil {
		return SignIn{}, err
	}
	for range locks {
		p.metrics.PartyLocked()
	}
	if refused != nil {
		p.metrics.CodeRedeemed(string(refused.Code))
		return SignIn{}, refused
	}
	p.metrics.CodeRedeemed("ok")
	return signIn, nil
}

// lockCounterKey carries a counter of the locks a transaction made, counted
// in the metrics only once it commits.
type lockCounterKey struct{}

// malformedMessage explains what is wrong with the shape of a code.
func malformedMessage(err error, length int) string {
	switch {
	case errors.Is(err, accesscode.ErrLength):
		return "The code is too short or too long. Check that you copied all of it."
	case errors.Is(err, accesscode.ErrSymbol):
		return "The code has a character that is never used in codes. Check it against the message."
	default:
		return "This code has a typo. Check each letter and number against the message. This did not count as an attempt."
	}
}

// attempt counts one attempt at a challenge of purpose and compares the code.
// It returns nil when the code is right and this is the call that consumes the
// challenge. owner, when not 0, is the only party whose challenge it may be.
// Wrong sign-in codes count against the party's lockout; wrong confirmation
// codes of a signed-in party only against the challenge.
func (p *Portal) attempt(ctx context.Context, tx casegate.Tx, purpose casegate.Purpose, owner int64, requestID, code string, now time.Time, clientIP string, details map[string]string) (*casegate.Error, error) {
	ch, err := tx.CountAttempt(ctx, requestID)
	if casegate.IsNotFound(err) {
		return errExpired(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("portal: count attempt: %w", err)
	}
	if ch.Purpose != purpose || owner != 0 && ch.PartyID != owner {
		return errExpired(), nil
	}
	if !ch.ConsumedAt.IsZero() {
		return errUsed(), nil
	}
	if ch.Attempts > p.limits.MaxAttempts {
		return errTooManyAttempts(), nil
	}
	if !now.Before(ch.ExpiresAt) {
		return errExpired(), nil
	}
	party, err := p.challengeParty(ctx, tx, ch)
	if err != nil {
		return nil, fmt.Errorf("portal: redeem: %w", err)
	}
	// A locked party's challenge answers exactly like a decoy: no code is
	// right, and only the challenge's attempts count.
	asDecoy := ch.Decoy() || party.Locked(now)                // a decoy's stand-in is never used
	right := p.keys.Verify(ch.KeyID, ch.CodeMAC, ch.ID, code) // a decoy has a code too: compared alike
	if !asDecoy && right {
		won, err := tx.Consume(ctx, ch.ID, now)
		if err != nil {
			return nil, fmt.Errorf("portal: consume: %w", err)
		}
		if !won {
			return errUsed(), nil
		}
		if purpose != casegate.PurposeSignIn {
			return nil, nil
		}
		return nil, p.clearFailures(ctx, tx, party)
	}
	switch {
	case asDecoy && purpose == casegate.PurposeSignIn:
		// The same writes a party's failure makes, so both paths cost alike:
		// a count, and the party (a decoy's stand-in) written back unchanged.
		if _, err := p.hit(ctx, tx, decoyFailures(ch.ID), p.limits.PartyFailures, now); err != nil {
			return nil, err
		}
		if party.ID != 0 {
			if err := tx.UpdateParty(ctx, party); err != nil {
				return nil, fmt.Errorf("portal: redeem: %w", err)
			}
		}
	case purpose == casegate.PurposeSignIn:
		if err := p.countFailure(ctx, tx, party, now, clientIP); err != nil {
			return nil, err
		}
	}
	remaining := p.limits.MaxAttempts - ch.Attempts
	details["attempts"] = strconv.Itoa(ch.Attempts)
	if remaining <= 0 {
		return errTooManyAttempts(), nil
	}
	return &casegate.Error{
		Code:              casegate.ECodeIncorrect,
		Message:           "That code is not right. Check it and try again.",
		AttemptsRemaining: remaining,
	}, nil
}

// challengeParty reads the party of ch for a change: its own, or for a
// decoy a stand-in party picked by the request id, read, locked and later
// written back unchanged the same way, so that a decoy's work is a real
// challenge's. With no parties on file a decoy gets the zero Party.
func (p *Portal) challengeParty(ctx context.Context, tx casegate.Tx, ch casegate.Challenge) (casegate.Party, error) {
	from := ch.PartyID - 1
	if ch.Decoy() {
		n, _ := strconv.ParseUint(ch.ID[:min(8, len(ch.ID))], 16, 32)
		from = int64(n)
	}
	party, err := tx.PartyNear(ctx, from)
	switch {
	case ch.Decoy() && casegate.IsNotFound(err):
		return casegate.Party{}, nil
	case err != nil:
		return casegate.Party{}, err
	case !ch.Decoy() && party.ID != ch.PartyID:
		return casegate.Party{}, fmt.Errorf("party %d of challenge: %w", ch.PartyID, casegate.ErrNotFound)
	}
	return party, nil
}

// countFailure records a wrong code against its party and locks the party when
// it has had too many: for LockBase, doubling each time, or until an operator
// unlocks after MaxConsecutiveFailures. The owner is told through the contact on file.
func (p *Portal) countFailure(ctx context.Context, tx casegate.Tx, party casegate.Party, now time.Time, clientIP string) error {
	res, err := p.hit(ctx, tx, partyFailures(party.ID), p.limits.PartyFailures, now)
	if err != nil {
		return err
	}
	party.ConsecutiveFailures++
	// The count is not reset by a lock: once a lock ends, the next wrong code
	// within the same 24 hours locks again, for twice as long.
	lock := !res.ok || res.remaining == 0
	if party.ConsecutiveFailures >= p.limits.MaxConsecutiveFailures {
		party.LockedIndefinitely, lock = true, true
	} else if lock {
		party.LockedUntil = now.Add(p.limits.LockBase << min(party.LockCount, 16))
		party.LockCount++
	}
	if err := tx.UpdateParty(ctx, party); err != nil {
		return fmt.Errorf("portal: record failure: %w", err)
	}
	if !lock {
		return nil
	}
	if n, ok := ctx.Value(lockCounterKey{}).(*int); ok {
		*n++
	}
	if err := p.queueLockoutNotice(ctx, tx, party, now); err != nil {
		return err
	}
	until := "operator"
	if !party.LockedIndefinitely {
		until = party.LockedUntil.Format(time.RFC3339)
	}
	return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
		Actor: "system", Action: "party.lock", Target: "party:" + strconv.FormatInt(party.ID, 10), Outcome: "locked",
		Details: map[string]string{"until": until, "consecutive_failures": strconv.Itoa(party.ConsecutiveFailures)},
	})
}

// queueLockoutNotice tells the owner, through the contact on file, that sign-in is paused.
func (p *Portal) queueLockoutNotice(ctx context.Context, tx casegate.Tx, party casegate.Party, now time.Time) error {
	ch, ok := p.reachableChannel(party, casegate.ChannelEmail)
	if !ok {
		return nil
	}
	params := map[string]string{}
	if !party.LockedIndefinitely {
		params["locked_until"] = party.LockedUntil.Format(time.RFC3339)
	}
	d := casegate.Delivery{
		PartyID: party.ID, Channel: ch, Destination: party.Contact(ch),
		Template: casegate.TemplateLockoutNotice, Language: Language(party.Language), Params: params,
		Status: casegate.DeliveryPending, NextAttempt: now, CreatedAt: now,
	}
	if _, err := p.enqueue(ctx, tx, &d, party, now); err != nil {
		return fmt.Errorf("portal: queue lockout notice: %w", err)
	}
	p.wake()
	return nil
}

// clearFailures resets a party's failure counts after a sign-in.
func (p *Portal) clearFailures(ctx context.Context, tx casegate.Tx, party casegate.Party) error {
	if party.ConsecutiveFailures == 0 && party.LockCount == 0 {
		return nil
	}
	party.ConsecutiveFailures, party.LockCount = 0, 0
	if err := tx.UpdateParty(ctx, party); err != nil {
		return fmt.Errorf("portal: clear failures: %w", err)
	}
	return p.resetLimit(ctx, tx, partyFailures(party.ID))
}

// newToken returns 256 random bits, base64url.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how tokens are kept: SHA-256 only.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
