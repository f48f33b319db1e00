package synth

import (
	"bufio"
	"fmt"
	"io"
	"unicode/utf8"
)

// progressEvery is how many cases Write writes between progress calls.
const progressEvery = 10_000

// Write writes n cases as JSON Lines to w, one case per line, in the order
// 0 … n-1. progress, when not nil, is called every 10 000 cases and at the end
// with the number written so far.
func Write(w io.Writer, n int, opts Options, progress func(done int)) error {
	if n < 0 || n > MaxCases {
		return fmt.Errorf("synth: cannot write %d cases (at most %d)", n, MaxCases)
	}
	g := New(opts)
	bw := bufio.NewWriterSize(w, 256<<10)
	buf := make([]byte, 0, 4096)
	for i := range n {
		c := g.Case(i)
		buf = AppendJSON(buf[:0], &c)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("synth: write: %w", err)
		}
		if progress != nil && (i+1)%progressEvery == 0 {
			progress(i + 1)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("synth: write: %w", err)
	}
	if progress != nil && n%progressEvery != 0 {
		progress(n)
	}
	return nil
}

// AppendJSON appends c as one line of JSON, byte for byte what
// encoding/json.Marshal produces, without its reflection cost.
func AppendJSON(b []byte, c *ImportCase) []byte {
	b = append(b, `{"receipt_number":`...)
	b = appendString(b, c.ReceiptNumber)
	b = append(b, `,"form_type":`...)
	b = appendString(b, c.FormType)
	if c.Category != "" {
		b = append(b, `,"category":`...)
		b = appendString(b, c.Category)
	}
	b = append(b, `,"office":`...)
	b = appendString(b, c.Office)
	b = append(b, `,"received_on":`...)
	b = appendString(b, c.ReceivedOn)
	if len(c.History) > 0 {
		b = append(b, `,"history":[`...)
		for k, e := range c.History {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"status":`...)
			b = appendString(b, e.Status)
			if e.Title != "" {
				b = append(b, `,"title":`...)
				b = appendString(b, e.Title)
			}
			b = append(b, `,"at":`...)
			b = appendString(b, e.At)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"parties":`...)
	if c.Parties == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for k := range c.Parties {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendParty(b, &c.Parties[k])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendParty(b []byte, p *ImportParty) []byte {
	b = append(b, `{"role":`...)
	b = appendString(b, p.Role)
	b = append(b, `,"given_name":`...)
	b = appendString(b, p.GivenName)
	b = append(b, `,"family_name":`...)
	b = appendString(b, p.FamilyName)
	b = append(b, `,"date_of_birth":`...)
	b = appendString(b, p.DateOfBirth)
	b = append(b, `,"country_of_birth":`...)
	b = appendString(b, p.CountryOfBirth)
	for _, f := range [...]struct{ key, value string }{
		{`,"a_number":`, p.ANumber},
		{`,"email":`, p.Email},
		{`,"phone":`, p.Phone},
		{`,"language":`, p.Language},
	} {
		if f.value != "" {
			b = append(b, f.key...)
			b = appendString(b, f.value)
		}
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does: HTML
// characters, control characters, U+2028 and U+2029 escaped, invalid UTF-8
// replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
