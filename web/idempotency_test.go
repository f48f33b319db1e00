package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/casegate/casegate"
)

func TestIdempotencyKey(t *testing.T) {
	uuid := "8e03978e-40d5-43e8-bc93-6894a57f9324"
	tests := []struct {
		name   string
		values []string // the header's values; nil for none
		want   string
		ok     bool
	}{
		{"none", nil, "", true},
		{"bare", []string{uuid}, uuid, true},
		{"structured-field string", []string{`"` + uuid + `"`}, uuid, true},
		{"surrounding spaces", []string{"  " + uuid + " "}, uuid, true},
		{"one character", []string{"x"}, "x", true},
		{"255 characters", []string{strings.Repeat("k", 255)}, strings.Repeat("k", 255), true},
		{"empty", []string{""}, "", false},
		{"empty string", []string{`""`}, "", false},
		{"256 characters", []string{strings.Repeat("k", 256)}, "", false},
		{"a space inside", []string{"two words"}, "", false},
		{"a quote inside", []string{`a"b`}, "", false},
		{"an unclosed quote", []string{`"abc`}, "", false},
		{"a backslash", []string{`a\b`}, "", false},
		{"non-ASCII", []string{"clé"}, "", false},
		{"a control character", []string{"a\x01b"}, "", false},
		{"two headers", []string{"a", "b"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Idempotency-Key", v)
			}
			got, err := idempotencyKey(h)
			switch {
			case tt.ok && (err != nil || got != tt.want):
				t.Errorf("idempotencyKey(%q) = %q, %v; want %q", tt.values, got, err, tt.want)
			case !tt.ok && (err == nil || casegate.ErrorCodeOf(err) != casegate.EInvalid):
				t.Errorf("idempotencyKey(%q) = %q, %v; want an invalid_request error", tt.values, got, err)
			}
		})
	}
}

// FuzzIdempotencyKey: any header value gives a key of 1 to 255 visible
// ASCII characters, which reads back the same bare and quoted, or an
// invalid_request error; never a panic.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"8e03978e-40d5-43e8-bc93-6894a57f9324", `"k"`, `""`, " ", "a b", "\"\\\"", strings.Repeat("z", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Idempotency-Key": {v}}
		key, err := idempotencyKey(h)
		if err != nil {
			if casegate.ErrorCodeOf(err) != casegate.EInvalid {
				t.Fatalf("%q: %v, want an invalid_request error", v, err)
			}
			return
		}
		if key == "" || len(key) > 255 || strings.ContainsAny(key, " \"\\") {
			t.Fatalf("%q gave key %q", v, key)
		}
		for _, again := range []string{key, `"` + key + `"`} {
			if k, err := idempotencyKey(http.Header{"Idempotency-Key": {again}}); err != nil || k != key {
				t.Fatalf("%q gave %q, but %q gives %q, %v", v, key, again, k, err)
			}
		}
	})
}
