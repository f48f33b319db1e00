package web_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestAdminImportNeedsALiveToken(t *testing.T) {
	s := newStack(t)
	token, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"receipt_number":"WAC2290000001","form_type":"I-130","office":"CSC","received_on":"2025-01-02","parties":[{"role":"petitioner","given_name":"Ngozi","family_name":"Okafor","date_of_birth":"1980-07-07","country_of_birth":"NG","email":"ngozi@example.net"}]}
not json
{"receipt_number":"IOE0912345678","form_type":"I-485","category":"Family-based","office":"NBC","received_on":"2025-03-14","parties":[{"role":"applicant","given_name":"José","family_name":"García López","date_of_birth":"1990-04-02","country_of_birth":"MX","a_number":"A012345678","phone":"+12015550999"}]}
`
	h := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"}
	resp, out := s.do("POST", "/admin/v1/cases", body, h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %d %s", resp.StatusCode, out)
	}
	var res struct {
		Created, Updated int
		Rejected         []struct {
			Line  int
			Error string
		}
	}
	mustJSON(t, out, &res)
	if res.Created != 1 || res.Updated != 1 || len(res.Rejected) != 1 || res.Rejected[0].Line != 2 {
		t.Fatalf("import result %s", out)
	}
	// The same file again: both cases on file as given.
	resp, out = s.do("POST", "/admin/v1/cases", body, h)
	var again struct{ Created, Updated, Unchanged int }
	mustJSON(t, out, &again)
	if resp.StatusCode != http.StatusOK || again.Created != 0 || again.Updated != 0 || again.Unchanged != 2 {
		t.Fatalf("the same import again: %d %s, want 2 unchanged", resp.StatusCode, out)
	}
	// The import is audited under the token's name.
	resp, out = s.do("GET", "/admin/v1/audit?limit=1000", nil, h)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"actor":"admin:ops","action":"cases.import"`) {
		t.Fatalf("audit: %d %s", resp.StatusCode, out)
	}
	if err := s.portal.RevokeAdminToken(t.Context(), "ops", "test"); err != nil {
		t.Fatal(err)
	}
	resp, out = s.do("POST", "/admin/v1/cases", body, h)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("import with a revoked token: %d %s", resp.StatusCode, out)
	}
	resp, _ = s.do("POST", "/admin/v1/cases", body, map[string]string{"Content-Type": "application/x-ndjson"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("import without a token: %d", resp.StatusCode)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := newStack(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := s.do("GET", path, nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	s.store.Close()
	resp, _ := s.do("GET", "/readyz", nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz with the database closed: %d, want 503 with Retry-After", resp.StatusCode)
	}
}

// FuzzAPIBodies sends arbitrary bodies to every public JSON endpoint of a
// real stack: no answer may be a 5xx.
func FuzzAPIBodies(f *testing.F) {
	for _, seed := range []string{
		`{"receipt_number":"IOE0912345678","given_name":"José","family_name":"García López","date_of_birth":"1990-04-02","country_of_birth":"MX"}`,
		`{"request_id":"00","code":"K7M2Q-9XH4R"}`, `{"a_number":"A1234567"}`, `[]`, `{"given_name":null}`, "\x00", `{"code":1e999}`,
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(1))
	}
	s := newStack(f, relaxed)
	paths := []string{"/api/v1/access-codes", "/api/v1/sessions", "/api/v1/access-codes/x/resend"}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		path := paths[int(which)%len(paths)]
		resp, out := s.doAs(t, "POST", path, body, map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, resp.StatusCode, out)
		}
	})
}

// TestAdminListParametersGivenEmpty: a query parameter given with no value
// ("?status=") or more than once is a bad value, answered 400 naming the
// field, not read as if it were absent or as its first (the spec allows no
// empty value for any of them, and one value each).
func TestAdminListParametersGivenEmpty(t *testing.T) {
	s := newStack(t)
	token, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{"Authorization": "Bearer " + token}
	for _, tc := range []struct {
		path, field string
		want        int
	}{
		{"/admin/v1/deliveries?status=", "status", http.StatusBadRequest},
		{"/admin/v1/deliveries?status=bogus", "status", http.StatusBadRequest},
		{"/admin/v1/deliveries", "", http.StatusOK},
		{"/admin/v1/deliveries?status=sent", "", http.StatusOK},
		{"/admin/v1/audit?after=", "after", http.StatusBadRequest},
		{"/admin/v1/audit?limit=", "limit", http.StatusBadRequest},
		{"/admin/v1/audit?after=&limit=", "limit", http.StatusBadRequest},
		{"/admin/v1/audit?after=0&limit=10", "", http.StatusOK},
		{"/admin/v1/audit", "", http.StatusOK},
		{"/admin/v1/audit?limit=10&limit=5", "limit", http.StatusBadRequest},
		{"/admin/v1/audit?after=1&after=1", "after", http.StatusBadRequest},
		{"/admin/v1/deliveries?status=sent&status=failed", "status", http.StatusBadRequest},
	} {
		resp, out := s.do("GET", tc.path, nil, h)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.path, resp.StatusCode, out, tc.want)
			continue
		}
		if tc.field != "" && !strings.Contains(string(out), `"`+tc.field+`":`) {
			t.Errorf("%s: %s does not name the field %s", tc.path, out, tc.field)
		}
	}
}
