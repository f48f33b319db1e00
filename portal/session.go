package portal

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/casegate/casegate"
)

// touchEvery is how stale a session's last-seen time may get before a request
// writes it again; far below the idle timeout, it saves a write per request.
const touchEvery = time.Minute

// startSession creates the session for a consumed challenge.
func (p *Portal) startSession(ctx context.Context, tx casegate.Tx, requestID, token string, now time.Time) (SignIn, error) {
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
	return casegate.Errorf(casegate.EUnauthenticated, "Please sign in.")
}

// Authenticate returns the live session for token, keeping it alive.
func (p *Portal) Authenticate(ctx context.Context, token string) (casegate.Session, error) {
	if token == "" {
		return casegate.Session{}, errUnauthenticated()
	}
	now := p.clock()
	hash := hashToken(token)
	if s, ok := p.reads.session(hash, now); ok && now.Before(s.ExpiresAt) &&
		now.Sub(s.LastSeenAt) < p.limits.SessionIdle && now.Sub(s.LastSeenAt) < touchEvery {
		return s, nil
	}
	var s casegate.Session
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		s, err = tx.Session(ctx, hash)
		return err
	})
	if casegate.IsNotFound(err) {
		return casegate.Session{}, errUnauthenticated()
	}
	if err != nil {
		return casegate.Session{}, fmt.Errorf("portal: authenticate: %w", err)
	}
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= p.limits.SessionIdle {
		return casegate.Session{}, errUnauthenticated()
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		err := p.store.Update(ctx, func(tx casegate.Tx) error { return tx.TouchSession(ctx, hash, now) })
		if err != nil {
			return casegate.Session{}, fmt.Errorf("portal: touch session: %w", err)
		}
		s.LastSeenAt = now
	}
	p.reads.putSession(s, now)
	return s, nil
}

// SignOut ends the session of token.
func (p *Portal) SignOut(ctx context.Context, s casegate.Session, clientIP string) error {
	now := p.clock()
	defer p.reads.forgetSessions(s.PartyID, s.TokenHash)
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
	defer p.reads.forgetSessions(s.PartyID, nil)
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
