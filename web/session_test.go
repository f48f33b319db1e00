package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func bearerH(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func TestSessionCookieAndSignOut(t *testing.T) {
	s := newStack(t)
	iss := s.requestCode(jose)
	_, code := s.waitCode(1)
	resp, body := s.do("POST", "/api/v1/sessions", map[string]string{"request_id": iss.RequestID, "code": code}, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("redeem: %d %s", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-casegate_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("session cookie %+v: want __Host- HttpOnly Secure SameSite=Strict Path=/", cookie)
	}
	h := map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}
	if resp, body := s.do("GET", "/api/v1/me", nil, h); resp.StatusCode != http.StatusOK {
		t.Fatalf("me by cookie: %d %s", resp.StatusCode, body)
	}
	if resp, body := s.do("DELETE", "/api/v1/sessions/current", nil, h); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", resp.StatusCode, body)
	}
	if resp, _ := s.do("GET", "/api/v1/me", nil, h); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me after sign-out: %d, want 401", resp.StatusCode)
	}
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	s := newStack(t, relaxed)
	token := s.signIn(jose, 1)
	s.clock.Advance(14 * time.Minute)
	if resp, _ := s.do("GET", "/api/v1/me", nil, bearerH(token)); resp.StatusCode != http.StatusOK {
		t.Fatalf("after 14 idle minutes: %d", resp.StatusCode)
	}
	s.clock.Advance(15*time.Minute + time.Second)
	if resp, _ := s.do("GET", "/api/v1/me", nil, bearerH(token)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after 15 idle minutes: %d, want 401", resp.StatusCode)
	}
	token = s.signIn(jose, 2)
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-10*time.Minute; elapsed += 10 * time.Minute {
		s.clock.Advance(10 * time.Minute)
		if resp, _ := s.do("GET", "/api/v1/me", nil, bearerH(token)); resp.StatusCode != http.StatusOK {
			t.Fatalf("active session refused after %v", elapsed)
		}
	}
	s.clock.Advance(11 * time.Minute)
	if resp, _ := s.do("GET", "/api/v1/me", nil, bearerH(token)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after 12 h: %d, want 401", resp.StatusCode)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	s := newStack(t, relaxed)
	a := s.signIn(jose, 1)
	b := s.signIn(jose, 2)
	if resp, _ := s.do("DELETE", "/api/v1/sessions", nil, bearerH(a)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d", resp.StatusCode)
	}
	if resp, _ := s.do("GET", "/api/v1/me", nil, bearerH(b)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("other session still works: %d", resp.StatusCode)
	}
}

func TestCaseIsVisibleOnlyToItsParties(t *testing.T) {
	s := newStack(t, relaxed)
	token := s.signIn(jose, 1)
	resp, body := s.do("GET", "/api/v1/cases/ioe-0912345678", nil, bearerH(token))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"receipt_number":"IOE0912345678"`) || !strings.Contains(string(body), `"role":"applicant"`) {
		t.Fatalf("own case: %d %s", resp.StatusCode, body)
	}
	for _, receipt := range []string{"EAC2190012345", "IOE0000000000", "garbage"} {
		resp, body := s.do("GET", "/api/v1/cases/"+receipt, nil, bearerH(token))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "not_found") {
			t.Errorf("case %s: %d %s, want 404", receipt, resp.StatusCode, body)
		}
	}
	// The representative signs in with their own identity and sees the same case.
	rep := map[string]string{"receipt_number": "IOE0912345678", "given_name": "Ana", "family_name": "Smith",
		"date_of_birth": "1975-01-01", "country_of_birth": "United States", "channel": "email"}
	repToken := s.signIn(rep, 2)
	if msgs := s.smtp.Messages(); msgs[1].To[0] != "ana@lawfirm.example.com" {
		t.Fatalf("representative's code went to %v", msgs[1].To)
	}
	resp, body = s.do("GET", "/api/v1/cases/IOE0912345678", nil, bearerH(repToken))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"role":"representative"`) {
		t.Fatalf("representative's case: %d %s", resp.StatusCode, body)
	}
}

func TestRateLimitsAreKeyedOnWhatWasSubmitted(t *testing.T) {
	s := newStack(t)
	// Five requests per identifier per ten minutes, whether it matches or not.
	for _, who := range []map[string]string{jose, stranger} {
		for i := 0; i < 5; i++ {
			s.requestCode(who)
		}
		resp, body := s.do("POST", "/api/v1/access-codes", who, nil)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "rate_limited") {
			t.Fatalf("sixth request for %s: %d %s, want 429 rate_limited", who["receipt_number"], resp.StatusCode, body)
		}
	}
}

func TestClientIPFromTrustedProxyOnly(t *testing.T) {
	s := newStack(t)
	// Without a trusted proxy, X-Forwarded-For is ignored: 25 requests per IP
	// hold however the header varies.
	who := map[string]string{"given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01", "country_of_birth": "MX"}
	for i := 0; i < 25; i++ {
		who["receipt_number"] = "IOE00000000" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		resp, body := s.do("POST", "/api/v1/access-codes", who, map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('0'+i%10))})
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	who["receipt_number"] = "IOE0000000099"
	resp, _ := s.do("POST", "/api/v1/access-codes", who, map[string]string{"X-Forwarded-For": "198.51.100.7"})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("26th request from one socket address: %d, want 429", resp.StatusCode)
	}
}
