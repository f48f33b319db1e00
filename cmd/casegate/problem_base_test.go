package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casegate/casegate/internal/smtptest"
)

func TestParseProblemBase(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"about:blank", "", true},
		{" about:blank ", "", true},
		{"https://status.example.gov/problems/", "https://status.example.gov/problems/", true},
		{"https://status.example.gov/problems", "https://status.example.gov/problems/", true},
		{"https://status.example.gov", "https://status.example.gov/", true},
		{"http://intranet.agency.example:8443/errors/", "http://intranet.agency.example:8443/errors/", true},
		{"ftp://example.gov/", "", false},
		{"https:///problems/", "", false},
		{"https://status.example.gov/problems/?v=1", "", false},
		{"https://status.example.gov/problems/#top", "", false},
		{"https://user:pw@status.example.gov/", "", false},
		{"https://status.example.gov/pro blems/", "", false},
		{"status.example.gov/problems/", "", false},
		{"about:other", "", false},
		{`https://status.example.gov/"<x>`, "", false},
	} {
		got, err := parseProblemBase(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseProblemBase(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "about:blank") {
			t.Errorf("parseProblemBase(%q): %v does not say what to write", c.in, err)
		}
	}
}

// FuzzParseProblemBase: what is accepted is empty or an absolute http(s)
// URL ending in "/", which a code appended to stays a URL of the same host.
func FuzzParseProblemBase(f *testing.F) {
	for _, s := range []string{"about:blank", "https://a.example/p", "http://x:1/", "https://a.example/?q", "%zz", "https://[::1]/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		base, err := parseProblemBase(v)
		if err != nil || base == "" {
			return
		}
		if !strings.HasSuffix(base, "/") || !(strings.HasPrefix(base, "https://") || strings.HasPrefix(base, "http://")) ||
			strings.ContainsAny(base, " \"<>?#") {
			t.Fatalf("parseProblemBase(%q) = %q", v, base)
		}
	})
}

// TestProblemTypeURL: by default a problem's type is about:blank with the
// status phrase as its title (RFC 9457 §4.2.1), naming no domain the agency
// does not own; with CASEGATE_PROBLEM_BASE_URL it is that address and the
// error code.
func TestProblemTypeURL(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": smtptest.Start(t).URL(),
	}
	for _, c := range []struct{ base, want string }{
		{"", "about:blank"},
		{"https://status.example.gov/problems", "https://status.example.gov/problems/not_found"},
	} {
		vars["CASEGATE_PROBLEM_BASE_URL"] = c.base
		s := startServe(t, vars)
		resp, body := sendWithID(t, "GET", s.base+"/api/v1/nowhere", "", "")
		var p struct{ Type, Title string }
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /api/v1/nowhere: %d %s", resp.StatusCode, body)
		}
		if p.Type != c.want || p.Title != "Not Found" {
			t.Errorf("CASEGATE_PROBLEM_BASE_URL=%q: type %q, title %q; want %q, \"Not Found\"", c.base, p.Type, p.Title, c.want)
		}
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}
