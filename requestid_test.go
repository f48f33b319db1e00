package casegate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/casegate/casegate"
)

func TestValidRequestID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"0123456789abcdefABCDEF", true},
		{"edge-7f3a.42:x=1_z", true},
		{"f47ac10b-58cc-4372-a567-0e02b2c3d479", true},
		{casegate.NewRequestID(), true},
		{strings.Repeat("x", casegate.MaxRequestIDLen), true},
		{strings.Repeat("x", casegate.MaxRequestIDLen+1), false},
		{"", false},
		{"with space", false},
		{"line\nbreak", false},
		{`quote"`, false},
		{"brace{}", false},
		{"slash/", false},
		{"é", false},
		{"\x00", false},
		{"<script>", false},
	} {
		if got := casegate.ValidRequestID(c.id); got != c.want {
			t.Errorf("ValidRequestID(%.30q) = %v, want %v", c.id, got, c.want)
		}
	}
}

func TestNewRequestIDIsFreshAndValid(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := casegate.NewRequestID()
		if len(id) != 26 || !casegate.ValidRequestID(id) || seen[id] {
			t.Fatalf("NewRequestID() = %q: want 26 characters, valid, never seen before", id)
		}
		seen[id] = true
	}
}

// FuzzValidRequestID: an accepted ID is short and cannot break a header, a
// log line or a JSON string: it comes back from JSON as it went in, unquoted.
func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{"abc", "edge-7f3a.42:x=1", "a b", "\"", "é", strings.Repeat("z", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !casegate.ValidRequestID(id) {
			return
		}
		if len(id) > casegate.MaxRequestIDLen || strings.ContainsAny(id, " \t\r\n\"\\/<>{}") {
			t.Fatalf("%q accepted", id)
		}
		b, _ := json.Marshal(id)
		if string(b) != `"`+id+`"` {
			t.Fatalf("%q needs escaping in JSON: %s", id, b)
		}
	})
}

// TestRequestLogHandler: a line logged with a request's context names the
// request; one logged without does not; wrapping twice adds it once.
func TestRequestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	h := casegate.RequestLogHandler(slog.NewJSONHandler(&buf, nil))
	log := slog.New(casegate.RequestLogHandler(h)).With("component", "test")
	ctx := casegate.WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "in a request")
	log.Info("outside any request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	if got := strings.Count(lines[0], `"`+casegate.RequestIDKey+`":"req-1"`); got != 1 {
		t.Errorf("line in a request names it %d times: %s", got, lines[0])
	}
	if !strings.Contains(lines[0], `"component":"test"`) {
		t.Errorf("the logger's own attributes are lost: %s", lines[0])
	}
	if strings.Contains(lines[1], casegate.RequestIDKey) {
		t.Errorf("line outside any request names one: %s", lines[1])
	}
}
