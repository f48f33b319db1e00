package identity

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxNameLen is the longest name, in bytes, that Name accepts.
const MaxNameLen = 200

// foldChain is a pool of the transformer behind Tokens: compatibility
// decomposition, full case folding (ß to ss), decomposition again (folding may
// produce decomposable letters), removal of accents and invisible characters,
// then canonical composition so that scripts such as Hangul are kept in their
// usual composed form. Transformers hold state, hence the pool.
var foldChain = sync.Pool{New: func() any {
	return transform.Chain(norm.NFKD, cases.Fold(), norm.NFKD,
		runes.Remove(runes.Predicate(ignorable)), norm.NFC)
}}

// ignorable reports whether r is left out of a name altogether: combining
// accents (nonspacing and enclosing marks), invisible format and control
// characters, the Catalan middle dot (l·l) and the Arabic tatweel, which only
// stretches a word. Spacing marks (Mc) are kept: in scripts such as Devanagari
// they are vowels, not accents.
func ignorable(r rune) bool {
	switch {
	case r == '\u00b7', r == '\u0640':
		return true
	case unicode.IsSpace(r):
		return false
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc)
}

// latinFolds spells Latin letters that carry a stroke or are ligatures, which
// Unicode does not decompose, the way people type them without the mark
// (Łukasz is lukasz, Søren is soren, Đặng is dang). Keys are case-folded.
var latinFolds = map[rune]string{
	'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t",
}

// isSeparator reports whether r splits a name into tokens: anything but a
// letter, a digit or a (spacing) mark, so white space, hyphens, apostrophes,
// periods, commas, the katakana middle dot and symbols, and also the
// modifier-letter apostrophes ʼ and ʻ. U+FFFD, which stands for bytes that
// were not UTF-8, is kept as part of a word.
func isSeparator(r rune) bool {
	if r == 'ʼ' || r == 'ʻ' {
		return true
	}
	return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) && r != utf8.RuneError
}

// Tokens returns the words of a name as they are compared: accents and case
// are gone (José Ñúñez is jose, nunez; Straße is strasse), and hyphens,
// apostrophes and periods separate words like spaces do (Jean-Luc is jean,
// luc; O'Brien is o, brien). Letters of other scripts stay in their script
// (张伟, дмитрии, 김민준): nothing is transliterated. Symbols separate words
// too, so a name without letters or digits has no tokens.
func Tokens(name string) []string {
	// Bytes that are not UTF-8 become U+FFFD first, so that a mis-encoded
	// name is never read as a different, valid one.
	name = strings.ToValidUTF8(name, "\uFFFD")
	t := foldChain.Get().(transform.Transformer)
	folded, _, err := transform.String(t, name)
	foldChain.Put(t)
	if err != nil { // only on invalid state; treat as no name at all
		return nil
	}
	var tokens []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			tokens = append(tokens, b.String())
			b.Reset()
		}
	}
	for _, r := range folded {
		switch {
		case isSeparator(r):
			flush()
		case latinFolds[r] != "":
			b.WriteString(latinFolds[r])
		case unicode.Is(unicode.Cherokee, r):
			// Unicode folds Cherokee to upper case; cases.Fold swaps the
			// two cases instead, so Ꭰ and ꭰ would never compare equal.
			b.WriteRune(unicode.ToUpper(r))
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return tokens
}

// Name returns a name as typed, cleaned for storing and showing: white space
// trimmed and collapsed, in composed Unicode form. It refuses a name longer
// than MaxNameLen bytes or one without any letters (ErrName).
func Name(s string) (string, error) {
	if len(s) > 4*MaxNameLen {
		return "", ErrName
	}
	out := strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	if len(out) > MaxNameLen || len(Tokens(out)) == 0 {
		return "", ErrName
	}
	return out, nil
}

// NameMatches reports whether a submitted name (given and family fields)
// matches the name on file. With G and F the record's given and family tokens
// and R = G ++ F, the submitted tokens S (given then family) match when S is R,
// or R with some tokens left out, order kept, where only middle names (G[1:])
// and second or later family names (F[1:]) may be left out: G[0] and F[0] must
// be there. Only the whole sequence counts, so any split between the two fields
// matches. A submission with the two fields swapped (family then given) is
// tried by the same rule, because people whose names are written family-first
// often type them that way. Nothing else is forgiven: no initials, nicknames
// or misspellings. An empty submission never matches, nor does a record whose
// name has no tokens.
func NameMatches(givenSub, familySub, givenRec, familyRec string) bool {
	g, f := Tokens(givenRec), Tokens(familyRec)
	rec := append(g[:len(g):len(g)], f...)
	if len(rec) == 0 {
		return false
	}
	required := func(j int) bool { return j == 0 || j == len(g) }
	sg, sf := Tokens(givenSub), Tokens(familySub)
	if len(sg)+len(sf) == 0 {
		return false
	}
	// Both orders are always checked, so the answer takes as long either way.
	asTyped := omitsOnlyOptional(append(sg[:len(sg):len(sg)], sf...), rec, required)
	swapped := omitsOnlyOptional(append(sf[:len(sf):len(sf)], sg...), rec, required)
	return asTyped || swapped
}

// omitsOnlyOptional reports whether sub is rec with zero or more tokens left
// out, order kept, where every token left out is at a position that is not
// required. Repeated tokens make a greedy scan wrong (sub "ana maria" against
// "ana(G0) maria(G1) maria(F0)" must skip the middle name, not the family
// name), so it is a small dynamic programme: ok[j] says whether the tokens of
// sub seen so far can be rec[:j].
func omitsOnlyOptional(sub, rec []string, required func(int) bool) bool {
	if len(sub) > len(rec) {
		return false
	}
	var buf [2 * 16]bool
	ok, next := buf[:0], buf[16:16]
	if len(rec)+1 > 16 {
		ok, next = make([]bool, 0, len(rec)+1), make([]bool, 0, len(rec)+1)
	}
	ok, next = ok[:len(rec)+1], next[:len(rec)+1]
	ok[0] = true
	for j := 1; j <= len(rec); j++ {
		ok[j] = ok[j-1] && !required(j-1)
	}
	for _, tok := range sub {
		next[0] = false
		for j := 1; j <= len(rec); j++ {
			next[j] = (ok[j-1] && tok == rec[j-1]) || (next[j-1] && !required(j-1))
		}
		ok, next = next, ok
	}
	return ok[len(rec)]
}
