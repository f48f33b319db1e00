package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	good := map[string]struct {
		n   int
		per time.Duration
	}{"5/10m": {5, 10 * time.Minute}, " 25 / 5m ": {25, 5 * time.Minute}, "10/24h": {10, 24 * time.Hour}}
	for in, want := range good {
		r, err := parseRate(in)
		if err != nil || r.N != want.n || r.Per != want.per {
			t.Errorf("parseRate(%q) = %+v, %v", in, r, err)
		}
	}
	for _, in := range []string{"", "5", "/10m", "5/", "0/1m", "-1/1m", "5/-1m", "five/1m", "5/10 minutes", "2000000000/1ns"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q) accepted", in)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"5/10m", "1/1ns", "x/y", "99999999999/1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRate(s)
		if err != nil {
			return
		}
		if r.N < 1 || r.Per <= 0 || r.Per/time.Duration(r.N) <= 0 {
			t.Fatalf("parseRate(%q) accepted an unusable rate %+v", s, r)
		}
		if back, err := parseRate(formatRate(r)); err != nil || back != r {
			t.Fatalf("round trip of %q: %+v, %v", s, back, err)
		}
	})
}

func TestParseProxies(t *testing.T) {
	ps, err := parseProxies("10.0.0.0/8, 192.0.2.1 ,::1,")
	if err != nil || len(ps) != 3 || ps[1].Bits() != 32 || ps[2].Bits() != 128 {
		t.Fatalf("parseProxies = %v, %v", ps, err)
	}
	for _, in := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/8/2"} {
		if _, err := parseProxies(in); err == nil {
			t.Errorf("parseProxies(%q) accepted", in)
		}
	}
}

func FuzzParseProxies(f *testing.F) {
	f.Add("10.0.0.0/8,::1")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parseProxies(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() {
				t.Fatalf("invalid prefix from %q", s)
			}
		}
	})
}

// TestBadConfigurationNamesTheVariable checks that every setting refuses a bad
// value at start with the variable (or flag) in the message.
func TestBadConfigurationNamesTheVariable(t *testing.T) {
	bad := map[string]string{
		"CASEGATE_LISTEN":                          "nowhere",
		"CASEGATE_PUBLIC_URL":                      "ftp://x",
		"CASEGATE_MAIL_FROM":                       "not an address",
		"CASEGATE_TRUSTED_PROXIES":                 "10.0.0.0/99",
		"CASEGATE_LOG_LEVEL":                       "loud",
		"CASEGATE_CODE_LENGTH":                     "7",
		"CASEGATE_CODE_TTL":                        "ten minutes",
		"CASEGATE_CODE_MAX_ATTEMPTS":               "0",
		"CASEGATE_RESEND_COOLDOWN":                 "-1s",
		"CASEGATE_LIMIT_REQUESTS_PER_IDENTIFIER":   "5 per 10m",
		"CASEGATE_LIMIT_REDEEMS_PER_IP":            "0/5m",
		"CASEGATE_LOCK_AFTER_CONSECUTIVE_FAILURES": "0",
		"CASEGATE_SESSION_IDLE":                    "0s",
		"CASEGATE_SMS_URL":                         "kannel://localhost",
		"CASEGATE_PROCESSING_MIN_CASES":            "0",
	}
	for name, value := range bad {
		getenv := func(k string) string {
			if k == name {
				return value
			}
			return ""
		}
		_, err := loadConfig(newFlagSet("test", io.Discard), nil, getenv)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming the variable", name, value, err)
		}
	}
	_, err := loadConfig(newFlagSet("test", io.Discard), []string{"-code-ttl", "soon"}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "--code-ttl") {
		t.Errorf("bad flag: %v, want one naming --code-ttl", err)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"CASEGATE_LISTEN": "127.0.0.1:9000", "CASEGATE_CODE_TTL": "5m"}[k]
	}
	c, err := loadConfig(newFlagSet("test", io.Discard), []string{"-listen", "127.0.0.1:9001"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9001" || c.Limits.CodeTTL != 5*time.Minute || c.PublicURL.String() != "http://127.0.0.1:9001" {
		t.Fatalf("config %+v", c)
	}
}

// minCasesFrom loads the configuration with CASEGATE_PROCESSING_MIN_CASES=v.
func minCasesFrom(v string) (int, error) {
	c, err := loadConfig(newFlagSet("test", io.Discard), nil, func(k string) string {
		if k == "CASEGATE_PROCESSING_MIN_CASES" {
			return v
		}
		return ""
	})
	return c.Limits.ProcessingMinCases, err
}

func TestProcessingMinCases(t *testing.T) {
	for in, want := range map[string]int{"": 10, "10": 10, "1": 1, "25": 25, "1000000": 1_000_000} {
		if got, err := minCasesFrom(in); err != nil || got != want {
			t.Errorf("CASEGATE_PROCESSING_MIN_CASES=%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-3", "ten", "1.5", " 10", "1000001", "99999999999999999999"} {
		if got, err := minCasesFrom(in); err == nil || !strings.Contains(err.Error(), "CASEGATE_PROCESSING_MIN_CASES") {
			t.Errorf("CASEGATE_PROCESSING_MIN_CASES=%q: %d, %v; want an error naming the variable", in, got, err)
		}
	}
}

func FuzzProcessingMinCases(f *testing.F) {
	for _, s := range []string{"10", "0", "-1", "1e3", "+5", "007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := minCasesFrom(s)
		if err != nil {
			if !strings.Contains(err.Error(), "CASEGATE_PROCESSING_MIN_CASES") {
				t.Fatalf("%q: %v does not name the variable", s, err)
			}
			return
		}
		if n < 1 || n > 1_000_000 {
			t.Fatalf("%q: accepted %d", s, n)
		}
	})
}

// TestREADMEListsEverySetting keeps the README's configuration table in
// step with the settings: every variable is in it, with its default.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if cells := strings.Split(line, " | "); len(cells) >= 3 && strings.HasPrefix(cells[0], "| `CASEGATE_") {
			rows[strings.Trim(cells[0], "| `")] = cells[1]
		}
	}
	for _, s := range settings() {
		row, ok := rows[s.env]
		if !ok {
			t.Errorf("README's configuration table has no row for %s", s.env)
			continue
		}
		if s.def == "" { // the README says in words what an unset value means
			continue
		}
		shown := strings.Trim(row, "`")
		if d, err := time.ParseDuration(s.def); err == nil {
			if e, err := time.ParseDuration(shown); err == nil && e == d {
				continue
			}
		}
		if r, err := parseRate(s.def); err == nil {
			if e, err := parseRate(shown); err == nil && e == r {
				continue
			}
		}
		if shown != s.def {
			t.Errorf("README gives %s the default %s, the setting %q", s.env, row, s.def)
		}
	}
}
