package web_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzRoute is one route the HTTP fuzzing drives, beside the three public
// ones FuzzAPIBodies covers: how it is authenticated and what its input is.
type fuzzRoute struct {
	method, pattern string // as in routes.go
	auth            string // "session", "cookie", "admin", or "fuzz": a made-up bearer token
	input           string // "json", "import" (NDJSON or CSV), "query", "none"
	seed            string
}

var fuzzRoutes = []fuzzRoute{
	{"GET", "/api/v1/me", "session", "none", ""},
	{"GET", "/api/v1/cases/{receipt_number}", "cookie", "none", ""},
	{"PUT", "/api/v1/cases/{receipt_number}/subscription", "session", "json", `{"email":true,"sms":false}`},
	{"POST", "/api/v1/me/contact", "session", "json", `{"email":"new@example.com"}`},
	{"POST", "/api/v1/me/contact/{change_id}/confirm", "cookie", "json", `{"code":"K7M2Q-9XH4R"}`},
	{"DELETE", "/api/v1/sessions/current", "fuzz", "none", ""},
	{"DELETE", "/api/v1/sessions", "fuzz", "none", ""},
	{"GET", "/api/v1/processing-times", "", "query", "form=I-485&office=NBC"},
	{"GET", "/api/openapi.yaml", "", "query", ""},
	{"POST", "/admin/v1/cases", "admin", "import", `{"receipt_number":"WAC2290000001","form_type":"I-130","office":"CSC","received_on":"2025-01-02","parties":[{"role":"petitioner","given_name":"Ngozi","family_name":"Okafor","date_of_birth":"1980-07-07","country_of_birth":"NG","email":"ngozi@example.net"}]}`},
	{"POST", "/admin/v1/cases/{receipt_number}/events", "admin", "json", `{"status":"custom_step","title":"Interview","at":"2026-03-01T10:00:00Z"}`},
	{"POST", "/admin/v1/processing-times/recompute", "admin", "none", ""},
	{"GET", "/admin/v1/audit", "admin", "query", "after=0&limit=10"},
	{"GET", "/admin/v1/deliveries", "admin", "query", "status=failed"},
	{"POST", "/admin/v1/parties/{id}/unlock", "admin", "none", ""},
	{"GET", "/healthz", "", "query", ""},
	{"GET", "/readyz", "", "query", ""},
	{"GET", "/metrics", "admin", "query", ""},
}

// fuzzPages are page routes whose query string the fuzzing varies.
var fuzzPages = []string{"/", "/request", "/verify", "/dashboard", "/cases/IOE0912345678", "/contact", "/processing-times", "/static/casegate.css", "/unsubscribe", "/nowhere"}

// TestFuzzingCoversEveryAPIRoute holds the fuzz tables to routes.go: every
// API, operator and health route is fuzzed by FuzzAPIBodies or FuzzAPIRoutes.
func TestFuzzingCoversEveryAPIRoute(t *testing.T) {
	covered := []string{"POST /api/v1/access-codes", "POST /api/v1/access-codes/{request_id}/resend", "POST /api/v1/sessions"}
	for _, r := range fuzzRoutes {
		covered = append(covered, r.method+" "+r.pattern)
	}
	for _, route := range apiRoutes(t) {
		if !slices.Contains(covered, route) {
			t.Errorf("%s is not fuzzed: add it to fuzzRoutes", route)
		}
	}
}

// fuzzRequest builds the request for route r with seg in its path wildcard
// and payload as its body or query string.
func (ss *signedInStack) fuzzRequest(r fuzzRoute, seg, payload string, variant uint8) (method, path string, body any, header map[string]string) {
	fill := map[string]string{"{receipt_number}": "IOE0912345678", "{change_id}": "0123456789abcdef0123456789abcdef", "{id}": ss.partyID}
	path = r.pattern
	for k, v := range fill {
		if seg != "" {
			v = url.PathEscape(seg)
		}
		path = strings.ReplaceAll(path, k, v)
	}
	header = map[string]string{}
	switch r.auth {
	case "session":
		header["Authorization"] = "Bearer " + ss.token
	case "cookie":
		header["Cookie"] = ss.cookie
	case "admin":
		header["Authorization"] = "Bearer " + ss.admin
	case "fuzz":
		header["Authorization"] = "Bearer " + seg
	}
	switch r.input {
	case "json":
		body = payload
		header["Content-Type"] = []string{"application/json", "application/problem+json", "text/plain", "application/json; charset=utf-16", ""}[variant%5]
	case "import":
		body = payload
		header["Content-Type"] = []string{"application/x-ndjson", "text/csv", "text/csv; charset=latin1", "multipart/form-data"}[variant%4]
	case "query":
		path += "?" + payload
	}
	return r.method, path, body, header
}

// fuzzSend sends one request and reports whether it could be sent at all:
// some inputs make no valid HTTP request, which is the client's problem.
func (ss *signedInStack) fuzzSend(t testing.TB, method, path string, body any, header map[string]string) (*http.Response, []byte, bool) {
	var r io.Reader
	if b, ok := body.(string); ok {
		r = strings.NewReader(b)
	}
	req, err := http.NewRequest(method, ss.srv.URL+path, r)
	if err != nil {
		return nil, nil, false
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := ss.client.Do(req)
	if err != nil {
		return nil, nil, false
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ss.spec.report(t)
	return resp, data, true
}

// checkFuzzAnswer fails on a server error; API errors must be problems.
func checkFuzzAnswer(t testing.TB, what string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: %d %.300s", what, resp.StatusCode, body)
	}
	// net/http answers a request it cannot parse itself, before any route.
	ours := resp.Header.Get("Content-Security-Policy") != ""
	api := strings.Contains(what, " /api/v1/") || strings.Contains(what, " /admin/v1/")
	if ours && api && resp.StatusCode >= 400 && resp.StatusCode != http.StatusMethodNotAllowed &&
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: %d with Content-Type %q, want a problem", what, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// FuzzAPIRoutes sends arbitrary path segments, bodies and query strings to
// every signed-in, operator and health route, with valid tokens: no answer
// is a server error.
func FuzzAPIRoutes(f *testing.F) {
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), "", r.seed, uint8(0))
		f.Add(uint8(i), "IOE0912345678", r.seed+"}", uint8(1))
		f.Add(uint8(i), "../..%00", `{"email":null,"sms":"yes"}`, uint8(2))
	}
	f.Add(uint8(9), "", "receipt_number,form_type\nWAC2290000002,I-130\n\"unterminated", uint8(1))
	f.Add(uint8(9), "", strings.Repeat(`{"receipt_number":"WAC2290000003"}`+"\n", 50), uint8(0))
	f.Add(uint8(12), "", "after=-1&limit=99999999999999999999&after=x", uint8(0))
	f.Add(uint8(13), "", "status=%00%ff&status=pending", uint8(0))
	ss := newSignedInStack(f)
	f.Fuzz(func(t *testing.T, which uint8, seg, payload string, variant uint8) {
		r := fuzzRoutes[int(which)%len(fuzzRoutes)]
		method, path, body, header := ss.fuzzRequest(r, seg, payload, variant)
		resp, out, ok := ss.fuzzSend(t, method, path, body, header)
		if ok {
			checkFuzzAnswer(t, method+" "+path, resp, out)
		}
	})
}

// FuzzQueryStrings sends arbitrary query strings to the pages, signed in:
// no answer is a server error.
func FuzzQueryStrings(f *testing.F) {
	for i := range fuzzPages {
		f.Add(uint8(i), "")
		f.Add(uint8(i), "form=I-485&office=NBC&resent=1&signed_out=1&contact_changed=1&subscribed=1")
		f.Add(uint8(i), "form=%3Cscript%3E&office=%00&v=%ff%fe&lang=zz")
		f.Add(uint8(i), "t=AQJrMcE_AismTWi3_mjLYJJ9ZgIMdkHGrvRma1qr7yfVyjKq-P1qMMh2MYarPlByLWuQ4hq_8pteoWiw1A&t=x")
	}
	ss := newSignedInStack(f)
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		path := fuzzPages[int(which)%len(fuzzPages)] + "?" + query
		resp, out, ok := ss.fuzzSend(t, "GET", path, nil, map[string]string{"Cookie": ss.cookie, "Accept": "text/html"})
		if ok {
			checkFuzzAnswer(t, "GET "+path, resp, out)
		}
	})
}

// TestRandomRequestsForMinutes runs the HTTP fuzzing without the fuzz
// engine for minutes: random routes, page forms and the public API, with
// bodies mutated from seeds. Only with CASEGATE_LONG_TESTS=1; the duration
// is CASEGATE_LONG_FUZZ (default 3m).
func TestRandomRequestsForMinutes(t *testing.T) {
	if !longTests() {
		t.Skip("skipping: runs for minutes; set CASEGATE_LONG_TESTS=1")
	}
	d := 3 * time.Minute
	if v := os.Getenv("CASEGATE_LONG_FUZZ"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("CASEGATE_LONG_FUZZ: %v", err)
		}
	}
	ss := newSignedInStack(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("random seed %d", seed)
	public := []fuzzRoute{
		{"POST", "/api/v1/access-codes", "", "json", `{"receipt_number":"IOE0912345678","given_name":"José","family_name":"García López","date_of_birth":"1990-04-02","country_of_birth":"MX","channel":"email","language":"es"}`},
		{"POST", "/api/v1/sessions", "", "json", `{"request_id":"` + ss.requestID + `","code":"K7M2Q-9XH4R"}`},
		{"POST", "/api/v1/access-codes/{request_id}/resend", "", "none", ""},
		{"POST", "/request", "cookie", "form", joseForm.Encode()},
		{"POST", "/verify", "cookie", "form", "code=K7M2Q-9XH4R"},
		{"POST", "/contact", "cookie", "form", "email=new@example.com"},
		{"POST", "/cases/IOE0912345678/subscription", "cookie", "form", "email=1&sms=1"},
		{"POST", "/language", "", "form", "lang=es&next=/dashboard"},
	}
	routes := append(slices.Clone(fuzzRoutes), public...)
	seeds := make([][]byte, len(routes))
	for i, r := range routes {
		seeds[i] = []byte(r.seed)
	}
	statuses := map[int]int{}
	n := 0
	for deadline := time.Now().Add(d); time.Now().Before(deadline); n++ {
		i := rng.IntN(len(routes))
		r := routes[i]
		payload := string(mutate(rng, seeds[i], seeds[rng.IntN(len(seeds))]))
		seg := ""
		if rng.IntN(4) == 0 {
			seg = string(mutate(rng, []byte("IOE0912345678"), nil))
		}
		var method, path string
		var body any
		var header map[string]string
		if r.input == "form" {
			method, path, body = r.method, r.pattern, payload
			header = map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": ss.cookie, "Accept": "text/html"}
		} else {
			method, path, body, header = ss.fuzzRequest(r, seg, payload, uint8(rng.IntN(256)))
			path = strings.ReplaceAll(path, "{request_id}", ss.requestID)
		}
		resp, out, ok := ss.fuzzSend(t, method, path, body, header)
		if !ok {
			statuses[0]++
			continue
		}
		statuses[resp.StatusCode]++
		checkFuzzAnswer(t, fmt.Sprintf("%s %s %q", method, path, payload), resp, out)
	}
	t.Logf("%d requests in %v; by status: %v (0: not a valid HTTP request)", n, d, statuses)
	if strings.Contains(ss.logs.String(), `"panic"`) {
		t.Error("the server log records a panic")
	}
}

// fuzzTokens are pieces of JSON, forms and text that make parsers work.
var fuzzTokens = []string{`"`, `{`, `}`, `[`, `]`, `,`, `:`, `null`, `true`, `1e999`, `-0`, `0x10`, `"\u0000"`, `"\ud800"`,
	`\`, `%`, `%00`, `%zz`, `&`, `=`, "\x00", "\xff\xfe", "\r\n", `<script>`, `'`, `;`, strings.Repeat("[", 10000),
	strings.Repeat("a", 70_000), `"` + strings.Repeat("\u202e", 100) + `"`, `{"a":1,"a":2}`, "\n{}\n", "I-485", "IOE0912345678"}

// mutate returns a changed copy of seed: bytes flipped, inserted, deleted or
// repeated, tokens inserted, cut short, or spliced with other.
func mutate(rng *rand.Rand, seed, other []byte) []byte {
	b := slices.Clone(seed)
	for range 1 + rng.IntN(4) {
		at := 0
		if len(b) > 0 {
			at = rng.IntN(len(b) + 1)
		}
		switch rng.IntN(7) {
		case 0:
			if len(b) > 0 {
				b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
			}
		case 1:
			b = slices.Insert(b, at, byte(rng.IntN(256)))
		case 2:
			if at < len(b) {
				b = slices.Delete(b, at, min(len(b), at+1+rng.IntN(16)))
			}
		case 3:
			b = slices.Insert(b, at, []byte(fuzzTokens[rng.IntN(len(fuzzTokens))])...)
		case 4:
			if at < len(b) {
				span := b[at:min(len(b), at+1+rng.IntN(32))]
				b = slices.Insert(b, at, bytes.Repeat(span, 1+rng.IntN(8))...)
			}
		case 5:
			b = b[:at]
		case 6:
			if len(other) > 0 {
				from := rng.IntN(len(other))
				b = slices.Insert(b, at, other[from:min(len(other), from+1+rng.IntN(64))]...)
			}
		}
	}
	return b
}
