package identity

import "errors"

// The format errors. Each message is a plain sentence fit to show beside the
// field; compare with errors.Is to show a localised one instead.
var (
	ErrReceiptNumber = errors.New("Enter the receipt number as 3 letters and 10 numbers, like IOE0912345678.")
	ErrANumber       = errors.New("Enter the A-Number as the letter A and 7 to 9 numbers, like A012345678.")
	ErrDate          = errors.New("Enter a real date as year-month-day or month/day/year, like 1990-04-02 or 04/02/1990.")
	ErrCountry       = errors.New("Enter the country by its name or its 2- or 3-letter code, like Mexico, MX or MEX.")
	ErrName          = errors.New("Enter the name in letters as it is written on your documents, in at most 200 characters.")
	ErrEmail         = errors.New("Enter the email address in the form name@example.com.")
	// ErrEmailInvisible refuses an address with a character nobody can see,
	// such as a line break or a zero-width space, usually brought by a paste.
	ErrEmailInvisible = errors.New("Enter the email address without line breaks or invisible characters, in the form name@example.com. If you pasted it, try typing it.")
	ErrPhone          = errors.New("Enter the phone number with a plus sign and the country code, like +1 555 555 0123.")
)

// maxInput bounds the parsers of short values, so that a huge paste is refused
// before any work is done on it.
const maxInput = 100
