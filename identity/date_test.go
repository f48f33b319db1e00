package identity

import (
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	good := []struct{ in, want string }{
		{"1990-04-02", "1990-04-02"},
		{"04/02/1990", "1990-04-02"},
		{"4/2/1990", "1990-04-02"},
		{"1990-4-2", "1990-04-02"},
		{" 12/31/1999 ", "1999-12-31"},
		{"2000-02-29", "2000-02-29"}, // divisible by 400: leap
		{"02/29/2024", "2024-02-29"},
		{"1880-01-01", "1880-01-01"},
		{"2200-12-31", "2200-12-31"},
	}
	for _, tt := range good {
		if got, err := Date(tt.in); err != nil || got != tt.want {
			t.Errorf("Date(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "1990", "1990-04", "1990-02-30", "1990-13-01", "1990-00-10", "1990-01-00",
		"1990-04-31", "02/29/2023", "1900-02-29", "2100-02-29", "1879-12-31", "2201-01-01",
		"02/04/90", "90-04-02", "1990/04/02", "1990.04.02", "04-02-1990", "1990-04-02T00:00:00Z",
		"1990-004-02", "+1990-04-02", "1990-04-+2", "1990-04-02-01", "04/02/1990/1",
		"１９９０-04-02", "April 2, 1990", "31/12/1999",
	}
	for _, in := range bad {
		if got, err := Date(in); err != ErrDate {
			t.Errorf("Date(%q) = %q, %v; want ErrDate", in, got, err)
		}
	}
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"1990-04-02", "4/2/1990", "02/29/2023", "2000-02-29", "", "9999-99-99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Date(s)
		if err != nil {
			return
		}
		d, perr := time.Parse(time.DateOnly, out)
		if perr != nil || d.Format(time.DateOnly) != out || d.Year() < minYear || d.Year() > maxYear {
			t.Fatalf("Date(%q) = %q, not a canonical date in range", s, out)
		}
		if again, err := Date(out); err != nil || again != out {
			t.Fatalf("Date(%q) = %q, %v; want itself", out, again, err)
		}
		if us, err := Date(d.Format("01/02/2006")); err != nil || us != out {
			t.Fatalf("US form of %q gives %q, %v", out, us, err)
		}
	})
}
