package identity

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEmail(t *testing.T) {
	good := []struct{ in, want string }{
		{"jose@example.com", "jose@example.com"},
		{"  Jose.Garcia@Example.COM ", "Jose.Garcia@example.com"},
		{"<jose@example.com>", "jose@example.com"},
		{"jose+casegate@mail.example.org", "jose+casegate@mail.example.org"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"josé@ejemplo.es", "josé@ejemplo.es"},
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com"},
	}
	for _, tt := range good {
		if got, err := Email(tt.in); err != nil || got != tt.want {
			t.Errorf("Email(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "jose", "jose@", "@example.com", "jose@example", "jose@@example.com",
		"Jose <jose@example.com>", "jose@example.com, ana@example.com", "jose@[127.0.0.1]",
		"jose@.example.com", "jose@example..com", "jose @example.com", `"jose garcia"@example.com`,
		strings.Repeat("a", 65) + "@example.com",
		"a@" + strings.Repeat("b", 250) + ".com",
	}
	for _, in := range bad {
		if got, err := Email(in); err != ErrEmail {
			t.Errorf("Email(%q) = %q, %v; want ErrEmail", in, got, err)
		}
	}
}

// invisible are characters of the categories an address may not hold (Cc,
// Cf, Zl, Zp), the first five those the security review sent.
var invisible = []struct {
	name string
	r    rune
}{
	{"line separator U+2028", '\u2028'}, {"next line U+0085", '\u0085'}, {"right-to-left override U+202E", '\u202e'},
	{"zero-width space U+200B", '\u200b'}, {"byte order mark U+FEFF", '\ufeff'},
	{"paragraph separator U+2029", '\u2029'}, {"NUL", 0}, {"escape", 0x1b}, {"DEL", 0x7f}, {"tab", '\t'},
	{"line feed", '\n'}, {"soft hyphen U+00AD", '\u00ad'}, {"zero-width joiner U+200D", '\u200d'},
	{"left-to-right isolate U+2066", '\u2066'}, {"tag U+E0041", '\U000e0041'}, {"C1 control U+009B", '\u009b'},
}

// TestEmailRefusesInvisibleCharacters puts each character of invisible in
// seven places of an address: each is refused with ErrEmailInvisible, except
// a tab or line feed at either end, which is trimmed as a paste brings it.
func TestEmailRefusesInvisibleCharacters(t *testing.T) {
	for _, c := range invisible {
		ch := string(c.r)
		inside := []string{"jo" + ch + "se@example.com", "jose@exa" + ch + "mple.com", "jose" + ch + "@example.com",
			"jose@" + ch + "example.com", "jose@example." + ch + "com"}
		ends := []string{"jose@example.com" + ch, ch + "jose@example.com"}
		trimmed := c.r == '\t' || c.r == '\n'
		if !trimmed {
			inside = append(inside, ends...)
		}
		for _, in := range inside {
			if got, err := Email(in); err != ErrEmailInvisible {
				t.Errorf("%s: Email(%q) = %q, %v; want ErrEmailInvisible", c.name, in, got, err)
			}
		}
		if trimmed {
			for _, in := range ends {
				if got, err := Email(in); err != nil || got != "jose@example.com" {
					t.Errorf("%s: Email(%q) = %q, %v; want it trimmed", c.name, in, got, err)
				}
			}
		}
	}
}

// TestEmailDomainIDNA checks that a domain goes through IDNA's lookup
// profile and is kept as A-labels, however it was typed.
func TestEmailDomainIDNA(t *testing.T) {
	good := []struct{ in, want string }{
		{"josé@Bücher.DE", "josé@xn--bcher-kva.de"},
		{"ana@xn--bcher-kva.de", "ana@xn--bcher-kva.de"},
		{"ana@XN--BCHER-KVA.DE", "ana@xn--bcher-kva.de"},
		{"ana@ＥＸＡＭＰＬＥ.com", "ana@example.com"},              // full-width letters
		{"ana@example。com", "ana@example.com"},              // an ideographic full stop
		{"wei@例子.中国", "wei@xn--fsqu00a.xn--fiqs8s"},         // Chinese
		{"ali@مثال.إختبار", "ali@xn--mgbh0fb.xn--kgbechtv"}, // Arabic, right to left
		{"ivan@пример.рф", "ivan@xn--e1afmkfd.xn--p1ai"},
		{"ana@straße.de", "ana@xn--strae-oqa.de"},          // non-transitional: ß is kept
		{"\u00a0ana@example.com\u3000", "ana@example.com"}, // spaces of a paste
	}
	for _, tt := range good {
		if got, err := Email(tt.in); err != nil || got != tt.want {
			t.Errorf("Email(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"ana@exa_mple.com",       // not a host name (STD3)
		"ana@-example.com",       // a label starting with a hyphen
		"ana@example-.com",       // or ending with one
		"ana@xn--zz-.com",        // not Punycode
		"ana@ab--cd.com",         // hyphens in the third and fourth places, not xn--
		"ana@\u05d0a.com",        // Hebrew and Latin in one label (the bidi rule)
		"ana@exa mple.com",       // a space
		"ana@exa\u00a0mple.com",  // a no-break space
		"ana@example.com\u00a0x", // and after the domain
		"a\u2000na@example.com",  // an en quad in the local part
		"\u2000@0.0",             // found by FuzzEmail: a local part of one space
	}
	for _, in := range bad {
		if got, err := Email(in); err != ErrEmail {
			t.Errorf("Email(%q) = %q, %v; want ErrEmail", in, got, err)
		}
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"jose@example.com", "<A@B.CO>", `"a b"@c.de`, "a@b", "ü@ÜBER.DE", "a(c)@b.com"} {
		f.Add(s)
	}
	for _, c := range invisible {
		f.Add("a" + string(c.r) + "@example.com")
		f.Add("a@b" + string(c.r) + ".de")
	}
	f.Add("josé@Bücher.DE")
	f.Add("a@xn--bcher-kva.de")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Email(s)
		if err != nil {
			return
		}
		if len(out) > maxEmailLen || strings.TrimSpace(out) != out || !strings.Contains(out, "@") {
			t.Fatalf("Email(%q) = %q", s, out)
		}
		for _, r := range out {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("Email(%q) = %q holds %U", s, out, r)
			}
		}
		domain := out[strings.LastIndexByte(out, '@')+1:]
		for i := 0; i < len(domain); i++ {
			if c := domain[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
				t.Fatalf("Email(%q) = %q: the domain is not lower-case ASCII", s, out)
			}
		}
		if again, err := Email(out); err != nil || again != out {
			t.Fatalf("Email(%q) = %q, %v; want itself", out, again, err)
		}
	})
}
