package accesscode

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	for n := MinLength; n <= MaxLength; n++ {
		code, err := Generate(n)
		if err != nil {
			t.Fatalf("Generate(%d): %v", n, err)
		}
		if len(code) != n {
			t.Errorf("Generate(%d) = %q, length %d", n, code, len(code))
		}
		if strings.Trim(code, Alphabet) != "" {
			t.Errorf("Generate(%d) = %q, symbols outside the alphabet", n, code)
		}
		if !Valid(code) {
			t.Errorf("Generate(%d) = %q, not Valid", n, code)
		}
	}
}

func TestGenerateRejectsLength(t *testing.T) {
	for _, n := range []int{-1, 0, MinLength - 1, MaxLength + 1} {
		if code, err := Generate(n); err == nil {
			t.Errorf("Generate(%d) = %q, want an error", n, code)
		}
	}
}

func TestGenerateReadError(t *testing.T) {
	if _, err := generate(bytes.NewReader([]byte{1, 2}), DefaultLength); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("generate from a short reader: %v, want ErrUnexpectedEOF", err)
	}
}

// chiSquare is Pearson's statistic of counts against a uniform distribution.
func chiSquare(counts [32]int) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	want := float64(total) / 32
	var chi float64
	for _, c := range counts {
		d := float64(c) - want
		chi += d * d / want
	}
	return chi
}

// chiSquareBound is far beyond chance for 31 degrees of freedom (mean 31,
// p < 1e-9), yet a generator missing one symbol in 100k scores over 3000.
const chiSquareBound = 120

// payloadCounts counts the payload symbols of codes from gen until total symbols.
func payloadCounts(t *testing.T, gen func() (string, error), total int) [32]int {
	t.Helper()
	var counts [32]int
	for n := 0; n < total; {
		code, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(code) - 1 {
			counts[symbolValue[code[i]]]++
			n++
		}
	}
	return counts
}

func TestGenerateDistribution(t *testing.T) {
	counts := payloadCounts(t, func() (string, error) { return Generate(DefaultLength) }, 100_000)
	if chi := chiSquare(counts); chi > chiSquareBound {
		t.Errorf("chi-square %.1f over %d, counts %v", chi, chiSquareBound, counts)
	}
}

// TestDistributionCheckCatchesBias shows the bound above fails broken
// generators: one that never emits 'Z' and one with modulo bias.
func TestDistributionCheckCatchesBias(t *testing.T) {
	broken := map[string]io.Reader{
		"never Z":     readerFunc(func(b []byte) { _, _ = io.ReadFull(rand.Reader, b); mapBytes(b, func(c byte) byte { return c % 31 }) }),
		"modulo bias": readerFunc(func(b []byte) { _, _ = io.ReadFull(rand.Reader, b); mapBytes(b, func(c byte) byte { return c % 40 }) }),
	}
	for name, r := range broken {
		counts := payloadCounts(t, func() (string, error) { return generate(r, DefaultLength) }, 100_000)
		if chi := chiSquare(counts); chi <= chiSquareBound {
			t.Errorf("%s: chi-square %.1f within the bound; the distribution test could not fail", name, chi)
		}
	}
}

type readerFunc func([]byte)

func (f readerFunc) Read(b []byte) (int, error) { f(b); return len(b), nil }

func mapBytes(b []byte, f func(byte) byte) {
	for i := range b {
		b[i] = f(b[i])
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct{ in, want string }{
		{"K7M2Q9XH4R", "K7M2Q-9XH4R"},
		{"K7M2Q9XH4", "K7M2Q-9XH4"},
		{"ABCDEFGH", "ABCD-EFGH"},
		{"0123456789ABCDEF", "01234567-89ABCDEF"},
		{"A", "A"},
		{"", ""},
		{"K7M2Q-9XH4R", "K7M2Q-9XH4R"}, // not canonical: unchanged
		{"ÉÉÉÉ", "ÉÉÉÉ"},
	}
	for _, tt := range tests {
		if got := Display(tt.in); got != tt.want {
			t.Errorf("Display(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValid(t *testing.T) {
	good := "K7M2Q9XH48" // check symbol from TestCheckSymbolKnownAnswers
	tests := []struct {
		in   string
		want bool
	}{
		{good, true},
		{"K7M2Q9XH49", false},  // wrong check
		{"k7m2q9xh48", false},  // not canonical
		{"K7M2Q-9XH48", false}, // separator
		{"000000", false},      // valid check, too short
		{"00000000", true},
		{strings.Repeat("0", MaxLength+1), false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	const code = "K7M2Q9XH48"
	// "1O0IL0000" + check: exercises the O, I and L readings.
	mapped := "100110000" + string(CheckSymbol("100110000"))
	tests := []struct {
		name, in string
		length   int
		want     string
		err      error
	}{
		{"canonical", code, 10, code, nil},
		{"display form", "K7M2Q-9XH48", 10, code, nil},
		{"lower case", "k7m2q9xh48", 10, code, nil},
		{"mixed case and spaces", " k7M2q 9Xh4 8 ", 10, code, nil},
		{"several hyphens", "K7-M2Q--9XH-48", 10, code, nil},
		{"en dash", "K7M2Q–9XH48", 10, code, nil},
		{"em dash and minus", "K7M2Q—9XH−48", 10, code, nil},
		{"no-break space", "K7M2Q\u00A09XH48", 10, code, nil},
		{"narrow no-break space", "K7M2Q\u202F9XH48", 10, code, nil},
		{"zero-width space", "K7M2Q\u200B9XH48", 10, code, nil},
		{"tab and newline", "\tK7M2Q 9XH48\r\n", 10, code, nil},
		{"full width", "Ｋ７Ｍ２Ｑ－９ＸＨ４８", 10, code, nil},
		{"O I L", "1o0iL0000" + mapped[9:], 10, mapped, nil},
		{"upper O I L", "1O0IL0000" + mapped[9:], 10, mapped, nil},
		{"too short", "K7M2Q9XH4", 10, "", ErrLength},
		{"too long", "K7M2Q9XH48A", 10, "", ErrLength},
		{"empty", "", 10, "", ErrLength},
		{"only separators", " - – ", 10, "", ErrLength},
		{"huge", strings.Repeat("0", 10_000), 10, "", ErrLength},
		{"symbol U", "K7M2U9XH48", 10, "", ErrSymbol},
		{"lower u", "k7m2u9xh48", 10, "", ErrSymbol},
		{"punctuation", "K7M2Q.9XH48", 10, "", ErrSymbol},
		{"underscore", "K7M2Q_9XH48", 10, "", ErrSymbol},
		{"accented letter", "K7M2Q9XHÉ8", 10, "", ErrSymbol},
		{"dotless i", "K7M2Q9XHı8", 10, "", ErrSymbol},
		{"emoji", "K7M2Q9XH4🔑", 10, "", ErrSymbol},
		{"invalid utf-8", "K7M2Q9XH4\xff", 10, "", ErrSymbol},
		{"cyrillic look-alike", "K7M2Q9XН48", 10, "", ErrSymbol}, // Cyrillic Н
		{"typo", "K7M2Q9XH58", 10, "", ErrCheck},
		{"swapped neighbours", "K7M2Q9HX48", 10, "", ErrCheck},
		{"wrong check", "K7M2Q9XH49", 10, "", ErrCheck},
		{"length 8", "00000000", 8, "00000000", nil},
		{"length 16", strings.Repeat("0", 16), 16, strings.Repeat("0", 16), nil},
		{"length 16 too short", strings.Repeat("0", 15), 16, "", ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in, tt.length)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Parse(%q, %d) = %q, %v; want %q, %v", tt.in, tt.length, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseRejectsConfiguredLength(t *testing.T) {
	for _, n := range []int{0, MinLength - 1, MaxLength + 1} {
		_, err := Parse("00000000", n)
		if err == nil || errors.Is(err, ErrLength) || errors.Is(err, ErrSymbol) || errors.Is(err, ErrCheck) {
			t.Errorf("Parse with length %d: %v; want a configuration error, not a malformed code", n, err)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	for n := MinLength; n <= MaxLength; n++ {
		code, err := Generate(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{code, Display(code), strings.ToLower(Display(code))} {
			if got, err := Parse(in, n); got != code || err != nil {
				t.Errorf("Parse(%q, %d) = %q, %v; want %q", in, n, got, err, code)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"K7M2Q9XH48", "K7M2Q-9XH48", "k7m2q 9xh48", "1o0iL0000", "K7M2U9XH48", "Ｋ７Ｍ２Ｑ－９ＸＨ４８", "K7M2Q\u00A09XH48", "\xff", ""} {
		f.Add(s, DefaultLength)
	}
	f.Add("00000000", MinLength)
	f.Fuzz(func(t *testing.T, in string, length int) {
		out, err := Parse(in, length)
		if err != nil {
			if out != "" {
				t.Fatalf("Parse(%q) = %q with error %v", in, out, err)
			}
			return
		}
		if len(out) != length || !Valid(out) {
			t.Fatalf("Parse(%q, %d) = %q, not a valid code of that length", in, length, out)
		}
		if again, err := Parse(out, length); again != out || err != nil {
			t.Fatalf("Parse(%q) = %q, %v; want itself", out, again, err)
		}
		if again, err := Parse(Display(out), length); again != out || err != nil {
			t.Fatalf("Parse(Display(%q)) = %q, %v; want %q", out, again, err, out)
		}
	})
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(DefaultLength); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	in := "k7m2q-9xh48"
	for b.Loop() {
		if _, err := Parse(in, DefaultLength); err != nil {
			b.Fatal(err)
		}
	}
}
