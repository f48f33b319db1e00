package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The rule these tests hold the code to: every word a person reads comes
// from the catalog by key.
//
//   - In the page and message templates, text outside tags and actions, and
//     the alt, title, placeholder and aria-label attributes, hold no
//     letters; a string literal in an action is either a key given to t, tn,
//     .T or .H — and English has it — or one token without spaces (an id,
//     a field or argument name) or a format without words ("%s %s").
//   - In the Go code of the packages that talk to people (the root, identity,
//     portal, web, delivery), a string literal that reads like words for a
//     person (a capital then a small letter, and three words or more or an
//     ending stop) is not allowed, except as the format of casegate.Errorf,
//     whose English is for operators only, in the importer's reports to
//     operators, and in the files of exempt. Log messages and error strings
//     start in lower case by Go convention, so they pass. A key-shaped
//     literal given to a message function (M, NewError, FieldError, tr…,
//     Text, T, H), a msg… constant or a Key field must be a key English has.

var (
	action     = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tag        = regexp.MustCompile(`(?s)<[^>]*>`)
	textAttr   = regexp.MustCompile(`\b(alt|title|placeholder|aria-label)="([^"]*)"`)
	keyCall    = regexp.MustCompile(`(?:\b(?:t|tn)|\.T|\.H)\s+"([^"]*)"`)
	quoted     = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
	verb       = regexp.MustCompile(`%[a-z]`)
	keyShaped  = regexp.MustCompile(`^[a-z_]+(\.[a-z0-9_]+)+$`)
	templates  = []string{"../web/templates/*.html", "../delivery/templates/*"}
	goPackages = []string{"..", "../identity", "../portal", "../web", "../delivery"}
)

func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }

func TestTemplatesHoldNoText(t *testing.T) {
	c := Default()
	files := 0
	for _, glob := range templates {
		names, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			files++
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			keys := 0
			for _, a := range action.FindAllString(string(src), -1) {
				for _, m := range keyCall.FindAllStringSubmatch(a, -1) {
					keys++
					if !c.Has(Reference, m[1]) {
						t.Errorf("%s: %s: English has no key %q", name, a, m[1])
					}
				}
				for _, m := range quoted.FindAllStringSubmatch(keyCall.ReplaceAllString(a, ""), -1) {
					if strings.ContainsFunc(m[1], unicode.IsSpace) && hasLetter(verb.ReplaceAllString(m[1], "")) {
						t.Errorf("%s: %s: the literal %q is text, not a key", name, a, m[1])
					}
				}
			}
			plain := action.ReplaceAllString(string(src), "\x00")
			for _, m := range textAttr.FindAllStringSubmatch(plain, -1) {
				if hasLetter(m[2]) {
					t.Errorf("%s: %s holds text %q", name, m[1], m[2])
				}
			}
			for _, text := range strings.Split(tag.ReplaceAllString(plain, "\x00"), "\x00") {
				if hasLetter(text) {
					t.Errorf("%s: text outside the catalog: %q", name, strings.TrimSpace(text))
				}
			}
			if keys == 0 && filepath.ToSlash(name) != "../delivery/templates/layout.html" {
				t.Errorf("%s: no message keys found; the scan misses them", name)
			}
		}
	}
	if files < 20 {
		t.Errorf("scanned only %d templates", files)
	}
}

// exempt are the Go files whose person-facing English the rule allows, and why.
var exempt = map[string]string{
	"identity/country_table.go": "country names by language, which the matcher also reads typed names against",
	"web/api_account.go":        "the processing-time method for API clients, English like the OpenAPI contract",
}

// keySinks are the functions whose literal arguments shaped like a key are
// message keys.
var keySinks = map[string]bool{"M": true, "NewError": true, "FieldError": true, "tr": true, "trData": true,
	"trCount": true, "Text": true, "Date": true, "T": true, "H": true, "English": true}

func TestGoCodeHoldsNoText(t *testing.T) {
	c := Default()
	fset := token.NewFileSet()
	scanned, keys := 0, 0
	checkKey := func(lit ast.Expr) {
		if b, ok := lit.(*ast.BasicLit); ok && b.Kind == token.STRING {
			if s, err := strconv.Unquote(b.Value); err == nil && keyShaped.MatchString(s) {
				keys++
				if !c.Has(Reference, s) {
					t.Errorf("%s: English has no key %q", fset.Position(b.Pos()), s)
				}
			}
		}
	}
	for _, dir := range goPackages {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			base := filepath.Base(name)
			rel := strings.TrimPrefix(filepath.ToSlash(name), "../")
			if strings.HasSuffix(base, "_test.go") || strings.HasPrefix(base, "import") && strings.HasSuffix(dir, "portal") || exempt[rel] != "" {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			scanned++
			operator := map[*ast.BasicLit]bool{} // formats of casegate.Errorf
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if isErrorf(n) && len(n.Args) > 1 {
						if lit, ok := n.Args[1].(*ast.BasicLit); ok {
							operator[lit] = true
						}
					}
					if keySinks[funcName(n)] {
						for _, a := range n.Args {
							checkKey(a)
						}
					}
				case *ast.ValueSpec:
					for i, id := range n.Names {
						if strings.HasPrefix(id.Name, "msg") && i < len(n.Values) {
							checkKey(n.Values[i])
						}
					}
				case *ast.KeyValueExpr:
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Key" {
						checkKey(n.Value)
					}
				case *ast.BasicLit:
					if n.Kind != token.STRING || operator[n] {
						return true
					}
					if s, err := strconv.Unquote(n.Value); err == nil && sentence(s) {
						t.Errorf("%s: %q looks like text for a person; give it a catalog key", fset.Position(n.Pos()), s)
					}
				}
				return true
			})
		}
	}
	if scanned < 40 || keys < 80 {
		t.Errorf("scanned %d files and found %d keys; the scan misses some", scanned, keys)
	}
}

// sentence reports whether s reads like words for a person: a capital
// then a small letter, and three words or more or an ending stop.
func sentence(s string) bool {
	r := []rune(s)
	if len(r) < 2 || !unicode.IsUpper(r[0]) || !unicode.IsLower(r[1]) || !strings.Contains(s, " ") {
		return false
	}
	return len(strings.Fields(s)) >= 3 || strings.ContainsAny(string(r[len(r)-1]), ".?!:")
}

func funcName(call *ast.CallExpr) string {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		return fn.Sel.Name
	case *ast.Ident:
		return fn.Name
	}
	return ""
}

// isErrorf reports whether call is casegate.Errorf, or Errorf inside the
// casegate package.
func isErrorf(call *ast.CallExpr) bool {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		x, ok := fn.X.(*ast.Ident)
		return ok && x.Name == "casegate" && fn.Sel.Name == "Errorf"
	case *ast.Ident:
		return fn.Name == "Errorf"
	}
	return false
}
