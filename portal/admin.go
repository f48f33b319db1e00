package portal

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate"
)

// adminTokenPrefix makes admin tokens recognisable in a secret scanner.
const adminTokenPrefix = "cgadm_"

// CreateAdminToken stores a new named operator token and returns it; it is
// shown once, and only its hash is kept.
func (p *Portal) CreateAdminToken(ctx context.Context, name, actor string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", casegate.FieldError("name", "admin.token_name")
	}
	token := adminTokenPrefix + newToken()
	now := p.clock()
	err := p.store.Update(ctx, func(tx casegate.Tx) error {
		t := casegate.AdminToken{Name: name, TokenHash: hashToken(token), CreatedAt: now}
		if err := tx.InsertAdminToken(ctx, &t); err != nil {
			return fmt.Errorf("portal: create admin token: %w", err)
		}
		return p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: actor, Action: "admin_token.create", Target: "admin_token:" + strconv.FormatInt(t.ID, 10), Outcome: "ok",
			Details: map[string]string{"name": name},
		})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// AdminTokens lists the operator tokens (hashes only).
func (p *Portal) AdminTokens(ctx context.Context) ([]casegate.AdminToken, error) {
	var ts []casegate.AdminToken
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		ts, err = tx.AdminTokens(ctx)
		return err
	})
	return ts, err
}

// RevokeAdminToken revokes the token with that name or id.
func (p *Portal) RevokeAdminToken(ctx context.Context, nameOrID, actor string) error {
	now := p.clock()
	return p.store.Update(ctx, func(tx casegate.Tx) error {
		ts, err := tx.AdminTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Name == nameOrID || strconv.FormatInt(t.ID, 10) == nameOrID {
				if err := tx.RevokeAdminToken(ctx, t.ID, now); err != nil {
					return fmt.Errorf("portal: revoke admin token: %w", err)
				}
				return p.audit(ctx, tx, now, "", casegate.AuditEvent{
					Actor: actor, Action: "admin_token.revoke", Target: "admin_token:" + strconv.FormatInt(t.ID, 10), Outcome: "ok",
				})
			}
		}
		return casegate.NewError(casegate.ENotFound, "admin.no_token", "Name", nameOrID)
	})
}

// AuthenticateAdmin returns the live admin token for token.
func (p *Portal) AuthenticateAdmin(ctx context.Context, token string) (casegate.AdminToken, error) {
	if !strings.HasPrefix(token, adminTokenPrefix) {
		return casegate.AdminToken{}, errUnauthenticated()
	}
	var t casegate.AdminToken
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		t, err = tx.AdminTokenByHash(ctx, hashToken(token))
		return err
	})
	if casegate.IsNotFound(err) || err == nil && t.Revoked() {
		return casegate.AdminToken{}, errUnauthenticated()
	}
	if err != nil {
		return casegate.AdminToken{}, fmt.Errorf("portal: authenticate admin: %w", err)
	}
	return t, nil
}

// UnlockParty lifts a party's lock and clears its failure counts.
func (p *Portal) UnlockParty(ctx context.Context, partyID int64, actor string) error {
	now := p.clock()
	return p.store.Update(ctx, func(tx casegate.Tx) error {
		party, err := tx.Party(ctx, partyID)
		if casegate.IsNotFound(err) {
			return casegate.NewError(casegate.ENotFound, "admin.no_party", "ID", partyID)
		}
		if err != nil {
			return fmt.Errorf("portal: unlock: %w", err)
		}
		party.LockedUntil, party.LockedIndefinitely = time.Time{}, false
		party.LockCount, party.ConsecutiveFailures = 0, 0
		if err := tx.UpdateParty(ctx, party); err != nil {
			return fmt.Errorf("portal: unlock: %w", err)
		}
		if err := p.resetLimit(ctx, tx, partyFailures(partyID)); err != nil {
			return err
		}
		return p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: actor, Action: "party.unlock", Target: partyActor(partyID), Outcome: "ok",
		})
	})
}

// AuditEvents returns up to limit events after seq.
func (p *Portal) AuditEvents(ctx context.Context, after int64, limit int) ([]casegate.AuditEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var es []casegate.AuditEvent
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		es, err = tx.AuditEvents(ctx, after, limit)
		return err
	})
	return es, err
}

// Deliveries lists outbox rows in a status, newest first, for operators.
func (p *Portal) Deliveries(ctx context.Context, status casegate.DeliveryStatus, limit int) ([]casegate.Delivery, error) {
	switch status {
	case casegate.DeliveryPending, casegate.DeliverySent, casegate.DeliveryFailed, casegate.DeliveryCancelled:
	default:
		return nil, casegate.FieldError("status", "admin.delivery_status")
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var ds []casegate.Delivery
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		ds, err = tx.Deliveries(ctx, status, limit)
		return err
	})
	return ds, err
}

// MaskContact masks an email address or phone number for operators' eyes.
func MaskContact(ch casegate.Channel, dest string) string {
	if ch == casegate.ChannelEmail {
		return MaskEmail(dest)
	}
	return MaskPhone(dest)
}
