package portal

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
	"github.com/casegate/casegate/synth"
)

var importNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newImportStore(t testing.TB) casegate.Store {
	return openMigrated(t, filepath.Join(t.TempDir(), "casegate.db"))
}

// openMigrated opens the database at dsn, migrated, closed when t ends.
func openMigrated(t testing.TB, dsn string) casegate.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// importDB is a database the import tests run on.
type importDB struct {
	name string
	open func(t testing.TB) casegate.Store // a fresh, migrated store
}

// forEachDB runs test on SQLite, and on PostgreSQL when it is reachable (or
// CASEGATE_TEST_REQUIRE demands it).
func forEachDB(t *testing.T, test func(t *testing.T, db importDB)) {
	for _, db := range []importDB{{"SQLite", newImportStore}, {"PostgreSQL", newPostgresImportStore}} {
		t.Run(db.name, func(t *testing.T) { test(t, db) })
	}
}

func newPostgresImportStore(t testing.TB) casegate.Store {
	return openMigrated(t, storetest.PostgresSchema(t))
}

func newImporter(st casegate.Store) *Importer {
	return &Importer{Store: st, Keys: importKeys(), Now: func() time.Time { return importNow }, BatchSize: 40}
}

// importKeys chain the import tests' audit events.
var importKeys = sync.OnceValue(func() *accesscode.Keyring {
	k, err := accesscode.NewKeyring([]accesscode.Secret{{ID: "k1", Bytes: []byte("import tests' secret of 32 bytes or more")}})
	if err != nil {
		panic(err)
	}
	return k
})

func synthJSONL(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := synth.Write(&buf, n, synth.Options{Seed: 3, Now: importNow}, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportSynthWithBadLines(t *testing.T) { forEachDB(t, testImportSynthWithBadLines) }

func testImportSynthWithBadLines(t *testing.T, db importDB) {
	ctx := context.Background()
	st := db.open(t)
	lines := strings.Split(strings.TrimSuffix(string(synthJSONL(t, 200)), "\n"), "\n")
	// Bad lines go in at these positions (1-based line numbers of the file).
	bad := map[int]string{
		1:   `{"receipt_number":"IOE12"}`,
		45:  `{"receipt_number":"IOE0912345678","form_type":"I-485","office":"NBC","received_on":"2025-03-14","parties":[{"role":"applicant","given_name":"Ana","family_name":"Ruiz","date_of_birth":"1990-04-02","country_of_birth":"MX"}]}`,
		46:  `{"receipt_number":"IOE0912345678",`,
		100: `{"receipt_number":"IOE0912345678","color":"blue"}`,
		203: `not json`,
	}
	var file []string
	for _, l := range lines {
		for bad[len(file)+1] != "" {
			file = append(file, bad[len(file)+1])
		}
		file = append(file, l)
		if len(file) == 120 {
			file = append(file, "   ") // a blank line is skipped, and counted
		}
	}
	for bad[len(file)+1] != "" {
		file = append(file, bad[len(file)+1])
	}
	var progress []ImportProgress
	res, err := newImporter(st).Import(ctx, strings.NewReader(strings.Join(file, "\n")), "jsonl", "admin:test",
		func(p ImportProgress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 200 || res.Updated != 0 {
		t.Errorf("created %d updated %d, want 200 and 0", res.Created, res.Updated)
	}
	var gotLines []int
	for _, r := range res.Rejected {
		gotLines = append(gotLines, r.Line)
	}
	if want := []int{1, 45, 46, 100, 203}; !slices.Equal(gotLines, want) {
		t.Errorf("rejected lines %v, want %v (%+v)", gotLines, want, res.Rejected)
	}
	if r := res.Rejected[1]; !strings.Contains(r.Error, "parties[0].email: a party needs an email or a phone") {
		t.Errorf("line 45: reason %q", r.Error)
	}
	if len(progress) == 0 || progress[len(progress)-1] != (ImportProgress{Lines: len(file), Created: 200, Rejected: 5}) {
		t.Errorf("progress %+v", progress)
	}

	// Spot-check what was stored against the file.
	g := synth.New(synth.Options{Seed: 3, Now: importNow})
	for _, i := range []int{0, 57, 199} {
		want := g.Case(i)
		err := st.View(ctx, func(tx casegate.Tx) error {
			c, err := tx.CaseByReceipt(ctx, want.ReceiptNumber)
			if err != nil {
				return err
			}
			if c.FormType != want.FormType || c.Office != want.Office || len(c.History) != len(want.History) {
				t.Errorf("case %d stored as %+v", i, c)
			}
			parties, err := tx.PartiesByReceipt(ctx, want.ReceiptNumber)
			if err != nil {
				return err
			}
			if len(parties) != len(want.Parties) {
				t.Errorf("case %d: %d parties stored, want %d", i, len(parties), len(want.Parties))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// The same file again changes nothing.
	res2, err := newImporter(st).Import(ctx, strings.NewReader(strings.Join(file, "\n")), "jsonl", "admin:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Created != 0 || res2.Updated != 0 || res2.Unchanged != 200 || len(res2.Rejected) != 5 {
		t.Errorf("re-import: created %d updated %d unchanged %d rejected %d, want 0, 0, 200, 5", res2.Created, res2.Updated, res2.Unchanged, len(res2.Rejected))
	}

	// One audit event per import, with counts and nothing else.
	var events []casegate.AuditEvent
	if err := st.View(ctx, func(tx casegate.Tx) error {
		var err error
		events, err = tx.AuditEvents(ctx, 0, 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d audit events, want 2", len(events))
	}
	e := events[0]
	if e.Actor != "admin:test" || e.Action != "cases.import" || e.Target != "import" || e.Outcome != "ok" || !e.At.Equal(importNow) {
		t.Errorf("audit event %+v", e)
	}
	if want := map[string]string{"format": "jsonl", "created": "200", "updated": "0", "unchanged": "0", "rejected": "5", "warnings": "0"}; !reflect.DeepEqual(e.Details, want) {
		t.Errorf("audit details %v, want %v", e.Details, want)
	}
}

// importLines imports JSON lines and fails the test on an error or a rejection.
func importLines(t *testing.T, st casegate.Store, lines ...string) ImportResult {
	t.Helper()
	res, err := newImporter(st).Import(context.Background(), strings.NewReader(strings.Join(lines, "\n")), "jsonl", "admin:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		t.Fatalf("rejected: %+v", res.Rejected)
	}
	return res
}

func caseLine(receipt, parties string, events ...string) string {
	return fmt.Sprintf(`{"receipt_number":%q,"form_type":"I-485","office":"NBC","received_on":"2025-03-14","history":[%s],"parties":[%s]}`,
		receipt, strings.Join(events, ","), parties)
}

func partiesOf(t *testing.T, st casegate.Store, receipt string) []casegate.Party {
	t.Helper()
	var ps []casegate.Party
	if err := st.View(context.Background(), func(tx casegate.Tx) error {
		var err error
		ps, err = tx.PartiesByReceipt(context.Background(), receipt)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestImportMatchesPartiesByANumber(t *testing.T) { forEachDB(t, testImportMatchesPartiesByANumber) }

func testImportMatchesPartiesByANumber(t *testing.T, db importDB) {
	st := db.open(t)
	ana := `{"role":"applicant","given_name":"Ana","family_name":"Ruiz","date_of_birth":"1990-04-02","country_of_birth":"MX","a_number":"A012345678","email":"ana@example.com","phone":"+12015550101","language":"es"}`
	importLines(t, st, caseLine("IOE0000000001", ana))

	// A second case names her by A-Number, with a new email, no phone, a married name.
	ana2 := `{"role":"beneficiary","given_name":"Ana","family_name":"Ruiz Soto","date_of_birth":"1990-04-02","country_of_birth":"MX","a_number":"12345678","email":"ana.soto@example.com"}`
	res := importLines(t, st, caseLine("IOE0000000002", ana2))
	if res.Created != 1 || res.Updated != 0 {
		t.Fatalf("created %d updated %d", res.Created, res.Updated)
	}
	p1, p2 := partiesOf(t, st, "IOE0000000001"), partiesOf(t, st, "IOE0000000002")
	if len(p1) != 1 || len(p2) != 1 || p1[0].ID != p2[0].ID {
		t.Fatalf("not the same party: %+v %+v", p1, p2)
	}
	p := p2[0]
	if p.FamilyName != "Ruiz Soto" || p.Email != "ana.soto@example.com" || p.Phone != "+12015550101" || p.Language != "es" {
		t.Errorf("party not merged field by field: %+v", p)
	}
}

func TestImportMatchesPartiesByNameAndBirthDate(t *testing.T) {
	forEachDB(t, testImportMatchesPartiesByNameAndBirthDate)
}

func testImportMatchesPartiesByNameAndBirthDate(t *testing.T, db importDB) {
	ctx := context.Background()
	st := db.open(t)
	jose := `{"role":"applicant","given_name":"José","family_name":"García López","date_of_birth":"1990-04-02","country_of_birth":"MX","email":"jose@example.com"}`
	importLines(t, st, caseLine("IOE0000000001", jose))
	before := partiesOf(t, st, "IOE0000000001")[0]

	// Lock him, as portal would after failures; an import must not unlock.
	before.LockedIndefinitely, before.ConsecutiveFailures = true, 100
	if err := st.Update(ctx, func(tx casegate.Tx) error { return tx.UpdateParty(ctx, before) }); err != nil {
		t.Fatal(err)
	}

	// The same person, written differently, with a phone now and an A-Number.
	jose2 := `{"role":"applicant","given_name":"JOSE","family_name":"garcia-lopez","date_of_birth":"04/02/1990","country_of_birth":"Mexico","phone":"+12015550102","a_number":"A098765432"}`
	// Someone of the same name born on another day is someone else.
	other := `{"role":"petitioner","given_name":"José","family_name":"García López","date_of_birth":"1960-01-01","country_of_birth":"MX","email":"padre@example.com"}`
	res := importLines(t, st, caseLine("IOE0000000001", jose2+","+other))
	if res.Created != 0 || res.Updated != 1 {
		t.Fatalf("created %d updated %d, want 0 and 1", res.Created, res.Updated)
	}
	ps := partiesOf(t, st, "IOE0000000001")
	if len(ps) != 2 {
		t.Fatalf("%d parties, want 2: %+v", len(ps), ps)
	}
	p := ps[0]
	if p.ID != before.ID || p.Email != "jose@example.com" || p.Phone != "+12015550102" || p.ANumber != "A098765432" || p.GivenName != "JOSE" {
		t.Errorf("party not updated in place: %+v", p)
	}
	if !p.LockedIndefinitely || p.ConsecutiveFailures != 100 {
		t.Errorf("import touched the lockout state: %+v", p)
	}

	// Name and birth date match only within a case: on another case he is new.
	importLines(t, st, caseLine("IOE0000000002", jose))
	if p2 := partiesOf(t, st, "IOE0000000002"); len(p2) != 1 || p2[0].ID == before.ID {
		t.Errorf("matched by name across cases: %+v", p2)
	}
}

func TestImportCountsUpdatesOnlyForChanges(t *testing.T) {
	forEachDB(t, testImportCountsUpdatesOnlyForChanges)
}

func testImportCountsUpdatesOnlyForChanges(t *testing.T, db importDB) {
	st := db.open(t)
	party := `{"role":"applicant","given_name":"Ana","family_name":"Ruiz","date_of_birth":"1990-04-02","country_of_birth":"MX","email":"ana@example.com"}`
	received := `{"status":"received","at":"2025-03-14T10:00:00Z"}`
	importLines(t, st, caseLine("IOE0000000001", party, received))
	for _, tc := range []struct {
		name    string
		line    string
		updated int
	}{
		{"same again", caseLine("IOE0000000001", party, received), 0},
		{"same with the time in another zone", caseLine("IOE0000000001", party, `{"status":"received","at":"2025-03-14T05:00:00-05:00"}`), 0},
		{"a new event", caseLine("IOE0000000001", party, received, `{"status":"approved","at":"2025-05-01T10:00:00Z"}`), 1},
		{"another role", caseLine("IOE0000000001", strings.Replace(party, "applicant", "beneficiary", 1)), 1},
		{"a changed contact", caseLine("IOE0000000001", strings.Replace(party, "ana@", "ana.r@", 1)), 1},
		{"a changed office", strings.Replace(caseLine("IOE0000000001", strings.Replace(party, "ana@", "ana.r@", 1)), `"NBC"`, `"TSC"`, 1), 1},
		{"a new party", caseLine("IOE0000000001", strings.NewReplacer("Ana", "Eva", "ana@", "eva@").Replace(party)), 1},
		{"nothing new", caseLine("IOE0000000001", strings.NewReplacer("Ana", "Eva", "ana@", "eva@").Replace(party)), 0},
	} {
		res := importLines(t, st, tc.line)
		if res.Created != 0 || res.Updated != tc.updated {
			t.Errorf("%s: created %d updated %d, want 0 and %d", tc.name, res.Created, res.Updated, tc.updated)
		}
	}
}

func TestImportRetriesAFailedBatchLineByLine(t *testing.T) {
	forEachDB(t, testImportRetriesAFailedBatchLineByLine)
}

func testImportRetriesAFailedBatchLineByLine(t *testing.T, db importDB) {
	ctx := context.Background()
	st := db.open(t)
	// Two parties on file share an A-Number: a line naming it cannot be
	// matched, which only shows once the batch is being written.
	if err := st.Update(ctx, func(tx casegate.Tx) error {
		for range 2 {
			p := casegate.Party{GivenName: "Twin", FamilyName: "Doe", DateOfBirth: "1980-01-01", CountryOfBirth: "US",
				ANumber: "A000000777", Email: "twin@example.com", Language: "en"}
			if err := tx.InsertParty(ctx, &p); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(synthJSONL(t, 30))), "\n")
	lines[9] = caseLine("IOE0000000777", `{"role":"applicant","given_name":"Twin","family_name":"Doe","date_of_birth":"1980-01-01","country_of_birth":"US","a_number":"A000000777","email":"t@example.com"}`)
	res, err := newImporter(st).Import(ctx, strings.NewReader(strings.Join(lines, "\n")), "jsonl", "admin:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 29 || len(res.Rejected) != 1 || res.Rejected[0].Line != 10 || !strings.Contains(res.Rejected[0].Error, "a_number: 2 parties on file") {
		t.Fatalf("created %d, rejected %+v", res.Created, res.Rejected)
	}
}

func TestImportUnknownFormat(t *testing.T) {
	_, err := newImporter(newImportStore(t)).Import(context.Background(), strings.NewReader(""), "xml", "admin:test", nil)
	if casegate.ErrorCodeOf(err) != casegate.EInvalid {
		t.Fatalf("error %v, want invalid_request", err)
	}
}

func TestImportOverlongLine(t *testing.T) { forEachDB(t, testImportOverlongLine) }

func testImportOverlongLine(t *testing.T, db importDB) {
	st := db.open(t)
	good := caseLine("IOE0000000001", `{"role":"applicant","given_name":"Ana","family_name":"Ruiz","date_of_birth":"1990-04-02","country_of_birth":"MX","email":"ana@example.com"}`)
	data := `{"x":"` + strings.Repeat("y", caseimport.MaxLine) + `"}` + "\r\n" + good + "\r\n"
	res, err := newImporter(st).Import(context.Background(), strings.NewReader(data), "jsonl", "admin:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 1 || len(res.Rejected) != 1 || res.Rejected[0].Line != 1 || !strings.Contains(res.Rejected[0].Error, "1 MiB") {
		t.Fatalf("created %d, rejected %+v", res.Created, res.Rejected)
	}
}

// csvColumns are the columns toCSV writes, in its order.
const csvColumns = "receipt_number,form_type,category,office,received_on,status,status_at,role,given_name,family_name,date_of_birth,country_of_birth,a_number,email,phone,language"

// toCSV writes cases as CSV: the first row of a case carries the case fields,
// and row k carries event k and party k when there are.
func toCSV(t *testing.T, cases []synth.ImportCase) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(strings.Split(csvColumns, ","))
	for _, c := range cases {
		for k := range max(len(c.History), len(c.Parties)) {
			row := make([]string, 16)
			row[0] = c.ReceiptNumber
			if k == 0 {
				row[1], row[2], row[3], row[4] = c.FormType, c.Category, c.Office, c.ReceivedOn
			}
			if k < len(c.History) {
				e := c.History[k]
				if e.Title != "" {
					t.Fatal("the CSV of this test has no status_title column")
				}
				row[5], row[6] = e.Status, e.At
			}
			if k < len(c.Parties) {
				p := c.Parties[k]
				copy(row[7:], []string{p.Role, p.GivenName, p.FamilyName, p.DateOfBirth, p.CountryOfBirth, p.ANumber, p.Email, p.Phone, p.Language})
			}
			w.Write(row)
		}
	}
	w.Flush()
	return buf.Bytes()
}

// dump returns every case with its history and its parties, for comparing stores.
func dump(t *testing.T, st casegate.Store, receipts []string) []string {
	ctx := context.Background()
	var out []string
	err := st.View(ctx, func(tx casegate.Tx) error {
		for _, r := range receipts {
			c, err := tx.CaseByReceipt(ctx, r)
			if err != nil {
				return err
			}
			ps, err := tx.PartiesByReceipt(ctx, r)
			if err != nil {
				return err
			}
			links, err := tx.CaseLinks(ctx, c.ID)
			if err != nil {
				return err
			}
			c.ID = 0
			for i := range c.History {
				c.History[i].ID, c.History[i].CaseID = 0, 0
			}
			out = append(out, fmt.Sprintf("%+v", c))
			for i, p := range ps {
				out = append(out, fmt.Sprintf("%s %s %s %s %s %s %s %s", links[i].Role, p.GivenName, p.FamilyName,
					p.DateOfBirth, p.CountryOfBirth, p.ANumber, p.Email+p.Phone, p.Language))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportCSVEquivalentToJSONL(t *testing.T) { forEachDB(t, testImportCSVEquivalentToJSONL) }

func testImportCSVEquivalentToJSONL(t *testing.T, db importDB) {
	ctx := context.Background()
	g := synth.New(synth.Options{Seed: 5, Now: importNow})
	var cases []synth.ImportCase
	var receipts []string
	var jsonl bytes.Buffer
	for i := 0; len(cases) < 150; i++ {
		c := g.Case(i)
		if slices.ContainsFunc(c.History, func(e synth.ImportEvent) bool { return e.Title != "" }) {
			continue
		}
		cases = append(cases, c)
		receipts = append(receipts, c.ReceiptNumber)
		jsonl.Write(synth.AppendJSON(nil, &c))
		jsonl.WriteByte('\n')
	}
	fromJSON, fromCSV := db.open(t), db.open(t)
	r1, err := newImporter(fromJSON).Import(ctx, &jsonl, "jsonl", "admin:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := newImporter(fromCSV).Import(ctx, bytes.NewReader(toCSV(t, cases)), "csv", "admin:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Created != 150 || r2.Created != 150 || len(r1.Rejected)+len(r2.Rejected) > 0 {
		t.Fatalf("JSONL %+v, CSV %+v", r1, r2)
	}
	a, b := dump(t, fromJSON, receipts), dump(t, fromCSV, receipts)
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("stores differ:\nJSONL %s\nCSV   %s", a[i], b[i])
			}
		}
		t.Fatalf("stores differ in length: %d and %d", len(a), len(b))
	}
	// CSV re-import is idempotent too.
	r3, err := newImporter(fromCSV).Import(ctx, bytes.NewReader(toCSV(t, cases)), "csv", "admin:test", nil)
	if err != nil || r3.Created != 0 || r3.Updated != 0 {
		t.Fatalf("CSV re-import: %+v, %v", r3, err)
	}
}

func BenchmarkImport(b *testing.B) {
	data := synthJSONL(b, 10_000)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		st := newImportStore(b)
		b.StartTimer()
		res, err := (&Importer{Store: st, Keys: importKeys()}).Import(ctx, bytes.NewReader(data), "jsonl", "admin:bench", nil)
		if err != nil || res.Created != 10_000 {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "cases/s")
}

// TestImportReasonsSayWhy: a store error with a message key, not English
// text (the database unavailable, a row not found), still gives an import
// line a reason to show the operator.
func TestImportReasonsSayWhy(t *testing.T) {
	for _, err := range []error{
		casegate.NewError(casegate.EUnavailable, "error.unavailable"),
		casegate.ErrNotFound,
		&casegate.Error{Code: casegate.EConflict, Message: "receipt number IOE0000000001 given twice"},
	} {
		if r := storeReason(err); r == "" {
			t.Errorf("storeReason(%v) is empty", err)
		}
		if r := importReason(err); r == "" {
			t.Errorf("importReason(%v) is empty", err)
		}
	}
}
