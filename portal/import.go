package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/caseimport"
)

// ImportResult is the outcome of an import.
type ImportResult struct {
	Created   int         `json:"created"`
	Updated   int         `json:"updated"`
	Unchanged int         `json:"unchanged"` // on file already, exactly as given
	Rejected  []Rejection `json:"rejected"`  // by line number
	Warnings  []Warning   `json:"warnings"`  // by line number: loaded, but not all of it
}

// Rejection is one line that was not loaded, with the reason: the parser's
// or, for a case the store refused, the importer's.
type Rejection = caseimport.Rejection

// Warning is one line that was loaded without a value it gave, with the
// reason: a phone number that cannot be texted.
type Warning struct {
	Line    int    `json:"line"`
	Warning string `json:"warning"`
}

// ImportProgress is reported after each batch.
type ImportProgress struct {
	Lines, Created, Updated, Unchanged, Rejected int
}

// DefaultImportBatch is how many cases an import writes per transaction. A
// larger batch writes fewer pages in all (each transaction rewrites the pages
// of the indexes it touches at random: 2000 cases per transaction made a
// million-case import a tenth slower than 5000), a smaller one holds
// SQLite's single writer for less time: 5000 cases take about a quarter of a
// second.
const DefaultImportBatch = 5000

// Importer loads cases from JSON Lines or CSV into the store: an idempotent
// upsert by receipt number (docs/import.md has the rules).
type Importer struct {
	Store     casegate.Store
	Keys      casegate.AuditKeys // chain the import's audit event
	Now       func() time.Time   // for the audit event; time.Now when nil
	BatchSize int                // cases per transaction; DefaultImportBatch when 0
	// AllowVoIP keeps VoIP numbers, as SMSLimits.AllowVoIP texts them. A
	// phone that cannot be texted is not stored (screenPhones).
	AllowVoIP bool
}

// Import reads cases from r in format "jsonl" or "csv" and loads them. Bad
// lines are rejected with their line number and the rest still load. The
// error is for what stops the whole import: an unknown format, a CSV header or
// line that cannot be read, a cancelled context, a database that refuses
// every write. actor names who imports, for the one audit event.
func (im *Importer) Import(ctx context.Context, r io.Reader, format, actor string, progress func(ImportProgress)) (ImportResult, error) {
	if im.Store == nil || im.Keys == nil {
		return ImportResult{}, errors.New("portal: an importer needs a store and the audit keys")
	}
	var src importSource
	switch format {
	case "jsonl", "ndjson":
		src = &jsonlSource{lr: caseimport.NewLineReader(r)}
	case "csv":
		cr, err := caseimport.NewCSVReader(r)
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
	res := ImportResult{Rejected: []Rejection{}, Warnings: []Warning{}}
	var last ImportProgress
	lines := 0 // the last line consumed
	report := func() {
		p := ImportProgress{Lines: lines, Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, Rejected: len(res.Rejected)}
		if progress != nil && p != last {
			progress(p)
		}
		last = p
	}
	pipe := newChunkPipeline(src, size, im.AllowVoIP)
	var bulk bulkLoad
	defer bulk.end()
	batch := make([]importUnit, 0, size)
	var err error
	writeFailed := false // after a failed write, nothing more is written
	for err == nil {
		c := pipe.next()
		if c == nil {
			break
		}
		res.Rejected = append(res.Rejected, c.rejected...)
		res.Warnings = append(res.Warnings, c.warnings...)
		for i := range c.units {
			batch = append(batch, c.units[i])
			lines = c.units[i].line
			if len(batch) == size {
				bulk.begin(ctx, im.Store)
				if err = im.writeBatch(ctx, batch, &res); err != nil {
					writeFailed = true
					break
				}
				clear(batch)
				batch = batch[:0]
				report()
			}
		}
		if err == nil {
			lines = c.last
			err = c.err
			if len(c.rejected) > 0 {
				report()
			}
		}
	}
	pipe.close()
	if len(batch) > 0 && !writeFailed {
		bulk.begin(ctx, im.Store)
		if werr := im.writeBatch(ctx, batch, &res); werr != nil {
			err = werr
		}
	}
	bulk.end()
	if err == io.EOF {
		err = nil
	}
	report()
	slices.SortStableFunc(res.Rejected, func(a, b Rejection) int { return a.Line - b.Line })
	slices.SortStableFunc(res.Warnings, func(a, b Warning) int { return a.Line - b.Line })
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
		var err error
		created, updated, err = writeUnits(ctx, tx, batch)
		return err
	})
	if err == nil {
		res.Created += created
		res.Updated += updated
		res.Unchanged += len(batch) - created - updated
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("portal: import: %w", ctx.Err())
	}
	failed := 0
	var last error
	for i := range batch {
		err := im.Store.Update(ctx, func(tx casegate.Tx) error {
			var err error
			created, updated, err = writeUnits(ctx, tx, batch[i:i+1])
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
		res.Created += created
		res.Updated += updated
		res.Unchanged += 1 - created - updated
	}
	if failed == len(batch) {
		return fmt.Errorf("portal: import: the database refused every case of a batch: %w", last)
	}
	return nil
}

// bulkLoad readies the store for a bulk load once the import has filled a
// batch and comes to write the next: a small import leaves it as it is.
type bulkLoad struct {
	batches int
	done    func()
}

func (b *bulkLoad) begin(ctx context.Context, st casegate.Store) {
	b.batches++
	if b.batches != 2 {
		return
	}
	// Without it the import is slower, nothing else: go on.
	b.done, _ = st.BulkLoad(ctx)
}

func (b *bulkLoad) end() {
	if b.done != nil {
		b.done()
		b.done = nil
	}
}

// storeReason says why the store refused a case, without internal detail.
func storeReason(err error) string {
	if e, ok := casegate.AsError(err); ok && e.Code != casegate.EInternal {
		return e.Text()
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
			Details: withRequestID(ctx, map[string]string{
				"format":    format,
				"created":   strconv.Itoa(res.Created),
				"updated":   strconv.Itoa(res.Updated),
				"unchanged": strconv.Itoa(res.Unchanged),
				"rejected":  strconv.Itoa(len(res.Rejected)),
				"warnings":  strconv.Itoa(len(res.Warnings)),
			}),
		}, im.Keys)
	})
	if err != nil {
		return fmt.Errorf("portal: import: audit: %w", err)
	}
	return nil
}
