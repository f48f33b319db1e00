package store

import (
	"testing"
	"time"
)

func TestTimeColumns(t *testing.T) {
	zone := time.FixedZone("UTC+3", 3*3600)
	tests := []struct {
		in   time.Time
		want time.Time
	}{
		{time.Time{}, time.Time{}},
		{time.Date(2025, 6, 1, 15, 0, 0, 999, zone), time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)},
		{time.Date(2025, 6, 1, 12, 0, 0, 1500, time.UTC), time.Date(2025, 6, 1, 12, 0, 0, 1000, time.UTC)},
		{time.Unix(0, 0), time.Unix(0, 0).UTC()},
		{time.Date(1950, 1, 2, 3, 4, 5, 6000, time.UTC), time.Date(1950, 1, 2, 3, 4, 5, 6000, time.UTC)},
	}
	for _, tt := range tests {
		var got time.Time
		if err := scanTime(&got).Scan(micros(tt.in)); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(tt.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("round trip of %v = %v, want %v in UTC", tt.in, got, tt.want)
		}
	}
}

func TestDateColumns(t *testing.T) {
	tests := []struct {
		in   time.Time
		want any
	}{
		{time.Time{}, nil},
		{time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC), "2025-03-14"},
		// A date written in another zone keeps its calendar day.
		{time.Date(2025, 3, 14, 0, 0, 0, 0, time.FixedZone("UTC+2", 2*3600)), "2025-03-14"},
	}
	for _, tt := range tests {
		if got := date(tt.in); got != tt.want {
			t.Errorf("date(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	var d time.Time
	if err := scanDate(&d).Scan("2025-03-14"); err != nil || !d.Equal(time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("scan date = %v, %v", d, err)
	}
	if err := scanDate(&d).Scan("14/03/2025"); err == nil {
		t.Error("a malformed date scanned without an error")
	}
}
