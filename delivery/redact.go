package delivery

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxErrorLen bounds the provider text kept in last_error.
const maxErrorLen = 500

var (
	emailPattern = regexp.MustCompile(`[^\s<>()\[\]"',;:]+@[^\s<>()\[\]"',;:]+`)
	// A phone number written with separators ("+1 (555) 555-0123") or any
	// run of six or more digits; shorter numbers such as SMTP reply codes stay.
	numberPattern = regexp.MustCompile(`\+?\d[\d \-()]{4,}\d`)
)

// Redact removes from provider error text what may identify a person or
// carry a secret: email addresses, numbers of six digits or more (phone
// numbers, also written with spaces or dashes), and the given secrets (an
// access code in canonical and display form). It also caps the length.
func Redact(text string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[code]")
		}
	}
	text = emailPattern.ReplaceAllString(text, "[email]")
	text = numberPattern.ReplaceAllStringFunc(text, func(m string) string {
		digits := 0
		for _, c := range m {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		if digits < 6 {
			return m
		}
		return "[number]"
	})
	if len(text) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}
