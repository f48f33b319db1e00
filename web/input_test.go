package web_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestBadInputGetsProblemsNotServerErrors(t *testing.T) {
	s := newStack(t, relaxed)
	big := `{"given_name":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name   string
		path   string
		body   string
		status int
		code   string
		field  string // a field the problem must name
	}{
		{"malformed JSON", "/api/v1/access-codes", `{"given_name": "Jo`, 400, "invalid_request", ""},
		{"not an object", "/api/v1/access-codes", `[1,2]`, 400, "invalid_request", ""},
		{"null", "/api/v1/access-codes", `null`, 400, "invalid_request", ""},
		{"a member of null", "/api/v1/access-codes", `{"receipt_number":"IOE0912345678","given_name":null,"family_name":"B","date_of_birth":"1990-01-01","country_of_birth":"MX"}`, 400, "invalid_request", "given_name"},
		{"empty body", "/api/v1/access-codes", ``, 400, "invalid_request", ""},
		{"trailing data", "/api/v1/access-codes", `{} {}`, 400, "invalid_request", ""},
		{"unknown field", "/api/v1/access-codes", `{"receipt_number":"IOE0912345678","favourite_colour":"blue"}`, 400, "invalid_request", "favourite_colour"},
		{"wrong type", "/api/v1/access-codes", `{"given_name": 42}`, 400, "invalid_request", "given_name"},
		{"a field name in another case", "/api/v1/access-codes", `{"Receipt_Number":"IOE0912345678","given_name":"A","family_name":"B","date_of_birth":"1990-01-01","country_of_birth":"MX"}`, 400, "invalid_request", "Receipt_Number"},
		{"2 MB body", "/api/v1/access-codes", big, 413, "request_too_large", ""},
		{"impossible date", "/api/v1/access-codes", `{"receipt_number":"IOE0912345678","given_name":"A","family_name":"B","date_of_birth":"02/30/1990","country_of_birth":"MX"}`, 400, "invalid_request", "date_of_birth"},
		{"unknown country", "/api/v1/access-codes", `{"receipt_number":"IOE0912345678","given_name":"A","family_name":"B","date_of_birth":"1990-01-01","country_of_birth":"Atlantis"}`, 400, "invalid_request", "country_of_birth"},
		{"bad receipt", "/api/v1/access-codes", `{"receipt_number":"IOE12","given_name":"A","family_name":"B","date_of_birth":"1990-01-01","country_of_birth":"MX"}`, 400, "invalid_request", "receipt_number"},
		{"bad A-Number", "/api/v1/access-codes", `{"a_number":"A12","given_name":"A","family_name":"B","date_of_birth":"1990-01-01","country_of_birth":"MX"}`, 400, "invalid_request", "a_number"},
		{"bad channel", "/api/v1/access-codes", `{"receipt_number":"IOE0912345678","given_name":"A","family_name":"B","date_of_birth":"1990-01-01","country_of_birth":"MX","channel":"pigeon"}`, 400, "invalid_request", "channel"},
		{"nothing at all", "/api/v1/access-codes", `{}`, 400, "invalid_request", "given_name"},
		{"session without code", "/api/v1/sessions", `{"request_id":"x"}`, 400, "invalid_request", "code"},
		{"session wrong type", "/api/v1/sessions", `{"request_id":1,"code":2}`, 400, "invalid_request", "request_id"},
		{"unknown request id", "/api/v1/sessions", `{"request_id":"nope","code":"` + validCode(t) + `"}`, 410, "code_expired", ""},
		{"resend unknown", "/api/v1/access-codes/nope/resend", ``, 410, "code_expired", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := s.do("POST", c.path, c.body, map[string]string{"Content-Type": "application/json"})
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			var p problemBody
			mustJSON(t, body, &p)
			if p.Code != c.code || p.Status != c.status || p.Detail == "" {
				t.Errorf("problem %+v, want code %s", p, c.code)
			}
			if c.field != "" && p.Errors[c.field] == "" {
				t.Errorf("no message for field %s in %s", c.field, body)
			}
		})
	}
}

func TestSignedInRoutesNeedASession(t *testing.T) {
	s := newStack(t)
	for _, h := range []map[string]string{nil, {"Authorization": "Bearer not-a-token"}, {"Cookie": "casegate_session=forged"}} {
		resp, body := s.do("GET", "/api/v1/me", nil, h)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "unauthenticated") {
			t.Errorf("me with %v: %d %s", h, resp.StatusCode, body)
		}
	}
	resp, _ := s.do("GET", "/admin/v1/audit", nil, map[string]string{"Authorization": "Bearer cgadm_forged"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin with a forged token: %d", resp.StatusCode)
	}
	resp, _ = s.do("GET", "/dev/mailbox", nil, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/dev/mailbox outside demo mode: %d, want 404", resp.StatusCode)
	}
}

// TestNullBodyIsNotAnObject: a body of JSON null decodes into a struct as
// nothing, and a member of null as the field's zero value, so a route whose
// fields are all optional took {"email":null} as {"email":false} and null as
// {}; no body or member of the contract is null, and each is answered 400
// naming what is wrong.
func TestNullBodyIsNotAnObject(t *testing.T) {
	s := newStack(t, relaxed)
	token := s.signIn(jose, 1)
	for _, body := range []string{`null`, ` null `, "null\n"} {
		resp, out := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", body, bearerH(token))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), `"invalid_request"`) {
			t.Errorf("subscription with body %q: %d %s, want 400 invalid_request", body, resp.StatusCode, out)
		}
	}
	for _, body := range []string{`{"email":null}`, `{"email":true,"sms":null}`, `{"sms": null }`} {
		resp, out := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", body, bearerH(token))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), `"errors":{"`) {
			t.Errorf("subscription with body %s: %d %s, want 400 naming the field", body, resp.StatusCode, out)
		}
	}
	if resp, out := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", `{}`, bearerH(token)); resp.StatusCode != http.StatusOK {
		t.Errorf("subscription with {}: %d %s, want 200", resp.StatusCode, out)
	}
}
