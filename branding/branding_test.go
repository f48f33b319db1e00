package branding

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"  Ministry of Migration ", "Ministry of Migration", ""},
		{"وزارة الهجرة", "وزارة الهجرة", ""},
		{"", "", ""},
		{"A\u202eB", "", "U+202E"},
		{"A\u2066B", "", "U+2066"},
		{"وزارت مهاجرت\u200cها", "وزارت مهاجرت\u200cها", ""},
		{"A\tB", "", "U+0009"},
		{strings.Repeat("n", MaxNameRunes+1), "", "characters long"},
		{"\xff", "", "UTF-8"},
	} {
		got, err := ParseName(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseName(%q) = %q, %v; want an error saying %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseContact(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"1 Main St, Springfield | +1 555 0100", []string{"1 Main St, Springfield", "+1 555 0100"}, ""},
		{"line one\nline two\n\n", []string{"line one", "line two"}, ""},
		{" | |", nil, ""},
		{"", nil, ""},
		{"a|b|c|d|e|f|g", nil, "at most 6"},
		{"ok|" + strings.Repeat("x", MaxLineRunes+1), nil, "contact line 2"},
		{"bell\a", nil, "U+0007"},
	} {
		got, err := ParseContact(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseContact(%q) = %q, %v; want an error saying %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseContact(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseHelp(t *testing.T) {
	for _, tc := range []struct {
		in, want, href string
		ok             bool
	}{
		{"help@example.gov", "help@example.gov", "mailto:help@example.gov", true},
		{" https://example.gov/help ", "https://example.gov/help", "https://example.gov/help", true},
		{"", "", "", true},
		{"http://example.gov/help", "", "", false},
		{"javascript:alert(1)", "", "", false},
		{"Help <help@example.gov>", "", "", false},
		{"help@localhost", "", "", false},
		{"https://user@example.gov/", "", "", false},
		{"https:///nohost", "", "", false},
		{"not an address", "", "", false},
	} {
		got, err := ParseHelp(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseHelp(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err == nil && (Agency{Help: got}).HelpHref() != tc.href {
			t.Errorf("HelpHref of %q = %q, want %q", got, (Agency{Help: got}).HelpHref(), tc.href)
		}
	}
}

const goodSVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"><defs><circle id="c" r="4"/></defs><use xlink:href="#c" x="5" y="5"/></svg>`

func pngBytes(t testing.TB, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCheckLogo(t *testing.T) {
	for _, tc := range []struct {
		name, ext string
		body      []byte
		wantType  string
		err       string
	}{
		{"svg", ".svg", []byte(goodSVG), "image/svg+xml", ""},
		{"png", ".PNG", pngBytes(t, 40, 20), "image/png", ""},
		{"script", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", "<script>"},
		{"handler", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "", "onload"},
		{"foreign object", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>`), "", "foreignObject"},
		{"outside link", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>`), "", "javascript:"},
		{"set href", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><a href="#c"><set attributeName="href" to="javascript:alert(1)"/><rect/></a></svg>`), "", "<set>"},
		{"animate href", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><a href="#c"><animate attributeName="href" values="#c;javascript:alert(1)"/><rect/></a></svg>`), "", "<animate>"},
		{"animate colour", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect><animate attributeName="fill" from="red" to="blue" dur="1s"/></rect></svg>`), "", "<animate>"},
		{"animateMotion", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect><animateMotion path="M0 0L9 9"/></rect></svg>`), "", "<animateMotion>"},
		{"animateTransform", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect><animateTransform attributeName="transform" type="rotate"/></rect></svg>`), "", "<animateTransform>"},
		{"discard", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect><discard begin="1s"/></rect></svg>`), "", "<discard>"},
		{"javascript value", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect to="javascript:alert(1)"/></svg>`), "", "javascript:"},
		{"javascript value cased and padded", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect fill=" &#9;JaVa&#10;Script:alert(1)"/></svg>`), "", "javascript: URL in fill="},
		{"data value", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect fill=" DATA:text/html,x"/></svg>`), "", "data: URL in fill="},
		{"doctype", ".svg", []byte(`<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>`), "", "DOCTYPE"},
		{"html", ".svg", []byte(`<html><body/></html>`), "", "<html>"},
		{"broken", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><g></svg>`), "", "well-formed"},
		{"empty svg", ".svg", nil, "", "no <svg>"},
		{"png named svg", ".svg", pngBytes(t, 4, 4), "", "SVG"},
		{"svg named png", ".png", []byte(goodSVG), "", "not a PNG"},
		{"huge png", ".png", pngBytes(t, 5000, 1), "", "4096"},
		{"gif", ".gif", []byte("GIF89a"), "", ".gif"},
		{"too large", ".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat(" ", MaxLogoBytes) + `</svg>`), "", "256 KiB"},
	} {
		l, err := CheckLogo(tc.ext, tc.body)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v; want an error saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || l.ContentType != tc.wantType || !bytes.Equal(l.Body, tc.body) {
			t.Errorf("%s: %+v, %v; want %s", tc.name, l, err, tc.wantType)
		}
	}
}

func TestLoadLogo(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "agency.svg")
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(good, []byte(goodSVG), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, MaxLogoBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := LoadLogo(good); err != nil || l.Name != "logo.svg" {
		t.Errorf("LoadLogo(good) = %+v, %v", l, err)
	}
	for path, want := range map[string]string{
		big:                           "larger than 256 KiB",
		filepath.Join(dir, "no.svg"):  "no.svg",
		filepath.Join(dir, "dir.png"): "dir.png",
	} {
		if strings.HasSuffix(path, "dir.png") {
			os.Mkdir(path, 0o755)
		}
		if _, err := LoadLogo(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadLogo(%s) = %v; want an error saying %q", path, err, want)
		}
	}
}

// FuzzCheckLogo: whatever an SVG holds, the check accepts or refuses it
// without panicking, and what it accepts holds no script.
func FuzzCheckLogo(f *testing.F) {
	f.Add([]byte(goodSVG))
	f.Add([]byte(`<svg><script/></svg>`))
	f.Add([]byte(`<svg onclick="x"/>`))
	f.Add([]byte(`<svg><a href="#c"><set attributeName="href" to="javascript:alert(1)"/></a></svg>`))
	f.Add([]byte(`<svg><a href="#c"><animate attributeName="href" values="#c;javascript:alert(1)"/></a></svg>`))
	f.Add([]byte(`<svg><rect><animateMotion path="M0 0"/><animateTransform type="rotate"/><discard/></rect></svg>`))
	f.Add([]byte(`<svg><rect fill=" &#9;JaVa&#10;Script:x" to="data:text/html,x"/></svg>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := CheckLogo(".svg", body)
		if err != nil {
			return
		}
		if bytes.Contains(bytes.ToLower(body), []byte("<script")) {
			t.Errorf("accepted an SVG with a script: %q", body)
		}
		if l.ContentType != "image/svg+xml" {
			t.Errorf("content type %q", l.ContentType)
		}
	})
}

// FuzzParseContact: the lines parsed are never empty, never more than the
// limit, and hold no control character.
func FuzzParseContact(f *testing.F) {
	f.Add("1 Main St | +1 555 0100")
	f.Add("a\nb\r\nc")
	f.Fuzz(func(t *testing.T, v string) {
		lines, err := ParseContact(v)
		if err != nil {
			return
		}
		if len(lines) > MaxContactLines {
			t.Errorf("%d lines", len(lines))
		}
		for _, l := range lines {
			if l == "" || strings.ContainsAny(l, "|\n\r\x00") {
				t.Errorf("line %q", l)
			}
		}
	})
}
