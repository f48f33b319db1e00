package portal

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/synth"
)

// importOneByOne loads lines as an import did before batches were written
// many rows per statement: each case on its own, a statement at a time, in
// its own transaction. It is the reference the batched import must match.
func importOneByOne(t *testing.T, st casegate.Store, lines []string) (created, updated int) {
	t.Helper()
	ctx := context.Background()
	for i, line := range lines {
		pc, err := caseimport.ParseJSONLine([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var c, u bool
		if err := st.Update(ctx, func(tx casegate.Tx) error {
			var err error
			c, u, _, err = upsertCase(ctx, tx, &pc)
			return err
		}); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		created, updated = created+b2i(c), updated+b2i(u)
	}
	return created, updated
}

// snapshot returns every case of receipts with its history, and its parties
// with their roles, each party named by the order in which it first appears:
// two stores that agree on the snapshot hold the same cases and the same
// people, shared between cases the same way, whatever their ids.
func snapshot(t *testing.T, st casegate.Store, receipts []string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	people := map[int64]int{}
	err := st.View(ctx, func(tx casegate.Tx) error {
		for _, r := range receipts {
			c, err := tx.CaseByReceipt(ctx, r)
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
			var ps []string
			for _, l := range links {
				p, err := tx.Party(ctx, l.PartyID)
				if err != nil {
					return err
				}
				if _, ok := people[p.ID]; !ok {
					people[p.ID] = len(people)
				}
				n := people[p.ID]
				p.ID = 0
				ps = append(ps, fmt.Sprintf("person %d as %s: %+v", n, l.Role, p))
			}
			slices.Sort(ps)
			out = append(out, ps...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// importRounds are files that load new cases and cases on file in the same
// batches: repeated receipt numbers, a person named on several cases by
// A-Number with new details, people told apart by name and birth date.
func importRounds(t *testing.T) (rounds [][]string, receipts []string) {
	g := synth.New(synth.Options{Seed: 11, Now: importNow})
	line := func(c synth.ImportCase) string { return string(synth.AppendJSON(nil, &c)) }
	var first, second []string
	for i := range 240 {
		c := g.Case(i)
		receipts = append(receipts, c.ReceiptNumber)
		first = append(first, line(c))
		switch i % 6 {
		case 1: // the same case again at once, with one more event and a new email
			c.History = append(c.History, synth.ImportEvent{Status: "transferred", At: "2025-05-30T10:00:00Z"})
			c.Parties[0].Email = fmt.Sprintf("again%d@example.com", i)
			first = append(first, line(c))
		case 2: // a new case for a person of this one, by A-Number, with a new phone
			if c.Parties[0].ANumber == "" {
				c.Parties[0].ANumber = fmt.Sprintf("A%09d", 900000+i)
				first[len(first)-1] = line(c)
			}
			n := c
			n.ReceiptNumber = fmt.Sprintf("IOE99%08d", i)
			n.Parties = []synth.ImportParty{c.Parties[0]}
			n.Parties[0].Phone = "+12015550199"
			n.Parties[0].Role = "beneficiary"
			receipts = append(receipts, n.ReceiptNumber)
			first = append(first, line(n))
			// And a third case for her, with another email: it must see the new phone.
			n.ReceiptNumber = fmt.Sprintf("IOE98%08d", i)
			n.Parties[0].Phone, n.Parties[0].Email = "", fmt.Sprintf("third%d@example.com", i)
			receipts = append(receipts, n.ReceiptNumber)
			first = append(first, line(n))
		case 3: // two people of one name, one born a day later, and the first again
			p := c.Parties[0]
			p.ANumber, p.Role = "", "petitioner"
			twin := p
			dob, err := time.Parse(time.DateOnly, p.DateOfBirth)
			if err != nil {
				t.Fatal(err)
			}
			twin.DateOfBirth = dob.AddDate(0, 0, 1).Format(time.DateOnly)
			c.Parties = append(c.Parties, p, twin, p)
			first[len(first)-1] = line(c)
		}
		// In the second round every third case comes back changed, among new ones.
		if i%3 == 0 {
			c.Office = "TSC"
			last := &c.Parties[len(c.Parties)-1]
			last.Language = "es"
			if last.ANumber == "" {
				last.ANumber = fmt.Sprintf("A%09d", 800000+i)
			}
			lastParty := *last
			// A new person comes first on a new case, then on this one.
			m := g.Case(3000 + i)
			y := m.Parties[0]
			y.ANumber, y.Role = fmt.Sprintf("A%09d", 700000+i), "petitioner"
			m.Parties = []synth.ImportParty{y}
			receipts = append(receipts, m.ReceiptNumber)
			second = append(second, line(m))
			c.Parties = append(c.Parties, y)
			second = append(second, line(c))
			// A new case names that person by A-Number: it must see the change.
			n := g.Case(2000 + i)
			p := lastParty
			p.Email, p.Role = fmt.Sprintf("later%d@example.com", i), "beneficiary"
			n.Parties = append(n.Parties, p)
			receipts = append(receipts, n.ReceiptNumber)
			second = append(second, line(n))
		}
		n := g.Case(1000 + i)
		receipts = append(receipts, n.ReceiptNumber)
		second = append(second, line(n))
	}
	return [][]string{first, second}, receipts
}

func TestImportBatchesLoadAsLineByLine(t *testing.T) { forEachDB(t, testImportBatchesLoadAsLineByLine) }

func testImportBatchesLoadAsLineByLine(t *testing.T, db importDB) {
	ctx := context.Background()
	rounds, receipts := importRounds(t)
	batched, reference := db.open(t), db.open(t)
	for k, lines := range rounds {
		res, err := newImporter(batched).Import(ctx, strings.NewReader(strings.Join(lines, "\n")), "jsonl", "admin:test", nil)
		if err != nil || len(res.Rejected) > 0 {
			t.Fatalf("round %d: %v %+v", k+1, err, res.Rejected)
		}
		created, updated := importOneByOne(t, reference, lines)
		if res.Created != created || res.Updated != updated {
			t.Errorf("round %d: batched created %d updated %d; one by one %d and %d", k+1, res.Created, res.Updated, created, updated)
		}
		if created == 0 || (k > 0 && updated == 0) {
			t.Errorf("round %d: created %d updated %d: the test loads too little", k+1, created, updated)
		}
	}
	on := func(st casegate.Store) []string {
		var have []string
		for _, r := range receipts {
			if err := st.View(ctx, func(tx casegate.Tx) error { _, err := tx.CaseByReceipt(ctx, r); return err }); err == nil {
				have = append(have, r)
			}
		}
		return snapshot(t, st, have)
	}
	a, b := on(batched), on(reference)
	if len(a) != len(b) {
		t.Fatalf("batched store has %d rows of snapshot, one by one %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("stores differ:\nbatched    %s\none by one %s", a[i], b[i])
		}
	}
}

// TestImportPipelineKeepsLineOrder imports a file of many chunks with bad
// lines among them: every case loads, and rejections and progress name the
// lines of the file.
func TestImportPipelineKeepsLineOrder(t *testing.T) {
	st := newImportStore(t)
	lines := strings.Split(strings.TrimSpace(string(synthJSONL(t, 1500))), "\n")
	var file []string
	var bad []int
	for i, l := range lines {
		if i%97 == 5 {
			file = append(file, `{"receipt_number":"bad"}`)
			bad = append(bad, len(file))
		}
		if i%250 == 0 {
			file = append(file, "")
		}
		file = append(file, l)
	}
	var last ImportProgress
	im := newImporter(st)
	im.BatchSize = 300
	res, err := im.Import(context.Background(), bytes.NewReader([]byte(strings.Join(file, "\n"))), "jsonl", "admin:test",
		func(p ImportProgress) {
			if p.Lines < last.Lines || p.Created < last.Created {
				t.Errorf("progress went back: %+v after %+v", p, last)
			}
			last = p
		})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, r := range res.Rejected {
		got = append(got, r.Line)
	}
	if res.Created != 1500 || !slices.Equal(got, bad) {
		t.Errorf("created %d, rejected lines %v, want 1500 and %v", res.Created, got, bad)
	}
	if last != (ImportProgress{Lines: len(file), Created: 1500, Rejected: len(bad)}) {
		t.Errorf("last progress %+v", last)
	}
}
