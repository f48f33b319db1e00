// Package accesscode generates, formats, parses and checks one-time access
// codes, and holds the instance secrets that MAC, seal and tag them.
//
// A code is random symbols of Crockford's base32 followed by one check
// symbol that catches every single typo and every swap of neighbours, so a
// mistyped code is reported as malformed without using an attempt. The
// package is pure apart from crypto/rand.
package accesscode

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"unicode"
)

// Alphabet is Crockford's base32: digits and upper-case letters without I, L, O and U.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Code lengths, counted in symbols including the check symbol.
const (
	DefaultLength = 10
	MinLength     = 8
	MaxLength     = 16
)

// The ways an entered code can be malformed. Each means the input cannot be a
// code that was sent, so no attempt is used.
var (
	ErrLength = errors.New("accesscode: wrong number of symbols")
	ErrSymbol = errors.New("accesscode: symbol outside the alphabet")
	ErrCheck  = errors.New("accesscode: check symbol does not match (a typo)")
)

// maxInputBytes bounds the input Parse looks at; a code with a separator
// between every symbol still fits easily.
const maxInputBytes = 256

// checkLength reports a configured length outside MinLength–MaxLength. It is
// a programming or configuration error, not a malformed code.
func checkLength(length int) error {
	if length < MinLength || length > MaxLength {
		return fmt.Errorf("accesscode: code length %d is outside %d–%d", length, MinLength, MaxLength)
	}
	return nil
}

// Generate returns a new canonical code of length symbols: length-1 symbols
// from crypto/rand and a check symbol.
func Generate(length int) (string, error) {
	return generate(rand.Reader, length)
}

// generate draws symbols from r. Each symbol is the low 5 bits of one byte;
// 256 is a multiple of 32, so every symbol is equally likely.
func generate(r io.Reader, length int) (string, error) {
	if err := checkLength(length); err != nil {
		return "", err
	}
	var buf [MaxLength]byte
	code := buf[:length]
	if _, err := io.ReadFull(r, code[:length-1]); err != nil {
		return "", fmt.Errorf("accesscode: read random: %w", err)
	}
	for i := range length - 1 {
		code[i] = Alphabet[code[i]&31]
	}
	code[length-1] = CheckSymbol(string(code[:length-1]))
	return string(code), nil
}

// Display returns a canonical code as two groups joined by a hyphen, the first
// group taking the extra symbol when the length is odd: "K7M2Q-9XH4R". Other
// input is returned unchanged.
func Display(code string) string {
	if len(code) < 2 {
		return code
	}
	for i := range len(code) {
		if symbolValue[code[i]] < 0 {
			return code
		}
	}
	half := (len(code) + 1) / 2
	return code[:half] + "-" + code[half:]
}

// Valid reports whether code is a canonical code of an allowed length whose
// check symbol is right.
func Valid(code string) bool {
	if len(code) < MinLength || len(code) > MaxLength {
		return false
	}
	state, ok := dammState(code)
	return ok && state == 0
}

// Parse turns what a person typed into a canonical code of length symbols.
// It forgives case, spaces and hyphens (including no-break spaces, dashes and
// zero-width characters), full-width forms, and reads O as 0 and I and L as 1.
// A malformed input gives ErrLength, ErrSymbol or ErrCheck; a length outside
// MinLength–MaxLength gives another error.
func Parse(input string, length int) (string, error) {
	if err := checkLength(length); err != nil {
		return "", err
	}
	if len(input) > maxInputBytes {
		return "", fmt.Errorf("%w: the input is too long", ErrLength)
	}
	var buf [MaxLength]byte
	n := 0
	for _, r := range input {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		if ignored(r) {
			continue
		}
		v := parseValue(r)
		if v < 0 {
			return "", ErrSymbol
		}
		if n < len(buf) {
			buf[n] = Alphabet[v]
		}
		n++
	}
	if n != length {
		return "", fmt.Errorf("%w: got %d, want %d", ErrLength, n, length)
	}
	code := string(buf[:n])
	if !Valid(code) {
		return "", ErrCheck
	}
	return code, nil
}

// parseValue maps a typed rune to a symbol value, or -1.
func parseValue(r rune) int {
	if r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	switch r {
	case 'O':
		return 0
	case 'I', 'L':
		return 1
	}
	if r >= 0x80 {
		return -1
	}
	return int(symbolValue[r])
}

// ignored reports whether r is a separator or invisible character that Parse skips.
func ignored(r rune) bool {
	switch r {
	case '-',
		'\u00AD',                     // soft hyphen
		'\u2010', '\u2011', '\u2012', // hyphen, non-breaking hyphen, figure dash
		'\u2013', '\u2014', '\u2212', // en dash, em dash, minus sign
		'\u200B', '\u200C', '\u200D', // zero-width space, non-joiner, joiner
		'\u2060', '\uFEFF': // word joiner, byte order mark
		return true
	}
	return unicode.IsSpace(r) // includes no-break spaces
}
