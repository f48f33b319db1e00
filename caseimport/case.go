// Package caseimport reads the files operators load cases from: JSON Lines
// (one case per line) and CSV (rows gathered into cases). It checks every
// value and puts it in canonical form, and says in plain words, naming the
// field, what is wrong with a line. It reads from an io.Reader and touches
// nothing else: how an imported case merges with what is on file is
// portal's (docs/import.md has both).
package caseimport

import (
	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// MaxLine is the longest line of a JSON Lines import, and the longest
// physical line of a CSV import, in bytes.
const MaxLine = 1 << 20

// Lengths of the free-text fields of an import, in bytes.
const (
	maxFormType = 40
	maxText     = 200 // office, category, event title
	maxStatus   = 40
)

// Case is one case of an import, checked, with every value in canonical form.
type Case struct {
	// Case holds the receipt number, form type, category (empty: leave the
	// stored one), office, received date and the history in the order given.
	// IDs are not set.
	Case    casegate.Case
	Parties []Party
}

// Party is one person named on an imported case. Empty optional fields
// were not given: an import leaves the stored values as they are.
type Party struct {
	Role           casegate.Role
	GivenName      string // trimmed, white space collapsed, NFC
	FamilyName     string
	DateOfBirth    string // YYYY-MM-DD
	CountryOfBirth string // ISO 3166-1 alpha-2
	ANumber        string // "A" + 9 digits, or empty
	Email          string // or empty
	Phone          string // E.164, or empty; a line gives at least one of email and phone
	Language       string // a catalog language as the catalog writes it, or empty (a new party gets "en")
	// PhoneKind is what kind of line Phone is; empty without a phone. The
	// importer keeps only phones that can be texted (portal).
	PhoneKind identity.PhoneKind
	// Row is, in a CSV import, the line of the party's row; 0 in JSON Lines,
	// where the party is on its case's line.
	Row int
}

// Rejection is one line that was not loaded, with the reason.
type Rejection struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// PartyField names field of party i of a JSON Lines case as a reason names
// it: "parties[2].phone".
func PartyField(i int, field string) string {
	return itemPrefix(&partyPrefixes, "parties", i) + field
}
