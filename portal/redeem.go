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

// verdict is what one transaction that checks a code decided. The
// transaction commits whatever the verdict says: a refused code is an
// answer, not a failure, and the attempt it used, the party's failure and
// any lock stay counted. So a use case keeps the refusal beside the
// transaction's error, returns the error from the transaction (rolling
// back) only when something broke, and gives the refusal to its caller
// once committed; settle does what waits for the commit.
type verdict struct {
	refused *casegate.Error // the answer when the code was not taken; nil when it was
	locked  bool            // this entry locked the party
	queued  bool            // a message waits in the outbox for the worker
}

// settle follows the commit of a transaction that reached v: the lock is
// counted and the worker woken only now, when what they concern is there
// for everyone to see, and never for a transaction rolled back.
func (p *Portal) settle(v verdict) {
	if v.locked {
		p.metrics.PartyLocked()
	}
	if v.queued {
		p.wake()
	}
}

// redemption is what a committed redeem did: its verdict, and the sign-in
// when the code was taken.
type redemption struct {
	verdict
	signIn SignIn
}

// Redeem exchanges a request id and code for a session. A malformed code uses
// no attempt. Otherwise the attempt is counted before the code is compared, and
// of any number of concurrent correct submissions exactly one wins.
func (p *Portal) Redeem(ctx context.Context, requestID, input, clientIP string) (SignIn, error) {
	now := p.clock()
	code, parseErr := accesscode.Parse(input, p.limits.CodeLength)
	token := newToken()
	var r redemption
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		var err error
		r, err = p.redeem(ctx, tx, requestID, code, parseErr, token, now, clientIP)
		return err
	})
	if err != nil {
		return SignIn{}, err
	}
	p.settle(r.verdict)
	if r.refused != nil {
		p.metrics.CodeRedeemed(string(r.refused.Code))
		return SignIn{}, r.refused
	}
	p.metrics.CodeRedeemed("ok")
	return r.signIn, nil
}

// redeem is Redeem's transaction: the per-IP limit, the attempt, the
// session when the code is right, and the audit event. An error means the
// transaction must roll back; a refusal is in the redemption.
func (p *Portal) redeem(ctx context.Context, tx casegate.Tx, requestID, code string, parseErr error, token string, now time.Time, clientIP string) (redemption, error) {
	limited, err := p.admit(ctx, tx, limitRedeemsPerIP, ipKey(clientIP), p.limits.RedeemsPerIP, "code.redeem", clientIP, now)
	if err != nil || limited != nil {
		return redemption{verdict: verdict{refused: limited}}, err
	}
	var r redemption
	details := map[string]string{}
	if parseErr != nil {
		r.refused = &casegate.Error{Code: casegate.ECodeMalformed, Msg: malformedMessage(parseErr, p.limits.CodeLength)}
	} else {
		if r.verdict, err = p.attempt(ctx, tx, casegate.PurposeSignIn, 0, requestID, code, now, clientIP, details); err != nil {
			return redemption{}, err
		}
		if r.refused == nil {
			if r.signIn, err = p.startSession(ctx, tx, requestID, token, now); err != nil {
				return redemption{}, err
			}
			details["party"] = strconv.FormatInt(r.signIn.PartyID, 10)
		}
	}
	outcome := "ok"
	if r.refused != nil {
		outcome = string(r.refused.Code)
	}
	err = p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
		Actor: "public", Action: "code.redeem", Target: "challenge:" + requestID, Outcome: outcome, Details: details,
	})
	return r, err
}

// malformedMessage explains what is wrong with the shape of a code.
func malformedMessage(err error, length int) casegate.Msg {
	switch {
	case errors.Is(err, accesscode.ErrLength):
		return casegate.M("code.length")
	case errors.Is(err, accesscode.ErrSymbol):
		return casegate.M("code.symbol")
	default:
		return casegate.M("code.typo")
	}
}

// attempt counts one attempt at a challenge of purpose and compares the code.
// Its verdict refuses nothing when the code is right and this is the call
// that consumes the challenge. owner, when not 0, is the only party whose challenge it may be.
// Wrong sign-in codes count against the party's lockout; wrong confirmation
// codes of a signed-in party only against the challenge.
func (p *Portal) attempt(ctx context.Context, tx casegate.Tx, purpose casegate.Purpose, owner int64, requestID, code string, now time.Time, clientIP string, details map[string]string) (verdict, error) {
	refuse := func(e *casegate.Error) (verdict, error) { return verdict{refused: e}, nil }
	ch, err := tx.CountAttempt(ctx, requestID)
	if casegate.IsNotFound(err) {
		return refuse(errExpired())
	}
	if err != nil {
		return verdict{}, fmt.Errorf("portal: count attempt: %w", err)
	}
	if ch.Purpose != purpose || owner != 0 && ch.PartyID != owner {
		return refuse(errExpired())
	}
	if !ch.ConsumedAt.IsZero() {
		return refuse(errUsed())
	}
	if ch.Attempts > p.limits.MaxAttempts {
		return refuse(errTooManyAttempts())
	}
	if !now.Before(ch.ExpiresAt) {
		return refuse(errExpired())
	}
	party, err := p.challengeParty(ctx, tx, ch)
	if err != nil {
		return verdict{}, fmt.Errorf("portal: redeem: %w", err)
	}
	// A locked party's challenge answers exactly like a decoy: no code is
	// right, and only the challenge's attempts count.
	asDecoy := ch.Decoy() || party.Locked(now)                // a decoy's stand-in is never used
	right := p.keys.Verify(ch.KeyID, ch.CodeMAC, ch.ID, code) // a decoy has a code too: compared alike
	if !asDecoy && right {
		won, err := tx.Consume(ctx, ch.ID, now)
		if err != nil {
			return verdict{}, fmt.Errorf("portal: consume: %w", err)
		}
		if !won {
			return refuse(errUsed())
		}
		if purpose != casegate.PurposeSignIn {
			return verdict{}, nil
		}
		return verdict{}, p.signedIn(ctx, tx, party, ch.Language)
	}
	var v verdict
	switch {
	case asDecoy && purpose == casegate.PurposeSignIn:
		// The same writes a party's failure makes, so both paths cost alike:
		// a count, and the party (a decoy's stand-in) written back unchanged.
		if _, err := p.hit(ctx, tx, decoyFailures(ch.ID), p.limits.PartyFailures, now); err != nil {
			return verdict{}, err
		}
		if party.ID != 0 {
			if err := tx.UpdateParty(ctx, party); err != nil {
				return verdict{}, fmt.Errorf("portal: redeem: %w", err)
			}
		}
	case purpose == casegate.PurposeSignIn:
		if v, err = p.countFailure(ctx, tx, party, now, clientIP); err != nil {
			return verdict{}, err
		}
	}
	remaining := p.limits.MaxAttempts - ch.Attempts
	details["attempts"] = strconv.Itoa(ch.Attempts)
	if remaining <= 0 {
		v.refused = errTooManyAttempts()
		return v, nil
	}
	v.refused = &casegate.Error{
		Code:              casegate.ECodeIncorrect,
		Msg:               casegate.M("code.incorrect"),
		AttemptsRemaining: remaining,
	}
	return v, nil
}

// challengeParty reads the party of ch for a change: its own, or for a
// decoy a stand-in party picked by the request id, read, locked and later
// written back unchanged the same way, so that a decoy's work is a real
// challenge's. With no parties on file a decoy gets the zero Party.
func (p *Portal) challengeParty(ctx context.Context, tx casegate.Parties, ch casegate.Challenge) (casegate.Party, error) {
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
// unlocks after MaxConsecutiveFailures. The owner is told through the
// contact on file. The verdict says whether it locked and queued a notice;
// it refuses nothing (the caller says what the wrong code answers).
func (p *Portal) countFailure(ctx context.Context, tx casegate.Tx, party casegate.Party, now time.Time, clientIP string) (verdict, error) {
	res, err := p.hit(ctx, tx, partyFailures(party.ID), p.limits.PartyFailures, now)
	if err != nil {
		return verdict{}, err
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
		return verdict{}, fmt.Errorf("portal: record failure: %w", err)
	}
	if !lock {
		return verdict{}, nil
	}
	queued, err := p.queueLockoutNotice(ctx, tx, party, now)
	if err != nil {
		return verdict{}, err
	}
	until := "operator"
	if !party.LockedIndefinitely {
		until = party.LockedUntil.Format(time.RFC3339)
	}
	return verdict{locked: true, queued: queued}, p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
		Actor: "system", Action: "party.lock", Target: "party:" + strconv.FormatInt(party.ID, 10), Outcome: "locked",
		Details: map[string]string{"until": until, "consecutive_failures": strconv.Itoa(party.ConsecutiveFailures)},
	})
}

// queueLockoutNotice tells the owner, through the contact on file, that
// sign-in is paused. It reports whether a notice was queued; the worker is
// woken by whoever commits the transaction (settle), since before the
// commit it would find nothing.
func (p *Portal) queueLockoutNotice(ctx context.Context, tx casegate.Tx, party casegate.Party, now time.Time) (bool, error) {
	ch, ok := p.reachableChannel(party, casegate.ChannelEmail)
	if !ok {
		return false, nil
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
	queued, err := p.enqueue(ctx, tx, &d, party, now)
	if err != nil {
		return false, fmt.Errorf("portal: queue lockout notice: %w", err)
	}
	return queued, nil
}

// signedIn records a sign-in on the party: its failures are cleared, and
// the language the code was asked for in becomes its language on file, the
// one notices it did not cause speak (docs/decisions.md, "Which language a
// message speaks").
func (p *Portal) signedIn(ctx context.Context, tx casegate.Tx, party casegate.Party, lang string) error {
	failed := party.ConsecutiveFailures != 0 || party.LockCount != 0
	relang := lang != "" && party.Language != lang
	if !failed && !relang {
		return nil
	}
	party.ConsecutiveFailures, party.LockCount = 0, 0
	if relang {
		party.Language = lang
		party.Revision++ // the dashboard shows the language
	}
	if err := tx.UpdateParty(ctx, party); err != nil {
		return fmt.Errorf("portal: signed in: %w", err)
	}
	if !failed {
		return nil
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
