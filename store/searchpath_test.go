package store

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSearchPathSchemas(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"cg", []string{"cg"}},
		{"  CG  ", []string{"cg"}},
		{`"$user", public`, []string{"$user", "public"}},
		{`"$user",public`, []string{"$user", "public"}},
		{`"Mixed", lower`, []string{"Mixed", "lower"}},
		{`"a,b", c`, []string{"a,b", "c"}},
		{`"say ""hi""", x`, []string{`say "hi"`, "x"}},
		{`"unterminated`, []string{"unterminated"}},
		{`a,,b`, []string{"a", "", "b"}},
	}
	for _, tt := range tests {
		if got := searchPathSchemas(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("searchPathSchemas(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The same schemas written two ways compare equal; different ones not.
	same := [][2]string{{"cg", `"cg"`}, {"a, b", `a,"b"`}, {"CG", "cg"}}
	for _, p := range same {
		if !slices.Equal(searchPathSchemas(p[0]), searchPathSchemas(p[1])) {
			t.Errorf("%q and %q name the same schemas, compared unequal", p[0], p[1])
		}
	}
	differ := [][2]string{{"cg", `"CG"`}, {"a, b", "b, a"}, {"cg", `"$user", public`}, {"a", "a, b"}}
	for _, p := range differ {
		if slices.Equal(searchPathSchemas(p[0]), searchPathSchemas(p[1])) {
			t.Errorf("%q and %q name different schemas, compared equal", p[0], p[1])
		}
	}
}

// FuzzSearchPathSchemas: any value splits without panicking, and writing the
// names it gives back as a quoted list gives the same names again.
func FuzzSearchPathSchemas(f *testing.F) {
	for _, s := range []string{"", "cg", `"$user", public`, `"a""b",c`, `"x`, ",,", ` "a" , b `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		names := searchPathSchemas(v)
		if !utf8.ValidString(v) {
			return
		}
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
		}
		if again := searchPathSchemas(strings.Join(quoted, ", ")); !slices.Equal(again, names) {
			t.Errorf("%q gave %q; written back quoted, %q", v, names, again)
		}
	})
}
