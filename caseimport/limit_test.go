package caseimport

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// limitRead reads all of data through a lineLimiter of limit, in reads of
// one byte when slow, and returns what passed and the error.
func limitRead(data string, limit int, slow bool) (string, error) {
	var r io.Reader = strings.NewReader(data)
	if slow {
		r = iotest.OneByteReader(r)
	}
	var out bytes.Buffer
	_, err := io.Copy(&out, &lineLimiter{r: r, limit: limit})
	return out.String(), err
}

func TestLineLimiter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    string
		tooLong bool
	}{
		{"empty", "", false},
		{"short lines", "abc\nde\n", false},
		{"exactly the limit", "abcde\nabcde", false},
		{"one over", "abcdef\n", true},
		{"one over at the end", "ab\nabcdef", true},
		{"the newline is not counted", "abcde\n\n\nabcde\n", false},
		{"a CR is counted", "abcd\r\n", false},
		{"a CR over the limit", "abcde\r\n", true},
	} {
		for _, slow := range []bool{false, true} {
			got, err := limitRead(tc.data, 5, slow)
			if tc.tooLong {
				if !errors.Is(err, ErrLineTooLong) {
					t.Errorf("%s (one byte a read: %v): error %v, want ErrLineTooLong", tc.name, slow, err)
				}
				continue
			}
			if err != nil || got != tc.data {
				t.Errorf("%s (one byte a read: %v): passed %q, %v; want all of it", tc.name, slow, got, err)
			}
		}
	}
}

// FuzzLineLimiter checks that the limiter passes a file whose lines all fit
// unchanged, and stops one with a line over the limit before its end.
func FuzzLineLimiter(f *testing.F) {
	f.Add("abc\ndefgh\n", 4, false)
	f.Add("\r\n\r\n", 1, true)
	f.Fuzz(func(t *testing.T, data string, limit int, slow bool) {
		if limit < 1 || limit > 64 {
			return
		}
		over := false
		for l := range strings.SplitSeq(data, "\n") {
			over = over || len(l) > limit
		}
		got, err := limitRead(data, limit, slow)
		switch {
		case over && !errors.Is(err, ErrLineTooLong):
			t.Fatalf("%q, limit %d: error %v, want ErrLineTooLong", data, limit, err)
		case over && len(got) >= len(data):
			t.Fatalf("%q, limit %d: passed all of it before stopping", data, limit)
		case !over && (err != nil || got != data):
			t.Fatalf("%q, limit %d: passed %q, %v", data, limit, got, err)
		}
	})
}
