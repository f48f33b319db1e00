package caseimport

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time // zero: refused
	}{
		{"2026-03-01T10:00:00Z", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-03-01t10:00:00z", time.Time{}},
		{"2026-03-01T10:00:00.123456789Z", time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)},
		{"2026-03-01T05:00:00-05:00", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-03-01T0:00:00Z", time.Time{}}, // one-digit hour: time.Parse takes it
		{"2026-03-01T10:0:00Z", time.Time{}},
		{"2026-3-01T10:00:00Z", time.Time{}},
		{"2026-03-01T10:00:00", time.Time{}},
		{"2026-03-01 10:00:00Z", time.Time{}},
		{"2026-03-01T10:00:00.Z", time.Time{}},
		{"2026-03-01T10:00:00.1234567890Z", time.Time{}},
		{"2026-03-01T10:00:00+0500", time.Time{}},
		{"2026-02-30T10:00:00Z", time.Time{}},
		{"2026-03-01T24:00:00Z", time.Time{}},
		{" 2026-03-01T10:00:00Z", time.Time{}},
		{"2026-03-01T10:00:00Z\n", time.Time{}},
		{"", time.Time{}},
	} {
		got, err := ParseTimestamp(tc.in)
		switch {
		case tc.want.IsZero() && err == nil:
			t.Errorf("ParseTimestamp(%q) = %v, want refused", tc.in, got)
		case !tc.want.IsZero() && (err != nil || !got.Equal(tc.want)):
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseTimestamp: whatever is accepted is a time that prints back as
// an RFC 3339 that reads back as the same time, so nothing looser slips
// through.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-03-01T10:00:00Z", "2026-03-01T0:00:00Z", "2026-03-01T05:00:00.5-05:00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimestamp(s)
		if err != nil {
			return
		}
		again, err := ParseTimestamp(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q read as %v, which does not read back: %v", s, got, err)
		}
		if len(s) < len("2006-01-02T15:04:05Z") {
			t.Fatalf("%q is too short for RFC 3339 but was read as %v", s, got)
		}
	})
}
