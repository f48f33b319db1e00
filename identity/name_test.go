package identity

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"José  Ñúñez", []string{"jose", "nunez"}},
		{"  JOSÉ\tñúÑEZ ", []string{"jose", "nunez"}},
		{"García López", []string{"garcia", "lopez"}},
		{"Straße", []string{"strasse"}},
		{"STRASSE", []string{"strasse"}},
		{"Jean-Luc", []string{"jean", "luc"}},
		{"Smith–Jones", []string{"smith", "jones"}}, // en dash
		{"O'Brien", []string{"o", "brien"}},
		{"O’Brien", []string{"o", "brien"}},
		{"D’Angelo", []string{"d", "angelo"}},
		{"Daʼud", []string{"da", "ud"}},
		{"Martin Luther King Jr.", []string{"martin", "luther", "king", "jr"}},
		{"J.R.R.", []string{"j", "r", "r"}},
		{"Zoë Brontë", []string{"zoe", "bronte"}},
		{"Łukasz Żółć", []string{"lukasz", "zolc"}},
		{"Søren Kierkegaard", []string{"soren", "kierkegaard"}},
		{"Đặng Thị Ngọc", []string{"dang", "thi", "ngoc"}},
		{"Işık", []string{"isik"}},
		{"İLKAY", []string{"ilkay"}},
		{"Æsa Þórsdóttir", []string{"aesa", "thorsdottir"}},
		{"Ｊｏｓｅ", []string{"jose"}},         // full-width
		{"Mc\u00adKay", []string{"mckay"}}, // soft hyphen is invisible
		{"Gal·la", []string{"galla"}},      // Catalan middle dot
		{"张伟", []string{"张伟"}},
		{"Дмитрий Иванов", []string{"дмитрии", "иванов"}}, // й loses its breve like any accent
		{"ДМИТРИЙ", []string{"дмитрии"}},
		{"محمد", []string{"محمد"}},
		{"مُحَمَّد", []string{"محمد"}}, // vowel marks dropped
		{"김민준", []string{"김민준"}},
		{"ジョン・スミス", []string{"ション", "スミス"}}, // the voicing mark is a combining mark too
		{"Ὀδυσσεύς", []string{"οδυσσευσ"}},
		{"ᏣᎳᎩ", []string{"ᏣᎳᎩ"}}, // Cherokee folds to upper case
		{"ꮳꮃꭹ", []string{"ᏣᎳᎩ"}},
		{"Ana ❤ Lopez", []string{"ana", "lopez"}},
		{"Louis XIV", []string{"louis", "xiv"}},
		{"Henry 8th", []string{"henry", "8th"}},
		{"Jos\xe9", []string{"jos\ufffd"}}, // Latin-1, not UTF-8: not read as "jos"
		{"$$$ ###", nil},
		{"", nil},
		{"  - ' . ", nil},
		{"\u0301\u0301", nil},
	}
	for _, tt := range tests {
		if got := Tokens(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameMatches(t *testing.T) {
	tests := []struct {
		name                string
		givenSub, familySub string
		givenRec, familyRec string
		want                bool
	}{
		{"exact", "José", "Ñúñez", "José", "Ñúñez", true},
		{"without accents", "jose", "NUNEZ", "José", "Ñúñez", true},
		{"extra spaces", "  José ", " Ñúñez  ", "José", "Ñúñez", true},
		{"both family names", "José", "García López", "José", "García López", true},
		{"second family name left out", "José", "García", "José", "García López", true},
		{"first family name left out", "José", "López", "José", "García López", false},
		{"family names reversed", "José", "López García", "José", "García López", false},
		{"split moved", "Maria", "Jose Garcia", "Maria Jose", "Garcia", true},
		{"split moved the other way", "Maria Jose Garcia", "Lopez", "Maria Jose", "Garcia Lopez", true},
		{"all in family field", "", "Maria Jose Garcia", "Maria Jose", "Garcia", true},
		{"middle name left out", "Maria", "Garcia", "Maria Jose", "Garcia", true},
		{"middle and second family left out", "Ana", "Pérez", "Ana Lucía Sofía", "Pérez Gómez", true},
		{"one of two middle names left out", "Ana Sofía", "Pérez", "Ana Lucía Sofía", "Pérez", true},
		{"middle names reordered", "Ana Sofía Lucía", "Pérez", "Ana Lucía Sofía", "Pérez", false},
		{"first given name left out", "Jose", "Garcia", "Maria Jose", "Garcia", false},
		{"extra token not on file", "Jose Luis", "Garcia", "Jose", "Garcia", false},
		{"extra family name not on file", "Jose", "Garcia Lopez", "Jose", "Garcia", false},
		{"initial for given name", "J.", "Garcia", "Jose", "Garcia", false},
		{"initial for middle name", "Maria J.", "Garcia", "Maria Jose", "Garcia", false},
		{"initials", "J. R. R.", "Tolkien", "John Ronald Reuel", "Tolkien", false},
		{"nickname", "Pepe", "Garcia", "Jose", "Garcia", false},
		{"misspelling", "Jose", "Garsia", "Jose", "Garcia", false},
		{"hyphenated given", "Jean Luc", "Picard", "Jean-Luc", "Picard", true},
		{"hyphenated family", "Anna", "Smith-Jones", "Anna", "Smith Jones", true},
		{"hyphenated family, second part left out", "Anna", "Smith", "Anna", "Smith-Jones", true},
		{"hyphen removed", "Anna", "SmithJones", "Anna", "Smith-Jones", false},
		{"apostrophe", "Sean", "O’Brien", "Seán", "O'Brien", true},
		{"apostrophe as space", "Sean", "O Brien", "Seán", "O'Brien", true},
		{"apostrophe dropped", "Sean", "OBrien", "Seán", "O'Brien", false},
		{"D’Angelo", "Maria", "D'Angelo", "Maria", "D’Angelo", true},
		{"suffix with period", "Martin Luther", "King Jr", "Martin Luther", "King Jr.", true},
		{"suffix left out", "Martin Luther", "King", "Martin Luther", "King Jr.", true},
		{"sharp s", "Hans", "Strasse", "Hans", "Straße", true},
		{"sharp s capital", "HANS", "STRAẞE", "Hans", "Straße", true},
		{"Chinese", "伟", "张", "伟", "张", true},
		{"Chinese swapped", "张", "伟", "伟", "张", true},
		{"Chinese other name", "伟", "王", "伟", "张", false},
		{"Cyrillic", "Дмитрий", "Иванов", "Дмитрий", "Иванов", true},
		{"Cyrillic case", "ДМИТРИЙ", "ИВАНОВ", "Дмитрий", "Иванов", true},
		{"Cyrillic, no transliteration", "Dmitry", "Ivanov", "Дмитрий", "Иванов", false},
		{"Arabic", "محمد", "علي", "محمد", "علي", true},
		{"Arabic with vowel marks", "مُحَمَّد", "علي", "محمد", "علي", true},
		{"Korean", "민준", "김", "민준", "김", true},
		{"Korean swapped", "김", "민준", "민준", "김", true},
		{"swapped", "Garcia", "Maria", "Maria", "Garcia", true},
		{"swapped with two family names", "García López", "José", "José", "García López", true},
		{"swapped, second family name left out", "García", "José", "José", "García López", true},
		{"swapped, first family name left out", "López", "José", "José", "García López", false},
		{"empty submission", "", "", "José", "García", false},
		{"submission without letters", "-", ".", "José", "García", false},
		{"empty record", "José", "García", "", "", false},
		{"record without letters", "", "-", "", " . ", false},
		{"record with family name only", "", "Suharto", "", "Suharto", true},
		{"record with family name only, given typed", "Suharto", "", "", "Suharto", true},
		{"record with family name only, extra", "Haji", "Suharto", "", "Suharto", false},
		{"record with given name only", "Madonna", "", "Madonna", "", true},
		{"repeated token, middle left out", "Ana", "Maria", "Ana Maria", "Maria", true},
		{"repeated token, family needed", "Ana", "Lopez", "Ana Maria", "Maria Lopez", false},
		{"repeated token, either maria", "Ana Maria", "Lopez", "Ana Maria", "Maria Lopez", true},
		{"repeated token, skip middle keep family", "Ana", "Maria Lopez", "Ana Maria", "Maria Lopez", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NameMatches(tt.givenSub, tt.familySub, tt.givenRec, tt.familyRec)
			if got != tt.want {
				t.Errorf("NameMatches(%q, %q, %q, %q) = %v, want %v",
					tt.givenSub, tt.familySub, tt.givenRec, tt.familyRec, got, tt.want)
			}
		})
	}
}

func TestNameMatchesLongRecord(t *testing.T) {
	// More tokens than the stack buffer of omitsOnlyOptional holds.
	given := strings.Repeat("ana ", 20) + "lucia"
	if !NameMatches("ana lucia", "perez", given, "perez gomez") {
		t.Error("long record: want a match leaving out middle names")
	}
	if NameMatches("lucia", "perez", given, "perez gomez") {
		t.Error("long record: want no match without the first given name")
	}
}

func TestName(t *testing.T) {
	good := []struct{ in, want string }{
		{"José", "José"},
		{"  Jose\u0301   María  ", "José María"},
		{"O'Brien", "O'Brien"},
		{"张伟", "张伟"},
		{strings.Repeat("a", MaxNameLen), strings.Repeat("a", MaxNameLen)},
	}
	for _, tt := range good {
		if got, err := Name(tt.in); err != nil || got != tt.want {
			t.Errorf("Name(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "   ", "-", "'.", strings.Repeat("a", MaxNameLen+1)} {
		if got, err := Name(in); err != ErrName {
			t.Errorf("Name(%q) = %q, %v; want ErrName", in, got, err)
		}
	}
}

func FuzzTokens(f *testing.F) {
	for _, s := range []string{"José  Ñúñez", "Straße", "O’Brien-Smith Jr.", "张伟", "Дмитрий", "مُحَمَّد", "김민준", "ǅ", "\xff\xfe", "İı", "ﬀ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tokens := Tokens(s)
		for _, tok := range tokens {
			if tok == "" || strings.ContainsFunc(tok, isSeparator) {
				t.Fatalf("Tokens(%q) has token %q", s, tok)
			}
			if !utf8.ValidString(tok) {
				t.Fatalf("Tokens(%q) has invalid UTF-8 token %q", s, tok)
			}
		}
		if again := Tokens(strings.Join(tokens, " ")); !slices.Equal(again, tokens) {
			t.Fatalf("Tokens not idempotent: %q -> %q -> %q", s, tokens, again)
		}
		if upper := Tokens(strings.ToUpper(s)); len(tokens) > 0 && len(upper) == 0 {
			t.Fatalf("Tokens(%q) = %q but upper case has none", s, tokens)
		}
	})
}

func FuzzNameMatches(f *testing.F) {
	f.Add("José", "García López", "Maria", "Garcia")
	f.Add("张", "伟", "", "")
	f.Add("a a", "a", "a", "a a")
	f.Fuzz(func(t *testing.T, given, family, otherGiven, otherFamily string) {
		hasName := len(Tokens(given))+len(Tokens(family)) > 0
		if got := NameMatches(given, family, given, family); got != hasName {
			t.Fatalf("NameMatches(%q, %q) with itself = %v, want %v", given, family, got, hasName)
		}
		if hasName && !NameMatches(family, given, given, family) {
			t.Fatalf("swapped %q, %q does not match", given, family)
		}
		if hasName && !NameMatches("", given+" "+family, given, family) {
			t.Fatalf("%q, %q all in the family field does not match", given, family)
		}
		// Never panics, and an empty side never matches.
		NameMatches(otherGiven, otherFamily, given, family)
		if NameMatches("", "", given, family) || NameMatches(otherGiven, otherFamily, "", "") {
			t.Fatal("an empty name matched")
		}
	})
}
