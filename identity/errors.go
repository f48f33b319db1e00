package identity

import "github.com/casegate/casegate/catalog"

// FormatError is a value that is not in a form identity can read. Key names
// its message in the catalog; compare with errors.Is against the values below.
type FormatError struct {
	Key string
}

// Error is the message in English, for logs and operators' reports.
func (e *FormatError) Error() string { return catalog.English(e.Key, nil) }

// The format errors. Each message is a plain sentence fit to show beside the field.
var (
	ErrReceiptNumber = &FormatError{Key: "identity.receipt_number"}
	ErrANumber       = &FormatError{Key: "identity.a_number"}
	ErrDate          = &FormatError{Key: "identity.date"}
	ErrCountry       = &FormatError{Key: "identity.country"}
	ErrName          = &FormatError{Key: "identity.name"}
	ErrEmail         = &FormatError{Key: "identity.email"}
	// ErrEmailInvisible refuses an address with a character nobody can see,
	// such as a line break or a zero-width space, usually brought by a paste.
	ErrEmailInvisible = &FormatError{Key: "identity.email_invisible"}
	ErrPhone          = &FormatError{Key: "identity.phone"}
)

// maxInput bounds the parsers of short values, so that a huge paste is refused
// before any work is done on it.
const maxInput = 100
