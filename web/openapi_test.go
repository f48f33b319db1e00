package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// loadSpec reads and validates the checked-in OpenAPI document.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("api/openapi.yaml")
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the spec is not valid OpenAPI: %v", err)
	}
	return doc
}

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
	doc := loadSpec(t)
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

// specChecker validates requests and answers against the spec.
type specChecker struct {
	t      *testing.T
	router routers.Router
}

func newSpecChecker(t *testing.T) *specChecker {
	doc := loadSpec(t)
	doc.Servers = nil // match any host
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &specChecker{t: t, router: router}
}

// check validates one exchange; body is the request body sent (nil for none).
func (c *specChecker) check(method, url string, reqBody []byte, resp *http.Response, respBody []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(reqBody))
	if reqBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s %s: not in the spec: %v", method, url, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && resp.StatusCode < 400 {
		c.t.Errorf("%s %s: the request was accepted but breaks the spec: %v", method, url, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s → %d: the answer breaks the spec: %v\n%s", method, url, resp.StatusCode, err, respBody)
	}
}
