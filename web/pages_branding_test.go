package web_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/casegate/casegate/branding"
	"github.com/casegate/casegate/catalog"
	"github.com/casegate/casegate/web"
)

// testLogo is a small SVG logo, as an agency would give it.
const testLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="18" fill="#fff"/></svg>`

var testAgency = branding.Agency{
	Name:    "Ministry of Migration",
	Contact: []string{"1 Main Street, Springfield 01101", "+1 555 0100"},
	Help:    "help@migration.example.gov",
}

// brandedDeps gives the pages the test agency, its logo, and a catalog with
// the service's name overridden in English and Spanish from a real folder.
func brandedDeps(t testing.TB) func(*web.Deps) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "locales"), 0o755); err != nil {
		t.Fatal(err)
	}
	for lang, text := range map[string]string{"en": "Ministry Case Tracker", "es": "Seguimiento de expedientes del Ministerio"} {
		if err := os.WriteFile(filepath.Join(dir, "locales", lang+".json"), []byte(`{"layout.case_status_online": "`+text+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := catalog.LoadOverrides(dir)
	if err != nil {
		t.Fatal(err)
	}
	logo, err := branding.CheckLogo(".svg", []byte(testLogo))
	if err != nil {
		t.Fatal(err)
	}
	return func(d *web.Deps) { d.Agency, d.Logo, d.Catalog = testAgency, logo, cat }
}

// TestAgencyOnEveryPage: with an agency configured, every page — in
// English, Spanish and Arabic, error pages too — names it in the title and
// shows its logo (alternative text: the name) in the header, and its name,
// contact lines and help address in the footer, as given; the overridden
// service name reads the agency's words in English and Spanish.
func TestAgencyOnEveryPage(t *testing.T) {
	ps := newPageStackWith(t, brandedDeps(t))
	service := map[string]string{"en": "Ministry Case Tracker", "es": "Seguimiento de expedientes del Ministerio", "ar": catalog.Default().Text("ar", "layout.case_status_online", nil)}
	help := map[string]string{"en": "Need help? Contact us at help@migration.example.gov.", "es": "¿Necesita ayuda? Comuníquese con nosotros en help@migration.example.gov.", "ar": "هل تحتاج إلى مساعدة؟ تواصل معنا على help@migration.example.gov."}
	var logoURL string
	for _, lang := range []string{"en", "es", "ar"} {
		for _, path := range []string{"/", "/request", "/processing-times", "/no-such-page"} {
			p := ps.send(t, ps.browser, "GET", path, nil, map[string]string{"Accept-Language": lang})
			what := lang + " " + path
			d := p.doc
			name := testAgency.Name
			if lang == "ar" {
				name = "\u2068" + name + "\u2069"
				if dir, _ := d.Find("html").Attr("dir"); dir != "rtl" {
					t.Errorf("%s: html dir %q", what, dir)
				}
			}
			if title := d.Find("title").Text(); !strings.HasSuffix(title, " | "+service[lang]+" | "+name) {
				t.Errorf("%s: title %q does not end with the service and agency names", what, title)
			}
			img := d.Find("header a.service-name img.agency-logo")
			if alt, _ := img.Attr("alt"); img.Length() != 1 || alt != testAgency.Name {
				t.Errorf("%s: %d logos, alt %q", what, img.Length(), alt)
			}
			src, _ := img.Attr("src")
			if !strings.HasPrefix(src, "/static/logo.svg?v=") {
				t.Errorf("%s: logo at %q", what, src)
			}
			logoURL = src
			if got := strings.TrimSpace(d.Find("header a.service-name span").Last().Text()); got != service[lang] {
				t.Errorf("%s: service name %q, want %q", what, got, service[lang])
			}
			foot := d.Find("footer #agency")
			if got := strings.TrimSpace(foot.Find(".agency-name").Text()); got != testAgency.Name {
				t.Errorf("%s: footer name %q", what, got)
			}
			var lines []string
			foot.Find(`address span[dir="auto"]`).Each(func(_ int, s *goquery.Selection) { lines = append(lines, s.Text()) })
			if strings.Join(lines, "|") != strings.Join(testAgency.Contact, "|") {
				t.Errorf("%s: contact lines %q", what, lines)
			}
			ha := foot.Find("#help-address a")
			if href, _ := ha.Attr("href"); href != "mailto:help@migration.example.gov" || ha.Text() != testAgency.Help {
				t.Errorf("%s: help link %q %q", what, href, ha.Text())
			}
			if got := strings.Join(strings.Fields(foot.Find("#help-address").Text()), " "); got != help[lang] {
				t.Errorf("%s: help line %q, want %q", what, got, help[lang])
			}
			if path == "/no-such-page" && d.Find("main #error-help a").Length() != 1 {
				t.Errorf("%s: the error page does not say where to get help", what)
			}
		}
	}

	verify, _ := ps.requestThroughPages(t, joseForm)
	if a := verify.doc.Find(`#help #verify-help a[href="mailto:help@migration.example.gov"]`); a.Length() != 1 {
		t.Errorf("the verify page's \"did not get a code?\" list lacks the help address:\n%s", verify.body)
	}

	// The logo is served like the built-in files: its content type, cached
	// for good under its hash, under the same security headers.
	resp, err := ps.browser.Get(ps.pages.URL + logoURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, []byte(testLogo)) || h.Get("Content-Type") != "image/svg+xml" ||
		!strings.Contains(h.Get("Cache-Control"), "immutable") || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") ||
		h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("logo: %d %q %v", resp.StatusCode, body, h)
	}
}

// TestNoAgencyShowsNone: without an agency, no logo, no agency block and
// the title as before; a logo without a name (its alternative text) is refused.
func TestNoAgencyShowsNone(t *testing.T) {
	ps := newPageStack(t)
	p := ps.get(t, "/")
	if p.doc.Find("img, #agency, #help-address").Length() != 0 {
		t.Errorf("an agency block without an agency:\n%s", p.body)
	}
	if title := p.doc.Find("title").Text(); !strings.HasSuffix(title, "| Case Status Online") {
		t.Errorf("title %q", title)
	}
	if resp := ps.get(t, "/static/logo.svg"); resp.status() != http.StatusNotFound {
		t.Errorf("a logo is served without one: %d", resp.status())
	}
	logo, err := branding.CheckLogo(".svg", []byte(testLogo))
	if err != nil {
		t.Fatal(err)
	}
	public, _ := url.Parse("https://status.casegate.test")
	if _, err := web.New(web.Deps{Portal: ps.portal, PublicURL: public, Ready: ps.store.Ping, Logo: logo}); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("a logo without a name: %v", err)
	}
}
