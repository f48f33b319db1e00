package delivery

import "unicode/utf16"

// SMSEncoding is how a text message's characters travel.
type SMSEncoding string

// The encodings of a text message.
const (
	// EncodingGSM7 packs characters of the GSM 03.38 default alphabet into
	// 7 bits; a character of its extension table takes two septets.
	EncodingGSM7 SMSEncoding = "gsm7"
	// EncodingUCS2 sends UTF-16 code units of 16 bits; a character outside
	// the Basic Multilingual Plane (most emoji) takes two.
	EncodingUCS2 SMSEncoding = "ucs2"
)

// Segment sizes: one message alone, and each part of a concatenated one
// (the user data header of concatenation takes 6 bytes of the 140).
const (
	gsm7Single = 160 // septets
	gsm7Part   = 153
	ucs2Single = 70 // code units
	ucs2Part   = 67
)

// SMSSize is how a text travels as SMS.
type SMSSize struct {
	Encoding SMSEncoding
	Units    int // septets for GSM-7, UTF-16 code units for UCS-2
	Segments int // messages the network carries and providers bill; 0 for an empty text
}

// MeasureSMS returns the encoding text needs (GSM-7 when every character is
// in the GSM 03.38 default alphabet or its extension table, else UCS-2), its
// length in that encoding, and how many segments it takes. Parts of a long
// message never split an extension character's escape from it, or a
// surrogate pair, so those can add a segment.
func MeasureSMS(text string) SMSSize {
	gsm := true
	for _, r := range text {
		if gsmWidth(r) == 0 {
			gsm = false
			break
		}
	}
	width, single, part, enc := gsmWidth, gsm7Single, gsm7Part, EncodingGSM7
	if !gsm {
		width, single, part, enc = ucs2Width, ucs2Single, ucs2Part, EncodingUCS2
	}
	units := 0
	for _, r := range text {
		units += width(r)
	}
	size := SMSSize{Encoding: enc, Units: units}
	switch {
	case units == 0:
	case units <= single:
		size.Segments = 1
	default:
		// Fill parts greedily; a character that does not fit whole starts the next.
		size.Segments = 1
		used := 0
		for _, r := range text {
			w := width(r)
			if used+w > part {
				size.Segments++
				used = 0
			}
			used += w
		}
	}
	return size
}

// ucs2Width is the UTF-16 code units r takes.
func ucs2Width(r rune) int {
	if utf16.RuneLen(r) == 2 {
		return 2
	}
	return 1
}

// gsmWidth is the septets r takes in GSM-7: 1 in the default alphabet, 2 in
// the extension table (an escape, then the character), 0 when GSM-7 cannot
// carry it.
func gsmWidth(r rune) int {
	if r < 0x80 {
		return int(gsmASCII[r])
	}
	switch r {
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å',
		'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ',
		'Æ', 'æ', 'ß', 'É', '¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§', '¿', 'ä', 'ö', 'ñ', 'ü', 'à':
		return 1
	case '€':
		return 2
	}
	return 0
}

// gsmASCII is gsmWidth for the ASCII range. Of the printable ASCII
// characters only ` is missing from GSM-7; ^ { } \ [ ~ ] | and form feed
// are in the extension table. Of the controls only line feed and carriage
// return are characters of the default alphabet.
var gsmASCII = func() (t [0x80]uint8) {
	for c := ' '; c <= '~'; c++ {
		t[c] = 1
	}
	t['\n'], t['\r'] = 1, 1
	t['`'] = 0
	for _, c := range "^{}\\[~]|\f" {
		t[c] = 2
	}
	return t
}()
