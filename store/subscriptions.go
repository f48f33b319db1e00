package store

import (
	"context"
	"fmt"

	"github.com/casegate/casegate"
)

// SetSubscription stores s, or removes it when it names no channel.
func (t *tx) SetSubscription(ctx context.Context, s casegate.Subscription) error {
	var err error
	if !s.Email && !s.SMS {
		_, err = t.exec(ctx, `DELETE FROM subscriptions WHERE party_id = ? AND case_id = ?`, s.PartyID, s.CaseID)
	} else {
		_, err = t.exec(ctx, `INSERT INTO subscriptions (party_id, case_id, email, sms) VALUES (?, ?, ?, ?)
			ON CONFLICT (party_id, case_id) DO UPDATE SET email = excluded.email, sms = excluded.sms`,
			s.PartyID, s.CaseID, s.Email, s.SMS)
	}
	if err != nil {
		return fmt.Errorf("store: set subscription: %w", err)
	}
	return nil
}

func scanSubscription(row scanner) (casegate.Subscription, error) {
	var s casegate.Subscription
	err := row.Scan(&s.PartyID, &s.CaseID, &s.Email, &s.SMS)
	return s, err
}

// Subscription returns the party's subscription to the case, or the zero value.
func (t *tx) Subscription(ctx context.Context, partyID, caseID int64) (casegate.Subscription, error) {
	subs, err := queryAll(ctx, t, scanSubscription,
		`SELECT party_id, case_id, email, sms FROM subscriptions WHERE party_id = ? AND case_id = ?`, partyID, caseID)
	if err != nil {
		return casegate.Subscription{}, fmt.Errorf("store: subscription: %w", err)
	}
	if len(subs) == 0 {
		return casegate.Subscription{PartyID: partyID, CaseID: caseID}, nil
	}
	return subs[0], nil
}

// Subscriptions returns the subscriptions to a case, ordered by party.
func (t *tx) Subscriptions(ctx context.Context, caseID int64) ([]casegate.Subscription, error) {
	subs, err := queryAll(ctx, t, scanSubscription,
		`SELECT party_id, case_id, email, sms FROM subscriptions WHERE case_id = ? ORDER BY party_id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions: %w", err)
	}
	return subs, nil
}
