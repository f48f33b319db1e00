package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/casegate/casegate"
)

// Completions streams every case whose first terminal event is at or after
// since, with its received date and that event's time.
func (t *tx) Completions(ctx context.Context, since time.Time, terminal []string, fn func(casegate.Completion) error) error {
	if len(terminal) == 0 {
		return nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(terminal)), ", ")
	args := make([]any, 0, len(terminal)+1)
	for _, s := range terminal {
		args = append(args, s)
	}
	args = append(args, micros(since))
	rows, err := t.query(ctx, `
		SELECT c.form_type, c.category, c.office, c.received_on, f.done
		FROM (SELECT case_id, MIN(at) AS done FROM status_events WHERE status IN (`+marks+`) GROUP BY case_id) f
		JOIN cases c ON c.id = f.case_id
		WHERE f.done >= ?`, args...)
	if err != nil {
		return fmt.Errorf("store: completions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c casegate.Completion
		if err := rows.Scan(&c.FormType, &c.Category, &c.Office, scanDate(&c.ReceivedOn), scanTime(&c.CompletedAt)); err != nil {
			return fmt.Errorf("store: completions: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: completions: %w", err)
	}
	return nil
}

// ReplaceProcessingTimes swaps the whole table for pts. Replacements take
// turns, so one that overlaps another (two instances recomputing) deletes the
// rows the other inserted instead of colliding with them.
func (t *tx) ReplaceProcessingTimes(ctx context.Context, pts []casegate.ProcessingTime) error {
	if err := t.takeTurns(ctx, "processing_times"); err != nil {
		return fmt.Errorf("store: replace processing times: %w", err)
	}
	if _, err := t.exec(ctx, `DELETE FROM processing_times`); err != nil {
		return fmt.Errorf("store: replace processing times: %w", err)
	}
	for _, p := range pts {
		_, err := t.exec(ctx, `INSERT INTO processing_times (form_type, category, office, median_days, p80_days, cases, computed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, p.FormType, p.Category, p.Office, p.MedianDays, p.P80Days, p.Cases, micros(p.ComputedAt))
		if err != nil {
			return fmt.Errorf("store: replace processing times: %w", err)
		}
	}
	return nil
}

// ProcessingTimes returns every row, ordered by form, category and office.
func (t *tx) ProcessingTimes(ctx context.Context) ([]casegate.ProcessingTime, error) {
	pts, err := queryAll(ctx, t, func(row scanner) (casegate.ProcessingTime, error) {
		var p casegate.ProcessingTime
		err := row.Scan(&p.FormType, &p.Category, &p.Office, &p.MedianDays, &p.P80Days, &p.Cases, scanTime(&p.ComputedAt))
		return p, err
	}, `SELECT form_type, category, office, median_days, p80_days, cases, computed_at
		FROM processing_times ORDER BY form_type, category, office`)
	if err != nil {
		return nil, fmt.Errorf("store: processing times: %w", err)
	}
	return pts, nil
}

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

// CountDeliveries counts the outbox rows in status.
func (t *tx) CountDeliveries(ctx context.Context, status casegate.DeliveryStatus) (int, error) {
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = ?`, string(status)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count deliveries: %w", err)
	}
	return n, nil
}
