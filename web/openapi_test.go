package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/web"
)

// apiRoutes reads every route of the API, operator and health surfaces from
// routes.go, the one file that registers routes.
func apiRoutes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range routePatterns(t) {
		_, path, ok := strings.Cut(p, " ")
		if ok && (strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/admin/") || path == "/healthz" || path == "/readyz" || path == "/metrics") {
			out = append(out, p)
		}
	}
	if len(out) < 15 {
		t.Fatalf("found only %d API routes in routes.go: %v", len(out), out)
	}
	return out
}

func TestSpecAndRoutesAgree(t *testing.T) {
	doc := specDoc(t)
	var specRoutes []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			specRoutes = append(specRoutes, method+" "+path)
		}
	}
	routes := apiRoutes(t)
	for _, r := range routes {
		if !slices.Contains(specRoutes, r) {
			t.Errorf("route %s is served but not in the spec", r)
		}
	}
	for _, r := range specRoutes {
		if !slices.Contains(routes, r) {
			t.Errorf("the spec describes %s, which is not served", r)
		}
	}
	// And it is served as written.
	s := newStack(t)
	resp, body := s.do("GET", "/api/openapi.yaml", nil, nil)
	want, _ := os.ReadFile("api/openapi.yaml")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Fatalf("/api/openapi.yaml: %d, %d bytes (want %d)", resp.StatusCode, len(body), len(want))
	}
}

// The contract check: every HTTP server the web tests start serves through
// specGuard, which checks each exchange on a route the spec describes
// against the spec (kin-openapi's openapi3filter): the answer must be one the
// operation documents, with its status, content type, headers and body
// schema; a request the spec would refuse must not be accepted. Pages are not
// in the spec and pass unchecked; TestSpecAndRoutesAgree holds every API,
// operator and health route to the spec, so no API route is skipped.

var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// specDoc is the checked-in spec, loaded and validated (doc.Validate).
func specDoc(t testing.TB) *openapi3.T {
	t.Helper()
	specRouter(t)
	return spec.doc
}

// specRouter loads, validates and routes the checked-in spec, once per run.
func specRouter(t testing.TB) routers.Router {
	t.Helper()
	spec.once.Do(func() {
		// An import's JSON Lines body is text to the spec, as CSV is.
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.FileBodyDecoder)
		doc, err := openapi3.NewLoader().LoadFromFile("api/openapi.yaml")
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			spec.err = err
			return
		}
		doc.Servers = nil // match any host
		spec.doc = doc
		spec.router, spec.err = gorillamux.NewRouter(doc)
	})
	if spec.err != nil {
		t.Fatalf("the spec: %v", spec.err)
	}
	return spec.router
}

// specGuard checks the exchanges of one server against the spec. A
// violation fails t at once, or, when t is a fuzz target's F (whose methods
// may not be called while an input runs), is kept until the next report call
// with the input's own T, or the end of the test.
type specGuard struct {
	t      testing.TB
	router routers.Router

	mu      sync.Mutex
	pending []string
	checked int // exchanges checked, for tests of the guard itself
}

// guard wraps h in t's spec check. Benchmarks are not slowed by it.
func guard(t testing.TB, h http.Handler) (http.Handler, *specGuard) {
	t.Helper()
	if _, ok := t.(*testing.B); ok {
		return h, nil
	}
	g := &specGuard{t: t, router: specRouter(t)}
	t.Cleanup(func() { g.report(t) })
	return g.wrap(h), g
}

func (g *specGuard) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := &teeBody{ReadCloser: r.Body}
		r.Body = in
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if rec.status < 400 {
			// An accepted request is checked whole, even what the handler
			// left unread.
			io.Copy(io.Discard, io.LimitReader(in, 1<<20))
		}
		if msg := g.check(r, in.read.Bytes(), rec); msg != "" {
			g.violation(msg)
		}
	})
}

// check returns what is wrong with one exchange, or "".
func (g *specGuard) check(r *http.Request, reqBody []byte, rec *recorder) string {
	req := r.Clone(context.Background())
	req.URL = &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	req.RequestURI = ""
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := g.router.FindRoute(req)
	if err != nil {
		return "" // not in the spec: a page, or a path nothing serves
	}
	if canonicalRedirect(r, rec) {
		// net/http's mux sends a path with "." or ".." segments, or a
		// doubled slash, to its clean form: no operation ran, and the
		// exchange at the clean path is checked when a client follows it.
		return ""
	}
	// The spec's rule for a body without Content-Type: JSON, or an
	// import's JSON Lines.
	if req.Header.Get("Content-Type") == "" && len(reqBody) > 0 && route.Operation.RequestBody != nil {
		for _, mt := range []string{"application/json", "application/x-ndjson"} {
			if route.Operation.RequestBody.Value.Content.Get(mt) != nil {
				req.Header.Set("Content-Type", mt)
				break
			}
		}
	}
	g.mu.Lock()
	g.checked++
	g.mu.Unlock()
	what := fmt.Sprintf("%s %s → %d", r.Method, r.URL.Path, rec.status)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: specCredentials}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && rec.status < 400 {
		return fmt.Sprintf("%s: the request was accepted but breaks the spec: %v", what, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.status,
		Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Sprintf("%s: the answer breaks the spec: %v\n%.2000s", what, err, rec.body.Bytes())
	}
	if msg := retryAfterRule(rec); msg != "" {
		return what + ": " + msg
	}
	return ""
}

// canonicalRedirect reports whether rec is the mux's redirect of r to
// r's cleaned path (301 for GET and HEAD, 307 otherwise, from Go 1.22).
func canonicalRedirect(r *http.Request, rec *recorder) bool {
	if rec.status != http.StatusMovedPermanently && rec.status != http.StatusTemporaryRedirect {
		return false
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	clean := path.Clean(r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/") && clean != "/" {
		clean += "/"
	}
	return err == nil && loc.Path == clean && clean != r.URL.Path
}

// retryAfterRule is the spec's rule for 429 answers, which a schema cannot
// say: Retry-After, equal to the problem's retry_after, on every one but
// too_many_attempts, which is final (waiting does not help) and has none.
func retryAfterRule(rec *recorder) string {
	if rec.status != http.StatusTooManyRequests {
		return ""
	}
	var p struct {
		Code       string `json:"code"`
		RetryAfter *int   `json:"retry_after"`
	}
	if err := json.Unmarshal(rec.body.Bytes(), &p); err != nil {
		return "a 429 that is not a problem"
	}
	header := rec.Header().Get("Retry-After")
	switch {
	case p.Code == "too_many_attempts" && (header != "" || p.RetryAfter != nil):
		return "too_many_attempts is final but carries Retry-After"
	case p.Code != "too_many_attempts" && (p.RetryAfter == nil || header != strconv.Itoa(*p.RetryAfter)):
		return fmt.Sprintf("%s: Retry-After %q, retry_after %v; want both, equal", p.Code, header, p.RetryAfter)
	}
	return ""
}

// specCredentials accepts a request only when it carries the credential a
// security scheme of the spec names: a bearer token, or a cookie by the
// scheme's name.
func specCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r, scheme := in.RequestValidationInput.Request, in.SecurityScheme
	switch {
	case scheme.Type == "http" && scheme.Scheme == "bearer":
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
	case scheme.Type == "apiKey" && scheme.In == "cookie":
		if _, err := r.Cookie(scheme.Name); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no %s credential", in.SecuritySchemeName)
}

func (g *specGuard) violation(msg string) {
	if _, fuzz := g.t.(*testing.F); !fuzz {
		g.t.Error(msg)
		return
	}
	g.mu.Lock()
	g.pending = append(g.pending, msg)
	g.mu.Unlock()
}

// count is how many exchanges were checked.
func (g *specGuard) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.checked
}

// report fails t with the violations kept so far.
func (g *specGuard) report(t testing.TB) {
	t.Helper()
	if g == nil {
		return
	}
	g.mu.Lock()
	msgs := g.pending
	g.pending = nil
	g.mu.Unlock()
	for _, m := range msgs {
		t.Error(m)
	}
}

// teeBody keeps what the handler read of a request body.
type teeBody struct {
	io.ReadCloser
	read bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read.Write(p[:n])
	return n, err
}

// recorder passes an answer through and keeps its status and body.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// recordingTB keeps the errors reported to it instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Error(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprint(args...))
}

// TestSpecGuardCatchesViolations holds the contract check to its word: a
// handler that answers what the spec does not document is reported, one
// that answers as documented is not, and pages go unchecked.
func TestSpecGuardCatchesViolations(t *testing.T) {
	problem := func(w http.ResponseWriter, status int, code string, retryAfter string) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		ra := ""
		if retryAfter != "" {
			ra = `,"retry_after":` + retryAfter
		}
		fmt.Fprintf(w, `{"type":"about:blank","title":"x","status":%d,"code":%q%s}`, status, code, ra)
	}
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		answer                   func(w http.ResponseWriter)
		violation                string // "" for none
	}{
		{"documented", "POST", "/api/v1/access-codes", `{"receipt_number":"IOE0912345678","given_name":"a","family_name":"b","date_of_birth":"1990-01-01","country_of_birth":"MX"}`, nil,
			func(w http.ResponseWriter) { problem(w, 429, "rate_limited", "30") }, ""},
		{"plain-text 403", "POST", "/api/v1/access-codes", `{}`, nil,
			func(w http.ResponseWriter) { http.Error(w, "cross-origin request refused", http.StatusForbidden) }, "Content-Type"},
		{"undocumented status", "GET", "/api/v1/processing-times", "", nil,
			func(w http.ResponseWriter) { problem(w, http.StatusTeapot, "internal", "") }, "status is not supported"},
		{"429 without Retry-After", "POST", "/api/v1/sessions", `{"request_id":"r","code":"c"}`, nil,
			func(w http.ResponseWriter) { problem(w, 429, "rate_limited", "") }, "Retry-After"},
		{"final 429 with Retry-After", "POST", "/api/v1/sessions", `{"request_id":"r","code":"c"}`, nil,
			func(w http.ResponseWriter) { problem(w, 429, "too_many_attempts", "5") }, "final"},
		{"both identifiers accepted", "POST", "/api/v1/access-codes", `{"receipt_number":"IOE0912345678","a_number":"A012345678","given_name":"a","family_name":"b","date_of_birth":"1990-01-01","country_of_birth":"MX"}`, nil,
			func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(202)
				io.WriteString(w, `{"request_id":"r","expires_at":"2026-01-01T00:00:00Z","resend_after":"2026-01-01T00:00:00Z"}`)
			}, "accepted but breaks the spec"},
		{"a cookie the spec does not name", "GET", "/api/v1/me", "", map[string]string{"Cookie": "session=x"},
			func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"party":{"given_name":"a","family_name":"b","language":"en"},"cases":[]}`)
			}, "accepted but breaks the spec"},
		{"the plain-http cookie", "GET", "/api/v1/me", "", map[string]string{"Cookie": "casegate_session=x"},
			func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"party":{"given_name":"a","family_name":"b","language":"en"},"cases":[]}`)
			}, ""},
		{"a JSON body without Content-Type", "POST", "/api/v1/sessions", `{"request_id":"r","code":"c"}`, map[string]string{"Content-Type": ""},
			func(w http.ResponseWriter) { problem(w, 401, "code_incorrect", "") }, ""},
		{"a problem document taken as a request", "POST", "/api/v1/me/contact", `{"email":"a@example.com"}`, map[string]string{"Content-Type": "application/problem+json", "Authorization": "Bearer x"},
			func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(202)
				io.WriteString(w, `{"change_id":"c","expires_at":"2026-01-01T00:00:00Z"}`)
			}, "accepted but breaks the spec"},
		{"a page", "GET", "/dashboard", "", nil,
			func(w http.ResponseWriter) { http.Error(w, "anything", http.StatusTeapot) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			h, g := guard(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				tt.answer(w)
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range tt.header {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			rec.mu.Lock()
			errs := rec.errs
			rec.mu.Unlock()
			switch {
			case tt.violation == "" && len(errs) > 0:
				t.Errorf("reported %q, want nothing", errs)
			case tt.violation != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.violation)):
				t.Errorf("reported %q, want one violation about %q", errs, tt.violation)
			}
			want := 1
			if tt.path == "/dashboard" {
				want = 0
			}
			if n := g.count(); n != want {
				t.Errorf("%d exchanges checked, want %d", n, want)
			}
		})
	}
}

// TestAPIPlainHTTPSessionCookie signs in on a plain-http deployment, whose
// session cookie is casegate_session, and uses the cookie: the spec names it
// (the contract check refuses a credential the spec does not describe).
func TestAPIPlainHTTPSessionCookie(t *testing.T) {
	s := newStack(t, relaxed)
	serveAgain(t, s, func(d *web.Deps) { d.PublicURL, _ = url.Parse("http://status.casegate.test") })
	iss := s.requestCode(jose)
	_, code := s.waitCode(1)
	resp, body := s.do("POST", "/api/v1/sessions", map[string]string{"request_id": iss.RequestID, "code": code}, nil)
	c := cookieNamed(resp, "casegate_session")
	if resp.StatusCode != http.StatusCreated || c == nil || c.Secure {
		t.Fatalf("sign in over plain http: %d %s, cookie %v; want casegate_session without Secure", resp.StatusCode, body, c)
	}
	if resp, body := s.do("GET", "/api/v1/me", nil, map[string]string{"Cookie": "casegate_session=" + c.Value}); resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/v1/me with the cookie: %d %s", resp.StatusCode, body)
	}
	if n := s.spec.count(); n < 3 {
		t.Errorf("%d exchanges checked against the spec, want the 3 made", n)
	}
}

// TestAPIWebhookMatchesTheSpec sends text messages through the signed
// webhook to a receiver that checks each request against the spec's
// webhooks.smsMessage.
func TestAPIWebhookMatchesTheSpec(t *testing.T) {
	doc := specDoc(t)
	item := doc.Webhooks["smsMessage"]
	if item == nil || item.Post == nil {
		t.Fatal("the spec describes no webhooks.smsMessage POST")
	}
	route := &routers.Route{Spec: doc, Path: "/", PathItem: item, Method: http.MethodPost, Operation: item.Post}
	var mu sync.Mutex
	var seen int
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		in := &openapi3filter.RequestValidationInput{Request: r, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("the webhook request breaks the spec: %v\n%s", err, body)
		}
		mu.Lock()
		seen++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	secret := filepath.Join(t.TempDir(), "sms-webhook.key")
	if err := os.WriteFile(secret, []byte("7f1c0d2e9a8b4c3d5e6f708192a3b4c5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := delivery.ParseSMSURL("webhook+" + receiver.URL + "/casegate/sms?secret_file=" + url.QueryEscape(secret))
	if err != nil {
		t.Fatal(err)
	}
	sms, err := delivery.NewSMS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"K7M2Q-9XH4R is your access code.\n\n@status.casegate.test #K7M2Q9XH4R", "您的访问码是 K7M2Q-9XH4R。\n\n@status.casegate.test #K7M2Q9XH4R"} {
		if err := sms.Send(t.Context(), casegate.Message{Channel: casegate.ChannelSMS, To: "+12015550123", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != 2 {
		t.Errorf("the receiver saw %d requests, want 2", seen)
	}
}

// TestAPIOversizedBodiesAreDocumented413s sends a JSON body just over the
// 64 KiB limit to every operation the spec gives a JSON body, signed in and
// with an operator token: each answers a 413 request_too_large problem,
// which the contract check holds to the operation's documented answers.
func TestAPIOversizedBodiesAreDocumented413s(t *testing.T) {
	ss := newSignedInStack(t)
	doc := specDoc(t)
	big := `{"status":"` + strings.Repeat("x", 64<<10) + `"}`
	fill := strings.NewReplacer("{request_id}", ss.requestID, "{receipt_number}", "IOE0912345678",
		"{change_id}", "0123456789abcdef", "{id}", ss.partyID)
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				continue
			}
			n++
			h := map[string]string{"Authorization": "Bearer " + ss.token}
			if strings.HasPrefix(path, "/admin/") {
				h["Authorization"] = "Bearer " + ss.admin
			}
			resp, body := ss.do(method, fill.Replace(path), big, h)
			var p problemBody
			if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(body, &p) != nil || p.Code != "request_too_large" {
				t.Errorf("%s %s with %d bytes: %d %.200s, want a 413 request_too_large problem", method, path, len(big), resp.StatusCode, body)
			}
		}
	}
	if n != 6 {
		t.Errorf("%d operations with a JSON body, want the 6 of routes.go", n)
	}
}

// TestSpecLintsClean runs Redocly CLI's lint (pinned in package-lock.json)
// with its recommended rules over the spec: no errors. Its warnings (no
// license, operations that have no 4xx answer) are printed, not failed on.
func TestSpecLintsClean(t *testing.T) {
	node, script := testenv.Redocly(t)
	cmd := exec.Command(node, script, "lint", "api/openapi.yaml", "--format=json")
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var report struct {
		Totals struct {
			Errors   int `json:"errors"`
			Warnings int `json:"warnings"`
		} `json:"totals"`
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"problems"`
	}
	if jerr := json.Unmarshal(out, &report); jerr != nil {
		t.Fatalf("redocly lint: %v, %v\n%s\n%s", err, jerr, out, stderr.Bytes())
	}
	for _, p := range report.Problems {
		if p.Severity == "error" {
			t.Errorf("%s: %s", p.RuleID, p.Message)
		}
	}
	if report.Totals.Errors != 0 || err != nil {
		t.Errorf("redocly lint: %d errors (exit %v)", report.Totals.Errors, err)
	}
	t.Logf("redocly lint: %d errors, %d warnings", report.Totals.Errors, report.Totals.Warnings)
}

// TestGuardLetsTheMuxCleanAPath: the mux's redirect of a path with dot
// segments or doubled slashes to its clean form runs no operation and is not
// judged as one; any other redirect of an API path still is.
func TestGuardLetsTheMuxCleanAPath(t *testing.T) {
	for _, tc := range []struct {
		method, path, location string
		status                 int
		want                   bool
	}{
		{"POST", "/api/v1/me/contact/./confirm", "/api/v1/me/contact/confirm", 307, true},
		{"GET", "/api/v1//me", "/api/v1/me", 301, true},
		{"GET", "/api/v1/cases/../me", "/api/v1/me", 301, true},
		{"POST", "/api/v1/me/contact/./confirm", "/api/v1/elsewhere", 307, false},
		{"POST", "/api/v1/me/contact/confirm", "/api/v1/me/contact/confirm", 307, false},
		{"POST", "/api/v1/me/contact/./confirm", "/api/v1/me/contact/confirm", 302, false},
		{"POST", "/api/v1/me/contact/./confirm", "/api/v1/me/contact/confirm", 200, false},
	} {
		r := httptest.NewRequest(tc.method, "http://casegate.test/", nil)
		r.URL.Path = tc.path
		rec := &recorder{ResponseWriter: httptest.NewRecorder(), status: tc.status}
		rec.Header().Set("Location", tc.location)
		if got := canonicalRedirect(r, rec); got != tc.want {
			t.Errorf("%s %s → %d %s: canonical %v, want %v", tc.method, tc.path, tc.status, tc.location, got, tc.want)
		}
	}
}
