package delivery

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestMeasureSMS(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name     string
		text     string
		enc      SMSEncoding
		units    int
		segments int
	}{
		{"empty", "", EncodingGSM7, 0, 0},
		{"ascii", "Hello", EncodingGSM7, 5, 1},
		{"the whole default alphabet", gsmDefaultAlphabet, EncodingGSM7, 127, 1},
		{"the extension table counts 2 each", gsmExtension, EncodingGSM7, 20, 1},
		{"spanish in gsm", "¿Dónde?", EncodingUCS2, 7, 1}, // ó is not in GSM-7
		{"í forces ucs2 among gsm é ñ ¡ ¿", "¡Ingrésela, señor! ¿Sí?", EncodingUCS2, 23, 1},
		{"spanish without í", "¡Ingrésela, señor! ¿Ya?", EncodingGSM7, 23, 1},
		{"backtick is not gsm", "a`b", EncodingUCS2, 3, 1},
		{"lower ç is not gsm", "ç", EncodingUCS2, 1, 1},
		{"tab is not gsm", "a\tb", EncodingUCS2, 3, 1},
		{"gsm 160", r("a", 160), EncodingGSM7, 160, 1},
		{"gsm 161", r("a", 161), EncodingGSM7, 161, 2},
		{"gsm 306", r("a", 306), EncodingGSM7, 306, 2},
		{"gsm 307", r("a", 307), EncodingGSM7, 307, 3},
		{"gsm 159 + extension = 161", r("a", 159) + "€", EncodingGSM7, 161, 2},
		{"gsm 158 + extension = 160", r("a", 158) + "€", EncodingGSM7, 160, 1},
		// 152 septets, then an escape pair that would straddle the 153 boundary:
		// it moves whole to the second part.
		{"extension not split", r("a", 152) + "€" + r("a", 152), EncodingGSM7, 306, 3},
		{"extension fits at the end", r("a", 151) + "€" + r("a", 153), EncodingGSM7, 306, 2},
		{"ucs2 70", r("ó", 70), EncodingUCS2, 70, 1},
		{"ucs2 71", r("ó", 71), EncodingUCS2, 71, 2},
		{"ucs2 134", r("ó", 134), EncodingUCS2, 134, 2},
		{"ucs2 135", r("ó", 135), EncodingUCS2, 135, 3},
		{"one non-gsm char makes it all ucs2", r("a", 69) + "í", EncodingUCS2, 70, 1},
		{"emoji is a surrogate pair", "😀", EncodingUCS2, 2, 1},
		{"emoji 35 = 70 units", r("😀", 35), EncodingUCS2, 70, 1},
		{"emoji 36 = 72 units", r("😀", 36), EncodingUCS2, 72, 2},
		// 66 units, then a pair that would straddle 67: it moves whole.
		{"pair not split", r("ó", 66) + "😀" + r("ó", 66), EncodingUCS2, 134, 3},
		{"pair fits at the end", r("ó", 65) + "😀" + r("ó", 67), EncodingUCS2, 134, 2},
		{"extension chars in ucs2 count 1", "€ó", EncodingUCS2, 2, 1},
		{"invalid utf-8 is a replacement char", "a\xffb", EncodingUCS2, 3, 1},
	}
	for _, tt := range tests {
		got := MeasureSMS(tt.text)
		if got.Encoding != tt.enc || got.Units != tt.units || got.Segments != tt.segments {
			t.Errorf("%s: MeasureSMS = %+v, want %s %d units %d segments", tt.name, got, tt.enc, tt.units, tt.segments)
		}
	}
}

// gsmDefaultAlphabet is GSM 03.38's default alphabet in table order, 0x00 to
// 0x7F, without the escape at 0x1B; written with escapes so that no editor
// can change a character.
const gsmDefaultAlphabet = "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5" +
	"\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9" +
	" !\"#\u00a4%&'()*+,-./0123456789:;<=>?" +
	"\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7" +
	"\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"

// gsmExtension is the extension table's characters: each is sent as the
// escape and one more septet.
const gsmExtension = "\f^{}\\[~]|\u20ac"

// TestGSMAlphabetSize checks the table against the standard's counts: 128
// positions in the default alphabet less the escape, 9 printable characters
// of the extension table plus form feed.
func TestGSMAlphabetSize(t *testing.T) {
	basic, ext := 0, 0
	for r := rune(0); r < 0x3000; r++ {
		switch gsmWidth(r) {
		case 1:
			basic++
		case 2:
			ext++
		}
	}
	if basic != 127 || ext != 10 {
		t.Errorf("GSM-7 has %d basic and %d extension characters, want 127 and 10", basic, ext)
	}
	for _, r := range gsmDefaultAlphabet {
		if gsmWidth(r) != 1 {
			t.Errorf("%q (U+%04X) is in the default alphabet; width %d", r, r, gsmWidth(r))
		}
	}
	for _, r := range gsmExtension {
		if gsmWidth(r) != 2 {
			t.Errorf("%q is in the extension table; width %d", r, gsmWidth(r))
		}
	}
}

func FuzzMeasureSMS(f *testing.F) {
	for _, s := range []string{"", "Hello", "€{}", "¿Dónde?", "😀", strings.Repeat("a", 161), strings.Repeat("€", 80), "a\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := MeasureSMS(s)
		runes := utf8.RuneCountInString(s)
		switch got.Encoding {
		case EncodingGSM7:
			for _, r := range s {
				if gsmWidth(r) == 0 {
					t.Fatalf("%q: GSM-7 for a text with %q", s, r)
				}
			}
			if got.Units < runes || got.Units > 2*runes {
				t.Fatalf("%q: %d septets for %d characters", s, got.Units, runes)
			}
		case EncodingUCS2:
			if n := len(utf16.Encode([]rune(s))); got.Units != n {
				t.Fatalf("%q: %d units, want %d UTF-16 code units", s, got.Units, n)
			}
		default:
			t.Fatalf("%q: encoding %q", s, got.Encoding)
		}
		single, part := gsm7Single, gsm7Part
		if got.Encoding == EncodingUCS2 {
			single, part = ucs2Single, ucs2Part
		}
		switch {
		case got.Units == 0:
			if got.Segments != 0 {
				t.Fatalf("%q: %d segments for nothing", s, got.Segments)
			}
		case got.Units <= single:
			if got.Segments != 1 {
				t.Fatalf("%q: %d segments for %d units", s, got.Segments, got.Units)
			}
		default:
			// At least the plain division; at most one more per part for
			// characters moved whole to the next part.
			least := (got.Units + part - 1) / part
			if got.Segments < least || got.Segments > 2*least {
				t.Fatalf("%q: %d segments for %d units", s, got.Segments, got.Units)
			}
		}
	})
}
