package portal

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/casegate/casegate"
)

// sessionStart is what starting a session touches: the challenge it
// consumes and the session it stores.
type sessionStart interface {
	casegate.Challenges
	casegate.Sessions
}

// startSession creates the session for a consumed challenge.
func (p *Portal) startSession(ctx context.Context, tx sessionStart, requestID, token string, now time.Time) (SignIn, error) {
	ch, err := tx.Challenge(ctx, requestID)
	if err != nil {
		return SignIn{}, fmt.Errorf("portal: session: %w", err)
	}
	s := casegate.Session{
		TokenHash:  hashToken(token),
		PartyID:    ch.PartyID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(p.limits.SessionAbsolute),
	}
	if err := tx.InsertSession(ctx, s); err != nil {
		return SignIn{}, fmt.Errorf("portal: session: %w", err)
	}
	return SignIn{Token: token, ExpiresAt: s.ExpiresAt, PartyID: ch.PartyID}, nil
}

// errUnauthenticated is the one answer for a missing, unknown or ended session.
func errUnauthenticated() *casegate.Error {
	return casegate.NewError(casegate.EUnauthenticated, "session.sign_in")
}

// Authenticate returns the live session for token, keeping it alive.
//
// The session is read from the store every time, never from the read
// cache, so that a sign-out on any instance ends it here at once. The idle
// limit is judged on the latest use, exactly: the latest this instance has
// seen (kept in p.seen until written, see lastSeen) or the one in the
// store, written by any instance every lastSeenEvery.
func (p *Portal) Authenticate(ctx context.Context, token string) (casegate.Session, error) {
	if token == "" {
		return casegate.Session{}, errUnauthenticated()
	}
	now := p.clock()
	hash := hashToken(token)
	here := p.seen.latest(hash) // before the store: see lastSeen
	s, err := p.store.Session(ctx, hash)
	if casegate.IsNotFound(err) {
		return casegate.Session{}, errUnauthenticated()
	}
	if err != nil {
		return casegate.Session{}, fmt.Errorf("portal: authenticate: %w", err)
	}
	if !p.live(s, here, now) {
		return casegate.Session{}, errUnauthenticated()
	}
	p.seen.record(s, now)
	s.LastSeenAt = now
	return s, nil
}

// live reports whether s, last used on this instance at here, may be used at now.
func (p *Portal) live(s casegate.Session, here, now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Sub(latest(s.LastSeenAt, here)) < p.limits.SessionIdle
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// SignOut ends the session of token.
func (p *Portal) SignOut(ctx context.Context, s casegate.Session, clientIP string) error {
	now := p.clock()
	defer p.seen.forget(s.PartyID, s.TokenHash)
	return p.store.Update(ctx, func(tx casegate.Tx) error {
		if err := tx.DeleteSession(ctx, s.TokenHash); err != nil {
			return fmt.Errorf("portal: sign out: %w", err)
		}
		return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
			Actor: partyActor(s.PartyID), Action: "session.end", Target: partyActor(s.PartyID), Outcome: "ok",
		})
	})
}

// SignOutEverywhere ends every session of the session's party.
func (p *Portal) SignOutEverywhere(ctx context.Context, s casegate.Session, clientIP string) error {
	now := p.clock()
	defer p.seen.forget(s.PartyID, nil)
	return p.store.Update(ctx, func(tx casegate.Tx) error {
		if err := tx.DeleteSessionsOf(ctx, s.PartyID); err != nil {
			return fmt.Errorf("portal: sign out everywhere: %w", err)
		}
		return p.audit(ctx, tx, now, clientIP, casegate.AuditEvent{
			Actor: partyActor(s.PartyID), Action: "session.end_all", Target: partyActor(s.PartyID), Outcome: "ok",
		})
	})
}

func partyActor(id int64) string { return "party:" + strconv.FormatInt(id, 10) }
