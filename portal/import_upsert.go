package portal

import (
	"context"
	"slices"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/identity"
)

// upsertCase loads one case in tx, a statement at a time. created says the
// case is new; updated says an existing case changed: its fields, a new
// event, a new party or link, or a changed party. touched holds the parties
// linked to the case at the end, every party it changed among them.
func upsertCase(ctx context.Context, tx casegate.Tx, pc *caseimport.Case) (created, updated bool, touched []linkedParty, err error) {
	c := pc.Case
	c.History = nil
	changed := false
	existing, err := tx.CaseByReceipt(ctx, c.ReceiptNumber)
	switch {
	case casegate.IsNotFound(err):
		if err := tx.InsertCase(ctx, &c); err != nil {
			return false, false, nil, err
		}
		created = true
	case err != nil:
		return false, false, nil, err
	default:
		c.ID = existing.ID
		if c.Category == "" {
			c.Category = existing.Category
		}
		if c.FormType != existing.FormType || c.Category != existing.Category ||
			c.Office != existing.Office || !c.ReceivedOn.Equal(existing.ReceivedOn) {
			if err := tx.UpdateCase(ctx, c); err != nil {
				return false, false, nil, err
			}
			changed = true
		}
	}
	for _, e := range pc.Case.History {
		e.CaseID = c.ID
		added, err := tx.AddStatusEvent(ctx, &e)
		if err != nil {
			return false, false, nil, err
		}
		changed = changed || added
	}
	pm := partyMatcher{ps: txParties{tx: tx, caseID: c.ID}, roles: map[int64]casegate.Role{}}
	if !created {
		if err := pm.load(ctx, tx, c.ReceiptNumber, c.ID); err != nil {
			return false, false, nil, err
		}
	}
	for i := range pc.Parties {
		ch, err := pm.upsert(ctx, &pc.Parties[i])
		if err != nil {
			return false, false, nil, err
		}
		changed = changed || ch
	}
	return created, changed && !created, pm.linked, nil
}

// partyMatcher finds, updates, inserts and links the parties of one case.
type partyMatcher struct {
	ps     partyStore
	linked []linkedParty           // the parties linked to the case so far
	roles  map[int64]casegate.Role // party id → role on this case
}

type linkedParty struct {
	casegate.Party
	tokens    []string // of given and family name, once tokenized
	tokenized bool
}

// nameTokens returns the tokens of the party's name. They are worked out
// only when a name is compared: most parties never are.
func (l *linkedParty) nameTokens() []string {
	if !l.tokenized {
		l.tokens, l.tokenized = nameTokens(l.GivenName, l.FamilyName), true
	}
	return l.tokens
}

// load reads the parties already linked to the case.
func (pm *partyMatcher) load(ctx context.Context, tx casegate.Tx, receipt string, caseID int64) error {
	parties, err := tx.PartiesByReceipt(ctx, receipt)
	if err != nil {
		return err
	}
	for _, p := range parties {
		pm.linked = append(pm.linked, linkedParty{Party: p})
	}
	links, err := tx.CaseLinks(ctx, caseID)
	if err != nil {
		return err
	}
	for _, l := range links {
		pm.roles[l.PartyID] = l.Role
	}
	return nil
}

func nameTokens(given, family string) []string { return identity.Tokens(given + " " + family) }

// upsert matches pp to a party on file, updates or inserts it and links it
// to the case with its role; it reports whether anything changed.
func (pm *partyMatcher) upsert(ctx context.Context, pp *caseimport.Party) (bool, error) {
	named := linkedParty{Party: casegate.Party{GivenName: pp.GivenName, FamilyName: pp.FamilyName}}
	p, found, err := pm.match(ctx, pp, &named)
	if err != nil {
		return false, err
	}
	changed := false
	if found {
		before := p
		applyParty(&p, pp)
		if p != before {
			if err := pm.ps.update(ctx, p); err != nil {
				return false, err
			}
			changed = true
		}
	} else {
		p = casegate.Party{Language: "en"}
		applyParty(&p, pp)
		if err := pm.ps.insert(ctx, &p); err != nil {
			return false, err
		}
		changed = true
	}
	// p has pp's name now: its tokens, if worked out, are those of named.
	linked := linkedParty{Party: p, tokens: named.tokens, tokenized: named.tokenized}
	if k := slices.IndexFunc(pm.linked, func(l linkedParty) bool { return l.ID == p.ID }); k < 0 {
		pm.linked = append(pm.linked, linked)
	} else {
		pm.linked[k] = linked
	}
	if role, ok := pm.roles[p.ID]; !ok || role != pp.Role {
		if err := pm.ps.link(ctx, p.ID, pp.Role); err != nil {
			return false, err
		}
		pm.roles[p.ID] = pp.Role
		changed = true
	}
	return changed, nil
}

// match finds the party on file that pp describes: by A-Number when pp has
// one, else by name and date of birth among the case's parties. A party with
// an A-Number on file in no party yet may still match by name and date of
// birth a party of the case that has no A-Number.
// named holds pp's name, to tokenize when needed.
func (pm *partyMatcher) match(ctx context.Context, pp *caseimport.Party, named *linkedParty) (casegate.Party, bool, error) {
	if pp.ANumber != "" {
		ps, err := pm.ps.byANumber(ctx, pp.ANumber)
		if err != nil {
			return casegate.Party{}, false, err
		}
		switch len(ps) {
		case 0:
		case 1:
			return ps[0], true, nil
		default:
			// Several parties share the A-Number: take the one on this case, if one is.
			var onCase []casegate.Party
			for _, p := range ps {
				if _, ok := pm.roles[p.ID]; ok {
					onCase = append(onCase, p)
				}
			}
			if len(onCase) == 1 {
				return onCase[0], true, nil
			}
			return casegate.Party{}, false, casegate.Errorf(casegate.EConflict,
				"a_number: %d parties on file have this A-Number; resolve that before importing", len(ps))
		}
	}
	for i := range pm.linked {
		l := &pm.linked[i]
		if l.DateOfBirth == pp.DateOfBirth && (pp.ANumber == "" || l.ANumber == "") && slices.Equal(l.nameTokens(), named.nameTokens()) {
			return l.Party, true, nil
		}
	}
	return casegate.Party{}, false, nil
}

// applyParty copies the fields that pp gives onto p; lockout state is not touched.
func applyParty(p *casegate.Party, pp *caseimport.Party) {
	p.GivenName, p.FamilyName = pp.GivenName, pp.FamilyName
	p.DateOfBirth, p.CountryOfBirth = pp.DateOfBirth, pp.CountryOfBirth
	setIf(&p.ANumber, pp.ANumber)
	setIf(&p.Email, pp.Email)
	setIf(&p.Phone, pp.Phone)
	setIf(&p.Language, pp.Language)
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// partyStore is where a partyMatcher finds, stores and links parties.
type partyStore interface {
	byANumber(ctx context.Context, a string) ([]casegate.Party, error) // by id
	insert(ctx context.Context, p *casegate.Party) error               // sets p.ID
	update(ctx context.Context, p casegate.Party) error
	link(ctx context.Context, partyID int64, role casegate.Role) error // to the case
}

// txParties is the partyStore of a case written a statement at a time.
type txParties struct {
	tx     casegate.Tx
	caseID int64
}

func (t txParties) byANumber(ctx context.Context, a string) ([]casegate.Party, error) {
	return t.tx.PartiesByANumber(ctx, a)
}

func (t txParties) insert(ctx context.Context, p *casegate.Party) error {
	return t.tx.InsertParty(ctx, p)
}

func (t txParties) update(ctx context.Context, p casegate.Party) error {
	return t.tx.UpdateParty(ctx, p)
}

func (t txParties) link(ctx context.Context, partyID int64, role casegate.Role) error {
	return t.tx.LinkParty(ctx, casegate.CaseLink{CaseID: t.caseID, PartyID: partyID, Role: role})
}
