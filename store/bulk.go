package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/casegate/casegate"
)

// This file holds the writes of a bulk import: many rows per statement.
// Written one statement per row, a case took about ten statements, each a
// round through database/sql and the driver (arguments, locks, a Rows to
// close); profiles of a large import showed 38 % of its CPU under them.

// bulkRows is the most rows one statement carries. Statements are built for
// row counts that are powers of two up to bulkRows, so a query has a handful
// of texts to prepare (and cache), not one per batch size. 128 rows of the
// widest query here stay far below the parameter limits of both databases
// (32766 in SQLite, 65535 in PostgreSQL).
const bulkRows = 128

// inChunks calls fn for consecutive pieces [lo, hi) of n rows, each a power
// of two long, the longest first.
func inChunks(n int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		k := bulkRows
		for k > n-lo {
			k /= 2
		}
		if err := fn(lo, lo+k); err != nil {
			return err
		}
		lo += k
	}
	return nil
}

// bulkTexts caches the queries built by bulkQuery.
var bulkTexts sync.Map // bulkKey → string

type bulkKey struct {
	head string
	rows int
}

// bulkQuery returns head, then rows groups of marks ("(?, ?, ?)", or "?" for
// an IN list) separated by commas, then tail.
func bulkQuery(head, marks, tail string, rows int) string {
	k := bulkKey{head + marks + tail, rows}
	if q, ok := bulkTexts.Load(k); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(head) + rows*(len(marks)+2) + len(tail))
	b.WriteString(head)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(marks)
	}
	b.WriteString(tail)
	q := b.String()
	bulkTexts.Store(k, q)
	return q
}

// CaseIDs returns the ids of the cases on file among receipts, by receipt
// number; receipts not on file are absent from the map.
func (t *tx) CaseIDs(ctx context.Context, receipts []string) (map[string]int64, error) {
	out := make(map[string]int64, len(receipts))
	args := make([]any, 0, min(len(receipts), bulkRows))
	err := inChunks(len(receipts), func(lo, hi int) error {
		args = args[:0]
		for _, r := range receipts[lo:hi] {
			args = append(args, r)
		}
		rows, err := t.query(ctx, bulkQuery(`SELECT id, receipt FROM cases WHERE receipt IN (`, "?", `)`, hi-lo), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var r string
			if err := rows.Scan(&id, &r); err != nil {
				return err
			}
			out[r] = id
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: case ids: %w", err)
	}
	return out, nil
}

// InsertCases stores new cases and sets their IDs; their History is not
// stored. A receipt number already on file, or given twice, is a conflict.
func (t *tx) InsertCases(ctx context.Context, cs []casegate.Case) error {
	index := make(map[string]int, len(cs))
	for i := range cs {
		if _, dup := index[cs[i].ReceiptNumber]; dup {
			return conflict("A case with this receipt number already exists.")
		}
		index[cs[i].ReceiptNumber] = i
	}
	args := make([]any, 0, 5*min(len(cs), bulkRows))
	err := inChunks(len(cs), func(lo, hi int) error {
		args = args[:0]
		for _, c := range cs[lo:hi] {
			args = append(args, c.ReceiptNumber, c.FormType, c.Category, c.Office, date(c.ReceivedOn))
		}
		rows, err := t.query(ctx, bulkQuery(t.d.insertFail+` INTO cases (receipt, form_type, category, office, received_on) VALUES `,
			"(?, ?, ?, ?, ?)", ` RETURNING id, receipt`, hi-lo), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var id int64
			var r string
			if err := rows.Scan(&id, &r); err != nil {
				return err
			}
			i, ok := index[r]
			if !ok {
				return fmt.Errorf("returned receipt %q was not inserted", r)
			}
			cs[i].ID = id
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if n != hi-lo {
			return fmt.Errorf("%d of %d rows inserted", n, hi-lo)
		}
		return nil
	})
	if t.d.isUniqueViolation(err) {
		return conflict("A case with this receipt number already exists.")
	}
	if err != nil {
		return fmt.Errorf("store: insert cases: %w", err)
	}
	return nil
}

// AddStatusEvents stores events without setting their IDs. An event equal
// in case, status, title and time to a stored one, or to an earlier one of
// es, is left out, as AddStatusEvent does.
func (t *tx) AddStatusEvents(ctx context.Context, es []casegate.StatusEvent) error {
	args := make([]any, 0, 4*min(len(es), bulkRows))
	err := inChunks(len(es), func(lo, hi int) error {
		args = args[:0]
		for _, e := range es[lo:hi] {
			args = append(args, e.CaseID, e.Status, e.Title, micros(e.At))
		}
		_, err := t.exec(ctx, bulkQuery(`INSERT INTO status_events (case_id, status, title, at) VALUES `,
			"(?, ?, ?, ?)", ` ON CONFLICT (case_id, status, title, at) DO NOTHING`, hi-lo), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: add status events: %w", err)
	}
	return nil
}

// LinkParties links parties to cases, or changes the role of a link that
// exists, as LinkParty does for each in turn: when links names a case and
// party twice, the later role is the one stored.
func (t *tx) LinkParties(ctx context.Context, links []casegate.CaseLink) error {
	// PostgreSQL refuses to update a row twice in one statement: keep the
	// last link of each pair, in the place of the first.
	type pair struct{ caseID, partyID int64 }
	at := make(map[pair]int, len(links))
	uniq := make([]casegate.CaseLink, 0, len(links))
	for _, l := range links {
		k := pair{l.CaseID, l.PartyID}
		if i, ok := at[k]; ok {
			uniq[i].Role = l.Role
			continue
		}
		at[k] = len(uniq)
		uniq = append(uniq, l)
	}
	args := make([]any, 0, 3*min(len(uniq), bulkRows))
	err := inChunks(len(uniq), func(lo, hi int) error {
		args = args[:0]
		for _, l := range uniq[lo:hi] {
			args = append(args, l.CaseID, l.PartyID, string(l.Role))
		}
		_, err := t.exec(ctx, bulkQuery(`INSERT INTO case_parties (case_id, party_id, role) VALUES `,
			"(?, ?, ?)", ` ON CONFLICT (case_id, party_id) DO UPDATE SET role = excluded.role`, hi-lo), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: link parties: %w", err)
	}
	return nil
}

// PartiesByANumbers returns every party with one of aNumbers, by id.
func (t *tx) PartiesByANumbers(ctx context.Context, aNumbers []string) ([]casegate.Party, error) {
	var out []casegate.Party
	args := make([]any, 0, min(len(aNumbers), bulkRows))
	err := inChunks(len(aNumbers), func(lo, hi int) error {
		args = args[:0]
		for _, a := range aNumbers[lo:hi] {
			args = append(args, a)
		}
		ps, err := queryAll(ctx, t, scanParty, bulkQuery(`SELECT `+partyColumns+` FROM parties p WHERE p.a_number IN (`, "?", `)`, hi-lo), args...)
		out = append(out, ps...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: parties by A-Numbers: %w", err)
	}
	slices.SortFunc(out, func(a, b casegate.Party) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// NewPartyIDs reserves n ids for parties that InsertParties will store.
// PostgreSQL takes them from the table's sequence. SQLite has none: the
// transaction, which is the only writer, counts on from the highest id, and
// InsertParty takes its ids from the same count once one was reserved.
func (t *tx) NewPartyIDs(ctx context.Context, n int) ([]int64, error) {
	if n <= 0 {
		return nil, nil
	}
	ids := make([]int64, 0, n)
	if t.d.partyIDs != "" {
		rows, err := t.query(ctx, t.d.partyIDs, n)
		if err != nil {
			return nil, fmt.Errorf("store: new party ids: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, fmt.Errorf("store: new party ids: %w", err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: new party ids: %w", err)
		}
		if len(ids) != n {
			return nil, fmt.Errorf("store: new party ids: %d of %d", len(ids), n)
		}
		slices.Sort(ids)
		return ids, nil
	}
	if t.nextPartyID == 0 {
		var highest int64
		if err := t.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM parties`).Scan(&highest); err != nil {
			return nil, fmt.Errorf("store: new party ids: %w", err)
		}
		t.nextPartyID = highest + 1
	}
	for range n {
		ids = append(ids, t.nextPartyID)
		t.nextPartyID++
	}
	return ids, nil
}

// InsertParties stores new parties under the ids they carry, which
// NewPartyIDs reserved.
func (t *tx) InsertParties(ctx context.Context, ps []casegate.Party) error {
	const cols = 13
	args := make([]any, 0, cols*min(len(ps), bulkRows))
	err := inChunks(len(ps), func(lo, hi int) error {
		args = args[:0]
		for _, p := range ps[lo:hi] {
			if p.ID == 0 {
				return fmt.Errorf("a party without a reserved id")
			}
			args = append(args, p.ID, p.GivenName, p.FamilyName, p.DateOfBirth, p.CountryOfBirth, nullString(p.ANumber),
				p.Email, p.Phone, p.Language, micros(p.LockedUntil), p.LockedIndefinitely, p.LockCount, p.ConsecutiveFailures)
		}
		_, err := t.exec(ctx, bulkQuery(t.d.insertFail+` INTO parties (id, given_name, family_name, dob, country, a_number, email, phone,
			language, locked_until, locked_indefinitely, lock_count, consecutive_failures) VALUES `,
			"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ``, hi-lo), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: insert parties: %w", err)
	}
	return nil
}
