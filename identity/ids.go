package identity

import (
	"strings"
	"unicode"
)

// ReceiptNumber returns the canonical receipt number in s: three upper-case
// letters and ten digits, like IOE0912345678. Letters may be typed in either
// case, and spaces, dashes and asterisks (as printed on some notices) are
// ignored. Only ASCII letters and digits count.
func ReceiptNumber(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrReceiptNumber
	}
	var b strings.Builder
	b.Grow(13)
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case isDash(r), unicode.IsSpace(r), r == '*':
		default:
			return "", ErrReceiptNumber
		}
	}
	out := b.String()
	if len(out) != 13 || !allIn(out[:3], 'A', 'Z') || !allIn(out[3:], '0', '9') {
		return "", ErrReceiptNumber
	}
	return out, nil
}

// ANumber returns the canonical A-Number in s: "A" and nine digits, with
// leading zeros added to the 7 to 9 digits typed (A12345678 is A012345678).
// A leading A or a, dashes and spaces are ignored. An all-zero number is
// refused: it is a placeholder, not anyone's number.
func ANumber(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrANumber
	}
	s = strings.TrimSpace(s)
	if len(s) > 0 && (s[0] == 'A' || s[0] == 'a') {
		s = s[1:]
	}
	digits := make([]byte, 0, 9)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if len(digits) == 9 {
				return "", ErrANumber
			}
			digits = append(digits, byte(r))
		case isDash(r), unicode.IsSpace(r):
		default:
			return "", ErrANumber
		}
	}
	if len(digits) < 7 || allIn(string(digits), '0', '0') {
		return "", ErrANumber
	}
	return "A" + strings.Repeat("0", 9-len(digits)) + string(digits), nil
}

// isDash reports whether r is a hyphen or dash of any kind (-, ‐, –, —, …).
func isDash(r rune) bool { return r == '-' || unicode.Is(unicode.Pd, r) }

// allIn reports whether every byte of s lies in [lo, hi].
func allIn(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return true
}
