package accesscode

// The check symbol is a Damm check over the quasigroup x∘y = a·x ⊕ y of order
// 32, where · and ⊕ are multiplication and addition in GF(32) built on the
// primitive polynomial x^5 + x^2 + 1, and a = 2 (the element x).
//
// Why it catches every single substitution: the state after a symbol is
// a·s ⊕ d, which is one-to-one in d, and every later step a·s ⊕ d is
// one-to-one in s, so a different symbol anywhere gives a different final
// state. Why it catches every adjacent transposition: from state s, the pair
// (x, y) leads to a²s ⊕ a·x ⊕ y and (y, x) to a²s ⊕ a·y ⊕ x; these are equal
// only when (a ⊕ 1)·x = (a ⊕ 1)·y, that is x = y, because a ≠ 1. The check
// symbol is the c with a·s ⊕ c = 0, so a valid code ends in state 0 and the
// check symbol takes part in both arguments like any other symbol.
//
// Changing the polynomial or a would invalidate every code already issued.

// gfPoly is x^5 + x^2 + 1, a primitive polynomial over GF(2).
const gfPoly = 0b100101

// mulA is multiplication by a = 2 in GF(32).
var mulA = func() (t [32]byte) {
	for x := range t {
		y := x << 1
		if y&0b100000 != 0 {
			y ^= gfPoly
		}
		t[x] = byte(y)
	}
	return t
}()

// symbolValue maps a canonical symbol to its value 0–31, and every other byte to -1.
var symbolValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for v := range len(Alphabet) {
		t[Alphabet[v]] = int8(v)
	}
	return t
}()

// dammState runs the quasigroup over canonical symbols from state 0. It
// reports false if s holds a byte outside the Alphabet.
func dammState(s string) (byte, bool) {
	var state byte
	for i := range len(s) {
		v := symbolValue[s[i]]
		if v < 0 {
			return 0, false
		}
		state = mulA[state] ^ byte(v)
	}
	return state, true
}

// CheckSymbol returns the check symbol (a byte of Alphabet) for a payload of
// canonical symbols, so that payload followed by it is a valid code. It returns
// 0 if payload holds a byte outside the Alphabet.
func CheckSymbol(payload string) byte {
	state, ok := dammState(payload)
	if !ok {
		return 0
	}
	return Alphabet[mulA[state]]
}
