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
