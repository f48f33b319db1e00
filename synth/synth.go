// Package synth makes realistic synthetic cases for demos, tests and load
// tests: receipt numbers, forms, offices and histories shaped like those of a
// national immigration agency, and people with names from many cultures.
//
// Every value is fictional: emails are at example.com, example.org and
// example.net; phone numbers are in the 555-01xx range reserved for fiction
// (or +52 55 5555 xxxx). The i-th case depends only on the seed, Now and i, so
// a load generator can regenerate the identity behind any case cheaply.
package synth

import (
	"time"
)

// ImportCase is one case as a line of the JSON Lines import (DESIGN §12).
type ImportCase struct {
	ReceiptNumber string        `json:"receipt_number"`
	FormType      string        `json:"form_type"`
	Category      string        `json:"category,omitempty"`
	Office        string        `json:"office"`
	ReceivedOn    string        `json:"received_on"` // YYYY-MM-DD
	History       []ImportEvent `json:"history,omitempty"`
	Parties       []ImportParty `json:"parties"`
}

// ImportEvent is one status event of an imported case's history.
type ImportEvent struct {
	Status string `json:"status"`
	Title  string `json:"title,omitempty"`
	At     string `json:"at"` // RFC 3339, UTC
}

// ImportParty is one person linked to an imported case.
type ImportParty struct {
	Role           string `json:"role"`
	GivenName      string `json:"given_name"`
	FamilyName     string `json:"family_name"`
	DateOfBirth    string `json:"date_of_birth"`
	CountryOfBirth string `json:"country_of_birth"`
	ANumber        string `json:"a_number,omitempty"`
	Email          string `json:"email,omitempty"`
	Phone          string `json:"phone,omitempty"`
	Language       string `json:"language,omitempty"`
}

// Options configure a Generator. The same options give the same cases.
type Options struct {
	Seed int64
	Now  time.Time // cases are received in the three years before Now; zero means the current day at 12:00 UTC
}

// MaxCases is how many cases a seed can generate with unique receipt numbers.
const MaxCases = 100_000_000

// Generator makes cases. It holds no mutable state and is safe for concurrent use.
type Generator struct {
	seed  uint64
	now   time.Time
	today time.Time // now's date at 00:00 UTC
	b8    uint64    // receipt permutation offset
	b9    uint64    // A-Number permutation offset
}

// New returns a Generator for opts.
func New(opts Options) *Generator {
	now := opts.Now.UTC()
	if opts.Now.IsZero() {
		now = time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	}
	s := mix64(uint64(opts.Seed) ^ 0x5eed5eed5eed5eed)
	return &Generator{
		seed:  s,
		now:   now,
		today: now.Truncate(24 * time.Hour),
		b8:    mix64(s^1) % 100_000_000,
		b9:    mix64(s^2) % 1_000_000_000,
	}
}

// Salts keep the random streams of a case, a block of cases and a person apart.
const (
	saltCase uint64 = iota + 1
	saltBlock
	saltPerson
)

// bundleForms are filed together by one applicant: adjustment of status with
// a work permit and a travel document. The last three cases of some blocks of
// ten are such bundles.
var bundleForms = [3]string{"I-485", "I-765", "I-131"}

// Case returns the i-th case (0 ≤ i < MaxCases). It does not depend on any
// other case having been generated.
func (g *Generator) Case(i int) ImportCase {
	r := g.rng(saltCase, uint64(i))
	block := i / 10
	br := g.rng(saltBlock, uint64(block))
	bundled := i%10 >= 7 && br.chance(0.3)

	var (
		f        *form
		office   string
		category string
		age      int // days between receipt and today
		prefix   string
	)
	if bundled {
		f = formByCode(bundleForms[i%10-7])
		office = "NBC"
		age = br.between(2, 3*365)
		prefix = pick(&br, []string{"IOE", "IOE", "MSC", "NBC"})
		switch f.code {
		case "I-485":
			category = pick(&br, []string{"Family-based", "Family-based", "Employment-based"})
		case "I-765":
			category = "(c)(9) Pending adjustment of status"
		case "I-131":
			category = "Advance parole"
		}
	} else {
		f = formTable[r.intn(len(formTable))]
		office = pickFront(&r, f.offices)
		if !r.chance(0.05) {
			category = pickFront(&r, f.categories)
		}
		age = r.between(2, 3*365)
		prefix = g.prefix(&r, f, office)
	}
	received := g.today.AddDate(0, 0, -age)

	c := ImportCase{
		ReceiptNumber: g.receipt(prefix, received, i),
		FormType:      f.code,
		Category:      category,
		Office:        office,
		ReceivedOn:    string(appendDate(nil, received)),
	}
	c.History = g.history(&r, f, received, age)
	c.Parties = g.parties(&r, &br, f, category, i, bundled)
	return c
}

// prefix picks the receipt prefix: online filings get IOE, paper filings the
// prefix of the office's intake.
func (g *Generator) prefix(r *rng, f *form, office string) string {
	if f.online && r.chance(0.35) {
		return "IOE"
	}
	if p, ok := paperPrefixes[office]; ok {
		return pick(r, p)
	}
	return pick(r, []string{"NBC", "MSC"})
}

// receipt builds a receipt number: the prefix, the fiscal year of receipt and
// eight digits that are a permutation of i, so receipts are unique per seed.
func (g *Generator) receipt(prefix string, received time.Time, i int) string {
	fy := received.Year()
	if received.Month() >= time.October {
		fy++
	}
	b := make([]byte, 0, 13)
	b = append(b, prefix...)
	b = appendDigits(b, uint64(fy%100), 2)
	b = appendDigits(b, (uint64(i)%MaxCases*31_415_927+g.b8)%100_000_000, 8)
	return string(b)
}

// aNumber returns the A-Number of person slot: unique per slot below 10⁹.
func (g *Generator) aNumber(slot uint64) string {
	b := make([]byte, 0, 10)
	b = append(b, 'A')
	b = appendDigits(b, (slot%1_000_000_000*387_420_489+g.b9)%1_000_000_000, 9)
	return string(b)
}

// rng returns the random stream for (salt, n) under the generator's seed.
func (g *Generator) rng(salt, n uint64) rng {
	return rng{s: mix64(g.seed ^ mix64(salt*0x9E3779B97F4A7C15+n))}
}

// rng is SplitMix64: tiny, fast, and good enough for synthetic data.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	return mix64(r.s)
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance returns true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

func pick[T any](r *rng, list []T) T { return list[r.intn(len(list))] }

// pickFront picks from list favouring its first entries, as an agency's work
// gathers in a few offices and categories: the k-th of n (from 0) is picked
// with probability √((k+1)/n) − √(k/n), the first of six two times in five.
// Enough cases then share a group for its processing time to be published.
func pickFront[T any](r *rng, list []T) T {
	u := r.float()
	return list[int(u*u*float64(len(list)))]
}

// appendDigits appends v as exactly n decimal digits, zero-padded.
func appendDigits(b []byte, v uint64, n int) []byte {
	var buf [20]byte
	for k := n - 1; k >= 0; k-- {
		buf[k] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:n]...)
}

// appendDate appends t as YYYY-MM-DD.
func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = appendDigits(b, uint64(y), 4)
	b = append(b, '-')
	b = appendDigits(b, uint64(m), 2)
	b = append(b, '-')
	return appendDigits(b, uint64(d), 2)
}

// appendTime appends t in UTC as RFC 3339 with seconds: 2025-03-14T10:00:00Z.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = appendDate(b, t)
	h, m, s := t.Clock()
	b = append(b, 'T')
	b = appendDigits(b, uint64(h), 2)
	b = append(b, ':')
	b = appendDigits(b, uint64(m), 2)
	b = append(b, ':')
	b = appendDigits(b, uint64(s), 2)
	return append(b, 'Z')
}
