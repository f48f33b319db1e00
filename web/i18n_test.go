package web

import (
	"fmt"
	"html/template"
	"slices"
	"testing"
	"text/template/parse"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/branding"
)

// templateMessages returns every literal text the templates pass to t or tn.
func templateMessages(t *testing.T) []string {
	t.Helper()
	cat := newCatalog(nil)
	a, err := loadAssets(nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := parsePages(cat, a, branding.Agency{}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n parse.Node)
	walkPipe := func(p *parse.PipeNode) {
		if p != nil {
			walk(p)
		}
	}
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walkPipe(n.Pipe)
		case *parse.PipeNode:
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			if len(n.Args) >= 2 {
				if id, ok := n.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "t" || id.Ident == "tn") {
					if s, ok := n.Args[1].(*parse.StringNode); ok {
						out = append(out, s.Text)
					}
				}
			}
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walkPipe(n.Pipe)
			walk(n.List)
			if n.ElseList != nil {
				walk(n.ElseList)
			}
		case *parse.RangeNode:
			walkPipe(n.Pipe)
			walk(n.List)
			if n.ElseList != nil {
				walk(n.ElseList)
			}
		case *parse.WithNode:
			walkPipe(n.Pipe)
			walk(n.List)
			if n.ElseList != nil {
				walk(n.ElseList)
			}
		case *parse.TemplateNode:
			walkPipe(n.Pipe)
		}
	}
	for _, pages := range set {
		for _, p := range pages {
			for _, tm := range p.Templates() {
				if tm.Tree != nil {
					walk(tm.Tree.Root)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pageMessages is every key the pages can show from this package.
func pageMessages(t *testing.T) []string {
	msgs := templateMessages(t)
	msgs = append(msgs, msgChooseCountry, msgRealDate, msgEnterCode, msgAttemptsLeft, msgAskAgainIn, msgFormUnread,
		msgTooLarge, msgNothingHere, msgInternal, msgCrossOrigin, msgEnterNewEmail, msgEnterNewPhone,
		"date.long", "wait.seconds", "wait.minutes", "language.name", "language.direction")
	for m := 1; m <= 12; m++ {
		msgs = append(msgs, fmt.Sprintf("month.%d", m))
	}
	for _, r := range []casegate.Role{casegate.RoleApplicant, casegate.RolePetitioner, casegate.RoleBeneficiary, casegate.RoleRepresentative} {
		msgs = append(msgs, "role."+string(r))
	}
	return msgs
}

func TestTemplatesUseTheCatalog(t *testing.T) {
	msgs := templateMessages(t)
	if len(msgs) < 50 {
		t.Fatalf("found only %d texts in the templates; the walker misses some", len(msgs))
	}
	for _, want := range []string{"home.request_an_access_code", "parts.there_is_a_problem", "verify.send_a_new_code_in"} {
		if !slices.Contains(msgs, want) {
			t.Errorf("the walker did not find %q", want)
		}
	}
}

// TestEveryPageTextIsInEveryLanguage checks that each key the pages use is
// in every language's own file.
func TestEveryPageTextIsInEveryLanguage(t *testing.T) {
	for _, m := range pageMessages(t) {
		for _, lang := range casegate.Languages {
			if !HasTranslation(lang, m) {
				t.Errorf("no %s message %q", lang, m)
			}
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	cat := newCatalog(nil)
	cases := []struct{ header, want string }{
		{"", "en"},
		{"es", "es"},
		{"es-MX,es;q=0.9,en;q=0.5", "es"},
		{"en-US,en;q=0.9,es;q=0.8", "en"},
		{"fr-FR,fr;q=0.9", "fr"},
		{"fr-CA", "fr"},
		{"fr;q=0.9,es;q=0.5", "fr"},
		{"de;q=0.9,es;q=0.5", "es"},
		{"zh-CN,zh;q=0.9", "zh-Hans"},
		{"zh-Hans", "zh-Hans"},
		{"zh", "zh-Hans"},
		{"ar-EG,ar;q=0.9,en;q=0.5", "ar"},
		{"ar", "ar"},
		{"de, en;q=0.1", "en"},
		{"*", "en"},
		{"garbage;;;q=x", "en"},
	}
	for _, c := range cases {
		if got := cat.acceptLanguage(c.header); got != c.want {
			t.Errorf("acceptLanguage(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

func TestPluralsAndDates(t *testing.T) {
	cat := newCatalog(nil)
	day := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	cases := []struct{ got, want string }{
		{cat.trCount("en", msgAttemptsLeft, 1), "You have 1 attempt left."},
		{cat.trCount("en", msgAttemptsLeft, 4), "You have 4 attempts left."},
		{cat.trCount("es", msgAttemptsLeft, 1), "Le queda 1 intento."},
		{cat.trCount("es", msgAttemptsLeft, 3), "Le quedan 3 intentos."},
		{cat.wait("en", 30*time.Second), "30 seconds"},
		{cat.wait("en", 1500*time.Millisecond), "2 seconds"},
		{cat.wait("es", time.Second), "1 segundo"},
		{cat.wait("es", 10*time.Minute), "10 minutos"},
		{cat.wait("en", 61*time.Minute), "61 minutes"},
		{cat.date("en", day), "March 14, 2025"},
		{cat.date("es", day), "14 de marzo de 2025"},
		{cat.tr("es", "no.such.key"), "no.such.key"},
		{cat.tr("es", "{{.Not}} a template"), "{{.Not}} a template"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("%d: got %q, want %q", i, c.got, c.want)
		}
	}
}

// TestStatusFuncs checks the templates name and describe statuses from the
// root catalog, in the page's language, and a custom status by its title.
func TestStatusFuncs(t *testing.T) {
	cat := newCatalog(nil)
	a, err := loadAssets(nil)
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]template.FuncMap{}
	for _, lang := range casegate.Languages {
		funcs[lang] = pageFuncs(cat, a, branding.Agency{}, lang, time.UTC)
	}
	title := func(lang, code, custom string) string {
		return funcs[lang]["status"].(func(string, string) string)(code, custom)
	}
	describeFor := func(lang, code string, role casegate.Role) string {
		return funcs[lang]["description"].(func(string, casegate.Role) string)(code, role)
	}
	describe := func(lang, code string) string { return describeFor(lang, code, casegate.RoleApplicant) }
	cases := []struct{ got, want string }{
		{title("es", "received", ""), "Caso recibido"},
		{title("en", "biometrics_completed", ""), "Biometrics taken"},
		{title("en", "received", "Ignored custom title"), "Case received"},
		{title("es", "oath_ceremony_scheduled", "Oath ceremony scheduled"), "Oath ceremony scheduled"},
		{title("en", "mystery_code", ""), "mystery_code"},
		{describe("en", "approved"), "We approved your case and mailed you an approval notice."},
		{describe("es", "approved"), "Aprobamos su caso y le enviamos por correo un aviso de aprobación."},
		{describe("es", "oath_ceremony_scheduled"), ""},
		{describeFor("en", "approved", casegate.RoleRepresentative), "We approved this case and mailed an approval notice."},
		{describeFor("es", "approved", casegate.RoleBeneficiary), "Aprobamos este caso y enviamos por correo un aviso de aprobación."},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("%d: got %q, want %q", i, c.got, c.want)
		}
	}
	for _, st := range casegate.Statuses() {
		for _, lang := range casegate.Languages {
			if title(lang, st.Code, "") == st.Code || describe(lang, st.Code) == "" {
				t.Errorf("%s in %s: no title or description", st.Code, lang)
			}
			if w := describeFor(lang, st.Code, casegate.RoleRepresentative); w == "" || w == describe(lang, st.Code) {
				t.Errorf("%s in %s: no watcher's description of its own", st.Code, lang)
			}
		}
	}
}
