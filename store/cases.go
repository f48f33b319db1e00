package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/casegate/casegate"
)

const caseColumns = `id, receipt, form_type, category, office, received_on`

func scanCase(row scanner) (casegate.Case, error) {
	var c casegate.Case
	err := row.Scan(&c.ID, &c.ReceiptNumber, &c.FormType, &c.Category, &c.Office, scanDate(&c.ReceivedOn))
	return c, err
}

const eventColumns = `id, case_id, status, title, at`

func scanEvent(row scanner) (casegate.StatusEvent, error) {
	var e casegate.StatusEvent
	err := row.Scan(&e.ID, &e.CaseID, &e.Status, &e.Title, scanTime(&e.At))
	return e, err
}

// CaseByReceipt returns the case with its history, newest first.
func (t *tx) CaseByReceipt(ctx context.Context, receipt string) (casegate.Case, error) {
	c, err := scanCase(t.queryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE receipt = ?`, receipt))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Case{}, notFound("case by receipt number")
	}
	if err != nil {
		return casegate.Case{}, fmt.Errorf("store: case by receipt number: %w", err)
	}
	c.History, err = queryAll(ctx, t, scanEvent,
		`SELECT `+eventColumns+` FROM status_events WHERE case_id = ? ORDER BY at DESC, id DESC`, c.ID)
	if err != nil {
		return casegate.Case{}, fmt.Errorf("store: case %d: history: %w", c.ID, err)
	}
	return c, nil
}

// InsertCase stores a new case and sets c.ID. Its History is not stored; add
// events with AddStatusEvent.
func (t *tx) InsertCase(ctx context.Context, c *casegate.Case) error {
	err := t.queryRow(ctx,
		`INSERT INTO cases (receipt, form_type, category, office, received_on) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		c.ReceiptNumber, c.FormType, c.Category, c.Office, date(c.ReceivedOn)).Scan(&c.ID)
	if t.d.isUniqueViolation(err) {
		return conflict("A case with this receipt number already exists.")
	}
	if err != nil {
		return fmt.Errorf("store: insert case: %w", err)
	}
	return nil
}

// UpdateCase stores the case's form type, category, office and received date.
func (t *tx) UpdateCase(ctx context.Context, c casegate.Case) error {
	err := t.execOne(ctx, notFound("case %d", c.ID),
		`UPDATE cases SET form_type = ?, category = ?, office = ?, received_on = ? WHERE id = ?`,
		c.FormType, c.Category, c.Office, date(c.ReceivedOn), c.ID)
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("store: update case %d: %w", c.ID, err)
	}
	return err
}

// AddStatusEvent stores e and sets e.ID. An event of the case with e's
// idempotency key, or else equal in status, title and time to e, is not
// added again: added is false and e becomes the stored event, so a caller
// can tell a retry (the same event) from a key used for another event.
func (t *tx) AddStatusEvent(ctx context.Context, e *casegate.StatusEvent) (added bool, err error) {
	// Either unique constraint may refuse the row, (case, key) when another
	// transaction took the key first: DO NOTHING without a target covers both.
	err = t.queryRow(ctx,
		`INSERT INTO status_events (case_id, status, title, at, idempotency_key) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT DO NOTHING RETURNING id`,
		e.CaseID, e.Status, e.Title, micros(e.At), nullString(e.IdempotencyKey)).Scan(&e.ID)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("store: add status event to case %d: %w", e.CaseID, err)
	}
	const cols = `SELECT id, case_id, status, title, at, COALESCE(idempotency_key, '') FROM status_events `
	scan := func(row *sql.Row) error {
		return row.Scan(&e.ID, &e.CaseID, &e.Status, &e.Title, scanTime(&e.At), &e.IdempotencyKey)
	}
	if e.IdempotencyKey != "" {
		err = scan(t.queryRow(ctx, cols+`WHERE case_id = ? AND idempotency_key = ?`, e.CaseID, e.IdempotencyKey))
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("store: add status event to case %d: %w", e.CaseID, err)
		}
	}
	err = scan(t.queryRow(ctx, cols+`WHERE case_id = ? AND status = ? AND title = ? AND at = ?`,
		e.CaseID, e.Status, e.Title, micros(e.At)))
	if err != nil {
		return false, fmt.Errorf("store: add status event to case %d: %w", e.CaseID, err)
	}
	return false, nil
}

// CasesForParty returns the cases linked to the party, ordered by receipt
// number, each with its history newest first.
func (t *tx) CasesForParty(ctx context.Context, partyID int64) ([]casegate.Case, error) {
	cases, err := queryAll(ctx, t, scanCase,
		`SELECT c.id, c.receipt, c.form_type, c.category, c.office, c.received_on
		 FROM cases c JOIN case_parties l ON l.case_id = c.id
		 WHERE l.party_id = ? ORDER BY c.receipt`, partyID)
	if err != nil {
		return nil, fmt.Errorf("store: cases of party %d: %w", partyID, err)
	}
	events, err := queryAll(ctx, t, scanEvent,
		`SELECT e.id, e.case_id, e.status, e.title, e.at
		 FROM status_events e JOIN case_parties l ON l.case_id = e.case_id
		 WHERE l.party_id = ? ORDER BY e.at DESC, e.id DESC`, partyID)
	if err != nil {
		return nil, fmt.Errorf("store: cases of party %d: history: %w", partyID, err)
	}
	index := make(map[int64]int, len(cases))
	for i, c := range cases {
		index[c.ID] = i
	}
	for _, e := range events {
		c := &cases[index[e.CaseID]]
		c.History = append(c.History, e)
	}
	return cases, nil
}

// CaseLinks returns the parties linked to a case with their roles, by party id.
func (t *tx) CaseLinks(ctx context.Context, caseID int64) ([]casegate.CaseLink, error) {
	links, err := queryAll(ctx, t, scanLink,
		`SELECT case_id, party_id, role FROM case_parties WHERE case_id = ? ORDER BY party_id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: links of case %d: %w", caseID, err)
	}
	return links, nil
}

func scanLink(row scanner) (casegate.CaseLink, error) {
	var l casegate.CaseLink
	err := row.Scan(&l.CaseID, &l.PartyID, &l.Role)
	return l, err
}

// LinkParty links a party to a case, or changes the role of an existing link.
func (t *tx) LinkParty(ctx context.Context, link casegate.CaseLink) error {
	_, err := t.exec(ctx,
		`INSERT INTO case_parties (case_id, party_id, role) VALUES (?, ?, ?)
		 ON CONFLICT (case_id, party_id) DO UPDATE SET role = excluded.role`,
		link.CaseID, link.PartyID, link.Role)
	if err != nil {
		return fmt.Errorf("store: link party %d to case %d: %w", link.PartyID, link.CaseID, err)
	}
	return nil
}
