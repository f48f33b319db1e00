package identity

import (
	"strings"
	"testing"
)

func TestReceiptNumber(t *testing.T) {
	good := []struct{ in, want string }{
		{"IOE0912345678", "IOE0912345678"},
		{"ioe0912345678", "IOE0912345678"},
		{"  EAC-219-001-2345 ", "EAC2190012345"},
		{"EAC 21 900 12345", "EAC2190012345"},
		{"***EAC2190012345", "EAC2190012345"},
		{"eac–2190012345", "EAC2190012345"}, // en dash
		{"WAC\u00a02190012345", "WAC2190012345"},
	}
	for _, tt := range good {
		if got, err := ReceiptNumber(tt.in); err != nil || got != tt.want {
			t.Errorf("ReceiptNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "IOE", "IOE091234567", "IOE09123456789", "IO0912345678", "IOEE912345678",
		"0IOE912345678", "IOE091234567A", "IOE_0912345678", "IOE.0912345678",
		"ÍOE0912345678", "ıOE0912345678", "IOE０912345678", "A012345678",
		strings.Repeat(" ", 200) + "IOE0912345678",
	}
	for _, in := range bad {
		if got, err := ReceiptNumber(in); err != ErrReceiptNumber {
			t.Errorf("ReceiptNumber(%q) = %q, %v; want ErrReceiptNumber", in, got, err)
		}
	}
}

func TestANumber(t *testing.T) {
	good := []struct{ in, want string }{
		{"A012345678", "A012345678"},
		{"a012345678", "A012345678"},
		{"012345678", "A012345678"},
		{"A12345678", "A012345678"},
		{"1234567", "A001234567"},
		{"A-123-456-789", "A123456789"},
		{" A 123 456 789 ", "A123456789"},
		{"A0000001", "A000000001"},
	}
	for _, tt := range good {
		if got, err := ANumber(tt.in); err != nil || got != tt.want {
			t.Errorf("ANumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "A", "A123456", "123456", "A1234567890", "1234567890", "AA12345678",
		"A12345678B", "B12345678", "A12.345.678", "A 12345678 A", "A000000000", "0000000",
		"A١٢٣٤٥٦٧٨", "A１２３４５６７８", "-A12345678",
	}
	for _, in := range bad {
		if got, err := ANumber(in); err != ErrANumber {
			t.Errorf("ANumber(%q) = %q, %v; want ErrANumber", in, got, err)
		}
	}
}

func FuzzReceiptNumber(f *testing.F) {
	for _, s := range []string{"IOE0912345678", "eac-219-001-2345", "IOE*0912345678", "", "ıOE0912345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ReceiptNumber(s)
		if err != nil {
			return
		}
		if len(out) != 13 || !allIn(out[:3], 'A', 'Z') || !allIn(out[3:], '0', '9') {
			t.Fatalf("ReceiptNumber(%q) = %q, not canonical", s, out)
		}
		if again, err := ReceiptNumber(out); err != nil || again != out {
			t.Fatalf("ReceiptNumber(%q) = %q, %v; want itself", out, again, err)
		}
		if lower, err := ReceiptNumber(strings.ToLower(out)); err != nil || lower != out {
			t.Fatalf("lower case of %q gives %q, %v", out, lower, err)
		}
	})
}

func FuzzANumber(f *testing.F) {
	for _, s := range []string{"A012345678", "a-12-345-678", "1234567", "", "A000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ANumber(s)
		if err != nil {
			return
		}
		if len(out) != 10 || out[0] != 'A' || !allIn(out[1:], '0', '9') || out == "A000000000" {
			t.Fatalf("ANumber(%q) = %q, not canonical", s, out)
		}
		if again, err := ANumber(out); err != nil || again != out {
			t.Fatalf("ANumber(%q) = %q, %v; want itself", out, again, err)
		}
		if bare, err := ANumber(out[1:]); err != nil || bare != out {
			t.Fatalf("ANumber(%q) = %q, %v; want %q", out[1:], bare, err, out)
		}
	})
}
