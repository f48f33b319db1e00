package portal

import (
	"cmp"
	"context"
	"slices"

	"github.com/casegate/casegate"
)

// batchWriter loads the cases of one batch in one transaction, with the
// result a line-by-line load would have. A new case — its receipt number not
// on file when the batch began, nor seen earlier in the batch — is queued,
// with its new parties, events and links, and written with the other new
// cases many rows per statement. Any other case goes through upsertCase, one
// statement at a time, after the queue has been written, so that it sees
// everything the lines before it did.
//
// Parties of new cases are matched by A-Number against byANumber, which holds
// the parties with the batch's A-Numbers as this transaction has them, the
// queued ones included.
type batchWriter struct {
	tx        casegate.Tx
	onFile    map[string]int64            // receipt numbers of the batch on file when it began
	seen      map[string]bool             // receipt numbers handled in this transaction
	byANumber map[string][]casegate.Party // by id; an absent key is not loaded yet
	ids       []int64                     // party ids reserved and not used yet
	cases     []casegate.Case             // new cases queued
	parties   []casegate.Party            // new parties queued
	queuedAt  map[int64]int               // party id → index in parties
	events    []queuedEvent
	links     []queuedLink
	created   int
	updated   int
}

// queuedEvent and queuedLink belong to cases[c].
type queuedEvent struct {
	c int
	e casegate.StatusEvent
}

type queuedLink struct {
	c       int
	partyID int64
	role    casegate.Role
}

// writeUnits loads units in tx and counts what it created and updated.
func writeUnits(ctx context.Context, tx casegate.Tx, units []importUnit) (created, updated int, err error) {
	receipts := make([]string, len(units))
	for i := range units {
		receipts[i] = units[i].pc.Case.ReceiptNumber
	}
	onFile, err := tx.CaseIDs(ctx, receipts)
	if err != nil {
		return 0, 0, err
	}
	w := &batchWriter{tx: tx, onFile: onFile, seen: make(map[string]bool, len(units)),
		byANumber: map[string][]casegate.Party{}}
	var aNumbers []string
	newCases, newEvents, newParties := 0, 0, 0
	for i := range units {
		if _, ok := onFile[units[i].pc.Case.ReceiptNumber]; ok {
			continue
		}
		newCases++
		newEvents += len(units[i].pc.Case.History)
		for _, p := range units[i].pc.Parties {
			newParties++
			if p.ANumber != "" {
				if _, ok := w.byANumber[p.ANumber]; !ok {
					w.byANumber[p.ANumber] = nil
					aNumbers = append(aNumbers, p.ANumber)
				}
			}
		}
	}
	onFileParties, err := tx.PartiesByANumbers(ctx, aNumbers)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range onFileParties {
		w.byANumber[p.ANumber] = append(w.byANumber[p.ANumber], p)
	}
	if w.ids, err = tx.NewPartyIDs(ctx, newParties); err != nil {
		return 0, 0, err
	}
	w.cases = make([]casegate.Case, 0, newCases)
	w.events = make([]queuedEvent, 0, newEvents)
	w.parties = make([]casegate.Party, 0, newParties)
	w.links = make([]queuedLink, 0, newParties)
	w.queuedAt = make(map[int64]int, newParties)
	for i := range units {
		if err := w.add(ctx, &units[i]); err != nil {
			return 0, 0, err
		}
	}
	if err := w.flush(ctx); err != nil {
		return 0, 0, err
	}
	return w.created, w.updated, nil
}

// add loads one case, or queues it when it is new.
func (w *batchWriter) add(ctx context.Context, u *importUnit) error {
	receipt := u.pc.Case.ReceiptNumber
	if _, ok := w.onFile[receipt]; ok || w.seen[receipt] {
		if err := w.flush(ctx); err != nil {
			return err
		}
		c, up, touched, err := upsertCase(ctx, w.tx, &u.pc)
		if err != nil {
			return err
		}
		for _, p := range touched {
			delete(w.byANumber, p.ANumber) // changed behind the map's back: loaded again when needed
		}
		w.created, w.updated = w.created+b2i(c), w.updated+b2i(up)
		return nil
	}
	w.seen[receipt] = true
	ci := len(w.cases)
	c := u.pc.Case
	c.History = nil
	w.cases = append(w.cases, c)
	for _, e := range u.pc.Case.History {
		w.events = append(w.events, queuedEvent{c: ci, e: e})
	}
	pm := partyMatcher{ps: queuedParties{w: w, c: ci}, roles: map[int64]casegate.Role{}}
	for i := range u.pc.Parties {
		if _, err := pm.upsert(ctx, &u.pc.Parties[i]); err != nil {
			return err
		}
	}
	w.created++
	return nil
}

// withANumber returns the parties with A-Number a, loading them when the map
// does not hold them.
func (w *batchWriter) withANumber(ctx context.Context, a string) ([]casegate.Party, error) {
	if ps, ok := w.byANumber[a]; ok {
		return ps, nil
	}
	// Nothing queued has this A-Number (it would have been loaded first), so
	// the database has them all.
	ps, err := w.tx.PartiesByANumber(ctx, a)
	if err != nil {
		return nil, err
	}
	w.byANumber[a] = ps
	return ps, nil
}

// remember puts p, as it now is, into byANumber.
func (w *batchWriter) remember(ctx context.Context, p casegate.Party) error {
	if p.ANumber == "" {
		return nil
	}
	ps, err := w.withANumber(ctx, p.ANumber)
	if err != nil {
		return err
	}
	if k := slices.IndexFunc(ps, func(q casegate.Party) bool { return q.ID == p.ID }); k >= 0 {
		ps[k] = p
		return nil
	}
	ps = append(ps, p)
	slices.SortFunc(ps, func(a, b casegate.Party) int { return cmp.Compare(a.ID, b.ID) })
	w.byANumber[p.ANumber] = ps
	return nil
}

// flush writes the queued cases, parties, events and links.
func (w *batchWriter) flush(ctx context.Context) error {
	if len(w.cases) == 0 {
		return nil
	}
	if err := w.tx.InsertCases(ctx, w.cases); err != nil {
		return err
	}
	if err := w.tx.InsertParties(ctx, w.parties); err != nil {
		return err
	}
	events := make([]casegate.StatusEvent, len(w.events))
	for i, q := range w.events {
		events[i] = q.e
		events[i].CaseID = w.cases[q.c].ID
	}
	if err := w.tx.AddStatusEvents(ctx, events); err != nil {
		return err
	}
	links := make([]casegate.CaseLink, len(w.links))
	for i, q := range w.links {
		links[i] = casegate.CaseLink{CaseID: w.cases[q.c].ID, PartyID: q.partyID, Role: q.role}
	}
	if err := w.tx.LinkParties(ctx, links); err != nil {
		return err
	}
	w.cases, w.parties, w.events, w.links = w.cases[:0], w.parties[:0], w.events[:0], w.links[:0]
	clear(w.queuedAt)
	return nil
}

// queuedParties is the partyStore of new case c of a batchWriter.
type queuedParties struct {
	w *batchWriter
	c int
}

func (q queuedParties) byANumber(ctx context.Context, a string) ([]casegate.Party, error) {
	return q.w.withANumber(ctx, a)
}

func (q queuedParties) insert(ctx context.Context, p *casegate.Party) error {
	w := q.w
	if len(w.ids) == 0 {
		ids, err := w.tx.NewPartyIDs(ctx, 1)
		if err != nil {
			return err
		}
		w.ids = ids
	}
	p.ID, w.ids = w.ids[0], w.ids[1:]
	w.queuedAt[p.ID] = len(w.parties)
	w.parties = append(w.parties, *p)
	return w.remember(ctx, *p)
}

func (q queuedParties) update(ctx context.Context, p casegate.Party) error {
	w := q.w
	if k, ok := w.queuedAt[p.ID]; ok {
		w.parties[k] = p
	} else if err := w.tx.UpdateParty(ctx, p); err != nil {
		return err
	}
	return w.remember(ctx, p)
}

func (q queuedParties) link(_ context.Context, partyID int64, role casegate.Role) error {
	q.w.links = append(q.w.links, queuedLink{c: q.c, partyID: partyID, role: role})
	return nil
}
