package web_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
)

// series is one line of the Prometheus text format: a metric and its labels.
type series struct {
	name   string
	labels map[string]string
}

var (
	seriesLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrapeMetrics reads /metrics with the admin token.
func scrapeMetrics(t *testing.T, s *stack, admin string) []series {
	t.Helper()
	resp, body := s.do("GET", "/metrics", nil, bearerH(admin))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	var out []series
	for _, line := range strings.Split(string(body), "\n") {
		m := seriesLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		sr := series{name: m[1], labels: map[string]string{}}
		for _, l := range labelPair.FindAllStringSubmatch(m[2], -1) {
			sr.labels[l[1]] = l[2]
		}
		out = append(out, sr)
	}
	return out
}

// randomWord is a string a client made up, to look for in the metrics.
func randomWord() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "zq" + hex.EncodeToString(b)
}

// clientChosen sends requests whose method, path and fields are made up,
// 40 of each kind, and returns every made-up string it sent (not the known
// methods it sends spelt in lower case, which must count as other).
func clientChosen(t *testing.T, s *stack) []string {
	t.Helper()
	var sent []string
	word := func() string { w := randomWord(); sent = append(sent, w); return w }
	for range 40 {
		method := strings.ToUpper(word())
		sent = append(sent, method)
		s.do(method, "/api/v1/me", nil, nil)
		s.do(method, "/"+word(), nil, nil)
		for _, prefix := range []string{"/", "/api/", "/api/v1/", "/admin/v1/", "/static/", "/cases/", "/api/v1/cases/", "/api/v1/access-codes/"} {
			s.do("GET", prefix+word(), nil, nil)
		}
		s.do("POST", "/api/v1/access-codes/"+word()+"/resend", nil, nil)
		s.do("DELETE", "/"+word()+"/"+word(), nil, nil)
		who := map[string]string{}
		for k, v := range stranger {
			who[k] = v
		}
		who["channel"], who["language"] = word(), word()
		s.do("POST", "/api/v1/access-codes", who, nil)
		who["channel"] = "email"
		s.do("POST", "/api/v1/access-codes", who, nil)
		s.do("POST", "/api/v1/sessions", map[string]string{"request_id": word(), "code": word()}, nil)
	}
	// The review's three, methods no route has, and known ones spelt otherwise.
	for _, m := range []string{"FOO", "BAR", "BAZQUX", "PROPFIND", "TRACE", "CONNECT"} {
		sent = append(sent, m)
		s.do(m, "/api", nil, nil)
		s.do(m, "/admin/", nil, nil)
	}
	for _, m := range []string{"get", "Post"} {
		s.do(m, "/api/v1/me", nil, nil)
	}
	return sent
}

// TestMetricLabelsAreBounded sends requests with made-up methods, paths and
// fields, and reads /metrics: every label of every metric takes its value
// from a fixed set — methods outside the known seven are "other", routes are
// the patterns of routes.go or "unmatched" — no made-up string appears, and
// a second round of new made-up requests adds no series.
func TestMetricLabelsAreBounded(t *testing.T) {
	s := newStack(t, relaxed)
	admin, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	s.signIn(jose, 1) // some ordinary traffic too
	// The worker records the code's delivery just after it was sent.
	if !testenv.Eventually(5*time.Second, func() bool {
		return slices.ContainsFunc(scrapeMetrics(t, s, admin), func(sr series) bool { return sr.name == "casegate_deliveries_total" })
	}) {
		t.Fatal("the sign-in's delivery never showed in /metrics")
	}
	sent := clientChosen(t, s)
	first := scrapeMetrics(t, s, admin)
	sent = append(sent, clientChosen(t, s)...)
	second := scrapeMetrics(t, s, admin)

	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true, "OPTIONS": true, "other": true}
	routes := map[string]bool{"unmatched": true}
	for _, p := range routePatterns(t) {
		routes[p] = true
	}
	count := func(ss []series) (n int) {
		for _, sr := range ss {
			if strings.HasPrefix(sr.name, "casegate_") {
				n++
			}
		}
		return n
	}
	for _, sr := range second {
		for label, v := range sr.labels {
			for _, w := range sent {
				if strings.Contains(strings.ToLower(v), strings.ToLower(w)) {
					t.Errorf("%s{%s=%q}: a value the client chose", sr.name, label, v)
				}
			}
		}
		if sr.name != "casegate_http_requests_total" {
			continue
		}
		if m := sr.labels["method"]; !methods[m] || m == "get" || m == "Post" {
			t.Errorf("casegate_http_requests_total method=%q, want one of the seven or other", sr.labels["method"])
		}
		if !routes[sr.labels["route"]] {
			t.Errorf("casegate_http_requests_total route=%q, want a pattern of routes.go or unmatched", sr.labels["route"])
		}
		if !regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString(sr.labels["status"]) {
			t.Errorf("casegate_http_requests_total status=%q", sr.labels["status"])
		}
	}
	if a, b := count(first), count(second); b != a {
		t.Errorf("casegate_ series: %d after the first round of made-up requests, %d after the second: not bounded", a, b)
	}
	t.Logf("%d casegate_ series after %d made-up strings", count(second), len(sent))
}
