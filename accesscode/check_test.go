package accesscode

import (
	"strings"
	"testing"
)

// proofLengths are the code lengths the exhaustive proofs cover.
var proofLengths = []int{MinLength, DefaultLength, MaxLength}

// withCheck returns payload followed by its check symbol.
func withCheck(t *testing.T, payload []byte) string {
	t.Helper()
	c := CheckSymbol(string(payload))
	if c == 0 {
		t.Fatalf("CheckSymbol(%q) = 0 for a canonical payload", payload)
	}
	return string(payload) + string(c)
}

// set returns code with position i replaced by symbol value v.
func set(code string, i, v int) string {
	b := []byte(code)
	b[i] = Alphabet[v]
	return string(b)
}

// swap returns code with positions i and i+1 exchanged.
func swap(code string, i int) string {
	b := []byte(code)
	b[i], b[i+1] = b[i+1], b[i]
	return string(b)
}

func TestCheckSymbolKnownAnswers(t *testing.T) {
	// Small cases worked by hand pin the polynomial and a: codes already
	// issued must keep validating after any change to this package.
	tests := []struct {
		payload string
		want    byte
	}{
		{"", '0'},          // a·0 = 0
		{"1", '2'},         // state 1, a·1 = 2
		{"10", '4'},        // state a·1 ⊕ 0 = 2, a·2 = 4
		{"G", '5'},         // state 16, a·16 = x^5 = x^2 + 1 = 5
		{"000000000", '0'}, // all zero stays zero
		// Longer vectors computed by an independent implementation.
		{"K7M2Q9XH4", '8'},
		{"ZZZZZZZZZ", 'X'},
		{"0123456789ABCDE", '4'},
	}
	for _, tt := range tests {
		if got := CheckSymbol(tt.payload); got != tt.want {
			t.Errorf("CheckSymbol(%q) = %q, want %q", tt.payload, got, tt.want)
		}
		if !Valid(tt.payload+string(tt.want)) && len(tt.payload)+1 >= MinLength {
			t.Errorf("Valid(%q) = false", tt.payload+string(tt.want))
		}
	}
}

func TestCheckSymbolRejectsNonCanonical(t *testing.T) {
	for _, p := range []string{"k7m2q9xh4", "O", "I", "L", "U", "A-B", "É"} {
		if got := CheckSymbol(p); got != 0 {
			t.Errorf("CheckSymbol(%q) = %q, want 0", p, got)
		}
	}
}

func TestMulAIsPrimitive(t *testing.T) {
	// Powers of a must visit all 31 non-zero elements; that shows the
	// polynomial is primitive and mulA is a bijection on GF(32).
	seen := map[byte]bool{}
	x := byte(1)
	for range 31 {
		if seen[x] {
			t.Fatalf("a^k repeats %d before visiting all 31 elements", x)
		}
		seen[x] = true
		x = mulA[x]
	}
	if x != 1 || len(seen) != 31 {
		t.Fatalf("a^31 = %d, visited %d elements; want 1 and 31", x, len(seen))
	}
}

// TestCheckDetectsEverySubstitution proves, for each length, that changing any
// one symbol of a valid code to any other symbol gives an invalid code: for
// every position and every pair x ≠ y there is a valid code with x there, and
// putting y there is detected.
func TestCheckDetectsEverySubstitution(t *testing.T) {
	for _, n := range proofLengths {
		for _, base := range proofBases(t, n) {
			payload := []byte(base[:n-1])
			for pos := range n - 1 {
				for x := range 32 {
					p := append([]byte(nil), payload...)
					p[pos] = Alphabet[x]
					code := withCheck(t, p)
					for y := range 32 {
						if y != x && Valid(set(code, pos, y)) {
							t.Fatalf("length %d: %q with position %d changed to %c is still valid", n, code, pos, Alphabet[y])
						}
					}
				}
			}
			// The check position: every x is reached by varying the last
			// payload symbol, because the check is one-to-one in it.
			checks := map[byte]bool{}
			for last := range 32 {
				p := append([]byte(nil), payload...)
				p[n-2] = Alphabet[last]
				code := withCheck(t, p)
				checks[code[n-1]] = true
				for y := range 32 {
					if Alphabet[y] != code[n-1] && Valid(set(code, n-1, y)) {
						t.Fatalf("length %d: %q with the check symbol changed to %c is still valid", n, code, Alphabet[y])
					}
				}
			}
			if len(checks) != 32 {
				t.Fatalf("length %d: only %d check symbols reached", n, len(checks))
			}
		}
	}
}

// TestCheckDetectsEveryAdjacentTransposition proves, for each length, that
// swapping any two neighbouring distinct symbols of a valid code, the last
// payload symbol and the check symbol included, gives an invalid code, for
// all 32×32 pairs at every position.
func TestCheckDetectsEveryAdjacentTransposition(t *testing.T) {
	for _, n := range proofLengths {
		for _, base := range proofBases(t, n) {
			payload := []byte(base[:n-1])
			for pos := range n - 2 { // both symbols in the payload
				for x := range 32 {
					for y := range 32 {
						if x == y {
							continue
						}
						p := append([]byte(nil), payload...)
						p[pos], p[pos+1] = Alphabet[x], Alphabet[y]
						code := withCheck(t, p)
						if Valid(swap(code, pos)) {
							t.Fatalf("length %d: %q with positions %d,%d swapped is still valid", n, code, pos, pos+1)
						}
					}
				}
			}
			// Last payload symbol x and check symbol y: find the earlier
			// symbol that makes the check come out as y.
			for x := range 32 {
				for y := range 32 {
					if x == y {
						continue
					}
					code, ok := codeEndingIn(payload, x, y)
					if !ok {
						t.Fatalf("length %d: no valid code ends in %c%c", n, Alphabet[x], Alphabet[y])
					}
					if Valid(swap(code, n-2)) {
						t.Fatalf("length %d: %q with its last two symbols swapped is still valid", n, code)
					}
				}
			}
		}
	}
}

// codeEndingIn varies the second-to-last payload symbol until the code built
// on payload ends in the symbols x, y (last payload symbol, check symbol).
func codeEndingIn(payload []byte, x, y int) (string, bool) {
	n := len(payload) + 1
	p := append([]byte(nil), payload...)
	p[n-2] = Alphabet[x]
	for v := range 32 {
		p[n-3] = Alphabet[v]
		if CheckSymbol(string(p)) == Alphabet[y] {
			return string(p) + string(Alphabet[y]), true
		}
	}
	return "", false
}

// proofBases returns fixed and random valid codes of length n.
func proofBases(t *testing.T, n int) []string {
	t.Helper()
	bases := []string{
		withCheck(t, []byte(strings.Repeat("0", n-1))),
		withCheck(t, []byte(strings.Repeat("Z", n-1))),
	}
	for range 3 {
		code, err := Generate(n)
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, code)
	}
	return bases
}
