package portal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// ImportResult is the outcome of an import.
type ImportResult struct {
	Created  int         `json:"created"`
	Updated  int         `json:"updated"`
	Rejected []Rejection `json:"rejected"` // by line number
}

// Rejection is one line that was not loaded, with the reason.
type Rejection struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// ImportProgress is reported after each batch.
type ImportProgress struct {
	Lines, Created, Updated, Rejected int
}

// DefaultImportBatch is how many cases an import writes per transaction.
const DefaultImportBatch = 500

// Importer loads cases from JSON Lines or CSV into the store: an idempotent
// upsert by receipt number (docs/import.md has the rules).
type Importer struct {
	Store     casegate.Store
	Now       func() time.Time // for the audit event; time.Now when nil
	BatchSize int              // cases per transaction; DefaultImportBatch when 0
}

// importUnit is one parsed case and the line it came from.
type importUnit struct {
	line int
	pc   ParsedCase
}

// importSource yields the cases of one file.
type importSource interface {
	// next returns the next case (nil when a read produced only rejections)
	// and lines that were rejected on the way; io.EOF at the end.
	next() (*importUnit, []Rejection, error)
	// lines returns the number of the last line read.
	lines() int
}

// Import reads cases from r in format "jsonl" or "csv" and loads them. Bad
// lines are rejected with their line number and the rest still load. The
// error is for what stops the whole import: an unknown format, a CSV header or
// line that cannot be read, a cancelled context, a database that refuses
// every write. actor names who imports, for the one audit event.
func (im *Importer) Import(ctx context.Context, r io.Reader, format, actor string, progress func(ImportProgress)) (ImportResult, error) {
	var src importSource
	switch format {
	case "jsonl", "ndjson":
		src = newJSONLSource(r)
	case "csv":
		cr, err := NewCSVReader(r)
		if err != nil {
			return ImportResult{}, err
		}
		src = &csvSource{cr: cr}
	default:
		return ImportResult{}, casegate.Errorf(casegate.EInvalid, "Unknown import format %q: use jsonl or csv.", format)
	}

	size := im.BatchSize
	if size <= 0 {
		size = DefaultImportBatch
	}
	res := ImportResult{Rejected: []Rejection{}}
	batch := make([]importUnit, 0, size)
	var last ImportProgress
	report := func() {
		p := ImportProgress{Lines: src.lines(), Created: res.Created, Updated: res.Updated, Rejected: len(res.Rejected)}
		if progress != nil && p != last {
			progress(p)
		}
		last = p
	}
	var err error
	for {
		var u *importUnit
		var rej []Rejection
		u, rej, err = src.next()
		res.Rejected = append(res.Rejected, rej...)
		if u != nil {
			batch = append(batch, *u)
		}
		if len(batch) > 0 && (len(batch) >= size || err != nil) {
			if werr := im.writeBatch(ctx, batch, &res); werr != nil {
				err = werr
				break
			}
			batch = batch[:0]
			report()
		} else if u == nil && len(rej) > 0 {
			report()
		}
		if err != nil {
			break
		}
	}
	if err == io.EOF {
		err = nil
	}
	report()
	sortRejections(res.Rejected)
	if aerr := im.audit(ctx, format, actor, res, err); aerr != nil && err == nil {
		err = aerr
	}
	return res, err
}

// writeBatch loads a batch in one transaction. When that fails it loads the
// cases one by one, so that one bad case does not cost the others.
func (im *Importer) writeBatch(ctx context.Context, batch []importUnit, res *ImportResult) error {
	var created, updated int
	err := im.Store.Update(ctx, func(tx casegate.Tx) error {
		created, updated = 0, 0
		for i := range batch {
			c, u, err := upsertCase(ctx, tx, &batch[i].pc)
			if err != nil {
				return err
			}
			created, updated = created+b2i(c), updated+b2i(u)
		}
		return nil
	})
	if err == nil {
		res.Created += created
		res.Updated += updated
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("portal: import: %w", ctx.Err())
	}
	failed := 0
	var last error
	for i := range batch {
		var c, u bool
		err := im.Store.Update(ctx, func(tx casegate.Tx) error {
			var err error
			c, u, err = upsertCase(ctx, tx, &batch[i].pc)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("portal: import: %w", ctx.Err())
			}
			if casegate.ErrorCodeOf(err) == casegate.EInternal {
				failed++
				last = err
			}
			res.Rejected = append(res.Rejected, Rejection{Line: batch[i].line, Error: storeReason(err)})
			continue
		}
		res.Created += b2i(c)
		res.Updated += b2i(u)
	}
	if failed == len(batch) {
		return fmt.Errorf("portal: import: the database refused every case of a batch: %w", last)
	}
	return nil
}

// storeReason says why the store refused a case, without internal detail.
func storeReason(err error) string {
	if e, ok := casegate.AsError(err); ok && e.Code != casegate.EInternal {
		return e.Message
	}
	return "the case could not be saved (database error); try this line again"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// audit writes the one audit event of an import, even when the import
// stopped early: what was committed has to be on record.
func (im *Importer) audit(ctx context.Context, format, actor string, res ImportResult, failure error) error {
	now := time.Now
	if im.Now != nil {
		now = im.Now
	}
	outcome := "ok"
	if failure != nil {
		outcome = "aborted"
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := im.Store.Update(ctx, func(tx casegate.Tx) error {
		return tx.AppendAudit(ctx, &casegate.AuditEvent{
			At: now(), Actor: actor, Action: "cases.import", Target: "import", Outcome: outcome,
			Details: map[string]string{
				"format":   format,
				"created":  strconv.Itoa(res.Created),
				"updated":  strconv.Itoa(res.Updated),
				"rejected": strconv.Itoa(len(res.Rejected)),
			},
		})
	})
	if err != nil {
		return fmt.Errorf("portal: import: audit: %w", err)
	}
	return nil
}

// upsertCase loads one case in tx. created says the case is new; updated says
// an existing case changed: its fields, a new event, a new party or link, or
// a changed party.
func upsertCase(ctx context.Context, tx casegate.Tx, pc *ParsedCase) (created, updated bool, err error) {
	c := pc.Case
	c.History = nil
	changed := false
	existing, err := tx.CaseByReceipt(ctx, c.ReceiptNumber)
	switch {
	case casegate.IsNotFound(err):
		if err := tx.InsertCase(ctx, &c); err != nil {
			return false, false, err
		}
		created = true
	case err != nil:
		return false, false, err
	default:
		c.ID = existing.ID
		if c.Category == "" {
			c.Category = existing.Category
		}
		if c.FormType != existing.FormType || c.Category != existing.Category ||
			c.Office != existing.Office || !c.ReceivedOn.Equal(existing.ReceivedOn) {
			if err := tx.UpdateCase(ctx, c); err != nil {
				return false, false, err
			}
			changed = true
		}
	}
	for _, e := range pc.Case.History {
		e.CaseID = c.ID
		added, err := tx.AddStatusEvent(ctx, &e)
		if err != nil {
			return false, false, err
		}
		changed = changed || added
	}
	pm := partyMatcher{tx: tx, caseID: c.ID, roles: map[int64]casegate.Role{}}
	if !created {
		if err := pm.load(ctx, c.ReceiptNumber); err != nil {
			return false, false, err
		}
	}
	for i := range pc.Parties {
		ch, err := pm.upsert(ctx, &pc.Parties[i])
		if err != nil {
			return false, false, err
		}
		changed = changed || ch
	}
	return created, changed && !created, nil
}

// partyMatcher finds, updates, inserts and links the parties of one case.
type partyMatcher struct {
	tx     casegate.Tx
	caseID int64
	linked []linkedParty           // the parties linked to the case so far
	roles  map[int64]casegate.Role // party id → role on this case
}

type linkedParty struct {
	casegate.Party
	tokens []string // of given and family name
}

func (pm *partyMatcher) load(ctx context.Context, receipt string) error {
	parties, err := pm.tx.PartiesByReceipt(ctx, receipt)
	if err != nil {
		return err
	}
	for _, p := range parties {
		pm.linked = append(pm.linked, linkedParty{p, nameTokens(p.GivenName, p.FamilyName)})
	}
	links, err := pm.tx.CaseLinks(ctx, pm.caseID)
	if err != nil {
		return err
	}
	for _, l := range links {
		pm.roles[l.PartyID] = l.Role
	}
	return nil
}

func nameTokens(given, family string) []string { return identity.Tokens(given + " " + family) }

// upsert matches pp to a party on file, updates or inserts it and links it to
// the case with its role; it reports whether anything changed.
func (pm *partyMatcher) upsert(ctx context.Context, pp *ParsedParty) (bool, error) {
	tokens := nameTokens(pp.GivenName, pp.FamilyName)
	p, found, err := pm.match(ctx, pp, tokens)
	if err != nil {
		return false, err
	}
	changed := false
	if found {
		before := p
		applyParty(&p, pp)
		if p != before {
			if err := pm.tx.UpdateParty(ctx, p); err != nil {
				return false, err
			}
			changed = true
		}
	} else {
		p = casegate.Party{Language: "en"}
		applyParty(&p, pp)
		if err := pm.tx.InsertParty(ctx, &p); err != nil {
			return false, err
		}
		changed = true
	}
	k := slices.IndexFunc(pm.linked, func(l linkedParty) bool { return l.ID == p.ID })
	if k < 0 {
		pm.linked = append(pm.linked, linkedParty{p, tokens})
	} else {
		pm.linked[k] = linkedParty{p, tokens}
	}
	if role, ok := pm.roles[p.ID]; !ok || role != pp.Role {
		if err := pm.tx.LinkParty(ctx, casegate.CaseLink{CaseID: pm.caseID, PartyID: p.ID, Role: pp.Role}); err != nil {
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
func (pm *partyMatcher) match(ctx context.Context, pp *ParsedParty, tokens []string) (casegate.Party, bool, error) {
	if pp.ANumber != "" {
		ps, err := pm.tx.PartiesByANumber(ctx, pp.ANumber)
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
	for _, l := range pm.linked {
		if l.DateOfBirth == pp.DateOfBirth && slices.Equal(l.tokens, tokens) && (pp.ANumber == "" || l.ANumber == "") {
			return l.Party, true, nil
		}
	}
	return casegate.Party{}, false, nil
}

// applyParty copies the fields that pp gives onto p; lockout state is not touched.
func applyParty(p *casegate.Party, pp *ParsedParty) {
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

// jsonlSource reads JSON Lines: one case per line, blank lines skipped.
type jsonlSource struct {
	br   *bufio.Reader
	line int
	buf  []byte
}

func newJSONLSource(r io.Reader) *jsonlSource {
	return &jsonlSource{br: bufio.NewReaderSize(r, 64<<10)}
}

func (s *jsonlSource) lines() int { return s.line }

func (s *jsonlSource) next() (*importUnit, []Rejection, error) {
	var rejected []Rejection
	for {
		line, tooLong, err := s.readLine()
		if err != nil {
			return nil, rejected, err
		}
		if tooLong {
			rejected = append(rejected, Rejection{Line: s.line, Error: "the line is longer than 1 MiB"})
			continue
		}
		if s.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		pc, err := ParseJSONLine(line)
		if err != nil {
			rejected = append(rejected, Rejection{Line: s.line, Error: importReason(err)})
			if len(rejected) >= 100 {
				return nil, rejected, nil // let progress see a file of bad lines
			}
			continue
		}
		return &importUnit{line: s.line, pc: pc}, rejected, nil
	}
}

// readLine returns the next line without its line ending. A line over
// MaxImportLine is read to its end and dropped: tooLong is true.
func (s *jsonlSource) readLine() (line []byte, tooLong bool, err error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		if !tooLong {
			if len(s.buf)+len(chunk) > MaxImportLine+2 { // room for \r\n
				tooLong = true
				s.buf = s.buf[:0]
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(s.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
		case err != nil:
			return nil, false, fmt.Errorf("portal: import: read: %w", err)
		}
		s.line++
		line = bytes.TrimSuffix(bytes.TrimSuffix(s.buf, []byte("\n")), []byte("\r"))
		if len(line) > MaxImportLine {
			return nil, true, nil
		}
		return line, tooLong, nil
	}
}

func importReason(err error) string {
	if e, ok := casegate.AsError(err); ok {
		return e.Message
	}
	return err.Error()
}

// csvSource adapts CSVReader to importSource.
type csvSource struct{ cr *CSVReader }

func (s *csvSource) lines() int { return s.cr.Line() }

func (s *csvSource) next() (*importUnit, []Rejection, error) {
	cc, err := s.cr.Next()
	if err != nil {
		return nil, nil, err
	}
	if cc.Case == nil {
		return nil, cc.Rejected, nil
	}
	return &importUnit{line: cc.Line, pc: *cc.Case}, cc.Rejected, nil
}
