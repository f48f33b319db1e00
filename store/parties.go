package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/casegate/casegate"
)

const partyColumns = `p.id, p.given_name, p.family_name, p.dob, p.country, p.a_number, p.email, p.phone,
	p.language, p.locked_until, p.locked_indefinitely, p.lock_count, p.consecutive_failures, p.revision`

func scanParty(row scanner) (casegate.Party, error) {
	var p casegate.Party
	err := row.Scan(partyDests(&p)...)
	return p, err
}

// partyDests are where the columns of partyColumns go, in order.
func partyDests(p *casegate.Party) []any {
	return []any{&p.ID, &p.GivenName, &p.FamilyName, &p.DateOfBirth, &p.CountryOfBirth,
		scanString(&p.ANumber), &p.Email, &p.Phone, &p.Language,
		scanTime(&p.LockedUntil), &p.LockedIndefinitely, &p.LockCount, &p.ConsecutiveFailures, &p.Revision}
}

// Party returns the party with id. Inside Update the row stays locked until
// the transaction ends, so a read-modify-write of the lockout state through
// UpdateParty cannot lose a concurrent one.
func (t *tx) Party(ctx context.Context, id int64) (casegate.Party, error) {
	p, err := scanParty(t.queryRow(ctx, `SELECT `+partyColumns+` FROM parties p WHERE p.id = ?`+t.lock(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Party{}, notFound("party %d", id)
	}
	if err != nil {
		return casegate.Party{}, fmt.Errorf("store: party %d: %w", id, err)
	}
	return p, nil
}

// PartiesByReceipt returns the parties linked to the case with that receipt
// number, by id; none when there is no such case.
func (t *tx) PartiesByReceipt(ctx context.Context, receipt string) ([]casegate.Party, error) {
	parties, err := queryAll(ctx, t, scanParty,
		`SELECT `+partyColumns+` FROM parties p
		 JOIN case_parties l ON l.party_id = p.id
		 JOIN cases c ON c.id = l.case_id
		 WHERE c.receipt = ? ORDER BY p.id`, receipt)
	if err != nil {
		return nil, fmt.Errorf("store: parties by receipt number: %w", err)
	}
	return parties, nil
}

// PartiesByANumber returns every party with that A-Number, by id; none for "".
func (t *tx) PartiesByANumber(ctx context.Context, aNumber string) ([]casegate.Party, error) {
	if aNumber == "" {
		return nil, nil
	}
	parties, err := queryAll(ctx, t, scanParty,
		`SELECT `+partyColumns+` FROM parties p WHERE p.a_number = ? ORDER BY p.id`, aNumber)
	if err != nil {
		return nil, fmt.Errorf("store: parties by A-Number: %w", err)
	}
	return parties, nil
}

// PartyNear returns the party whose id is the first at or after from mod the
// highest id, plus one: for 0 ≤ from < the highest id, the party with id
// from+1 if it exists, and otherwise the next. It locks the row as Party
// does. A decoy reads a party this way, with a from of its own, so that it
// reads and writes a row as a real challenge does.
func (t *tx) PartyNear(ctx context.Context, from int64) (casegate.Party, error) {
	p, err := scanParty(t.queryRow(ctx, `SELECT `+partyColumns+` FROM parties p
		WHERE p.id >= (? % (SELECT max(id) FROM parties)) + 1 ORDER BY p.id LIMIT 1`+t.lock(), from))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.Party{}, notFound("party near %d", from)
	}
	if err != nil {
		return casegate.Party{}, fmt.Errorf("store: party near %d: %w", from, err)
	}
	return p, nil
}

// PartiesNearReceipt returns the parties linked to the case with that
// receipt number, and exact true. When no case has it, it returns those of
// the case whose receipt number comes next (after the last, the first), and
// exact false: a miss reads the same indexes and as many rows as a hit, so
// the time a lookup takes does not tell whether the case exists.
func (t *tx) PartiesNearReceipt(ctx context.Context, receipt string) ([]casegate.Party, bool, error) {
	var found string
	parties, err := queryAll(ctx, t, func(row scanner) (casegate.Party, error) {
		var p casegate.Party
		err := row.Scan(append([]any{&found}, partyDests(&p)...)...)
		return p, err
	}, `SELECT c.receipt, `+partyColumns+` FROM parties p
		 JOIN case_parties l ON l.party_id = p.id
		 JOIN cases c ON c.id = l.case_id
		 WHERE c.id = COALESCE(
			(SELECT id FROM cases WHERE receipt >= ? ORDER BY receipt LIMIT 1),
			(SELECT id FROM cases ORDER BY receipt LIMIT 1))
		 ORDER BY p.id`, receipt)
	if err != nil {
		return nil, false, fmt.Errorf("store: parties near receipt number: %w", err)
	}
	return parties, len(parties) > 0 && found == receipt, nil
}

// PartiesNearANumber returns every party with that A-Number, and exact
// true; when none has it, the parties with the A-Number that comes next
// (after the last, the first), and exact false, for the reason
// PartiesNearReceipt gives.
func (t *tx) PartiesNearANumber(ctx context.Context, aNumber string) ([]casegate.Party, bool, error) {
	parties, err := queryAll(ctx, t, scanParty,
		`SELECT `+partyColumns+` FROM parties p WHERE p.a_number = COALESCE(
			(SELECT a_number FROM parties WHERE a_number >= ? ORDER BY a_number LIMIT 1),
			(SELECT a_number FROM parties WHERE a_number IS NOT NULL ORDER BY a_number LIMIT 1))
		 ORDER BY p.id`, aNumber)
	if err != nil {
		return nil, false, fmt.Errorf("store: parties near A-Number: %w", err)
	}
	return parties, len(parties) > 0 && parties[0].ANumber == aNumber, nil
}

// InsertParty stores a new party and sets p.ID.
func (t *tx) InsertParty(ctx context.Context, p *casegate.Party) error {
	if t.nextPartyID != 0 { // ids are counted in this transaction (NewPartyIDs)
		ids, err := t.NewPartyIDs(ctx, 1)
		if err != nil {
			return fmt.Errorf("store: insert party: %w", err)
		}
		q := *p
		q.ID = ids[0]
		if err := t.InsertParties(ctx, []casegate.Party{q}); err != nil {
			return fmt.Errorf("store: insert party: %w", err)
		}
		p.ID = q.ID
		return nil
	}
	err := t.queryRow(ctx,
		`INSERT INTO parties (given_name, family_name, dob, country, a_number, email, phone,
			language, locked_until, locked_indefinitely, lock_count, consecutive_failures)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.GivenName, p.FamilyName, p.DateOfBirth, p.CountryOfBirth, nullString(p.ANumber), p.Email, p.Phone,
		p.Language, micros(p.LockedUntil), p.LockedIndefinitely, p.LockCount, p.ConsecutiveFailures).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("store: insert party: %w", err)
	}
	return nil
}

// UpdateParty stores every column of the party, lockout state and revision included.
func (t *tx) UpdateParty(ctx context.Context, p casegate.Party) error {
	err := t.execOne(ctx, notFound("party %d", p.ID),
		`UPDATE parties SET given_name = ?, family_name = ?, dob = ?, country = ?, a_number = ?,
			email = ?, phone = ?, language = ?, locked_until = ?, locked_indefinitely = ?,
			lock_count = ?, consecutive_failures = ?, revision = ?
		 WHERE id = ?`,
		p.GivenName, p.FamilyName, p.DateOfBirth, p.CountryOfBirth, nullString(p.ANumber),
		p.Email, p.Phone, p.Language, micros(p.LockedUntil), p.LockedIndefinitely,
		p.LockCount, p.ConsecutiveFailures, p.Revision, p.ID)
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("store: update party %d: %w", p.ID, err)
	}
	return err
}
