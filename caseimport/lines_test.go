package caseimport

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// line is what LineReader.Next returned once.
type line struct {
	text    string
	n       int
	tooLong bool
}

// readLines reads every line of data with a LineReader that allows lines of
// limit bytes, and returns them with the number of the last line read.
func readLines(t *testing.T, data []byte, limit int) ([]line, int) {
	t.Helper()
	lr := NewLineReader(bytes.NewReader(data))
	lr.limit = limit
	var out []line
	for {
		text, n, err := lr.Next()
		switch {
		case err == io.EOF:
			return out, lr.Line()
		case errors.Is(err, ErrLineTooLong):
			out = append(out, line{n: n, tooLong: true})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			out = append(out, line{text: string(text), n: n})
		}
	}
}

func TestLineReader(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  string
		limit int
		want  []line
		last  int
	}{
		{"empty", "", 10, nil, 0},
		{"one line without an ending", `{"a":1}`, 10, []line{{text: `{"a":1}`, n: 1}}, 1},
		{"line endings", "a\nb\r\nc\r\n", 10, []line{{text: "a", n: 1}, {text: "b", n: 2}, {text: "c", n: 3}}, 3},
		{"blank lines skipped and counted", "\n  \t\r\na\n\r\n\nb\n\n", 10, []line{{text: "a", n: 3}, {text: "b", n: 6}}, 7},
		{"byte-order mark on the first line", "\ufeffa\n\ufeffb\n", 10, []line{{text: "a", n: 1}, {text: "\ufeffb", n: 2}}, 2},
		{"a byte-order mark alone is a blank line", "\ufeff\nb", 10, []line{{text: "b", n: 2}}, 2},
		{"a lone CR stays in the line", "a\rb\n", 10, []line{{text: "a\rb", n: 1}}, 1},
		{"white space inside a line is kept", " a \n", 10, []line{{text: " a ", n: 1}}, 1},
		{"exactly the limit", "12345\n", 5, []line{{text: "12345", n: 1}}, 1},
		{"exactly the limit with CRLF", "12345\r\n", 5, []line{{text: "12345", n: 1}}, 1},
		{"one over the limit", "123456\nok\n", 5, []line{{n: 1, tooLong: true}, {text: "ok", n: 2}}, 2},
		{"over the limit at the end", "ok\n1234567", 5, []line{{text: "ok", n: 1}, {n: 2, tooLong: true}}, 2},
		{"the real limit", strings.Repeat("x", MaxLine) + "\n" + strings.Repeat("y", MaxLine+1) + "\r\nz",
			MaxLine, []line{{text: strings.Repeat("x", MaxLine), n: 1}, {n: 2, tooLong: true}, {text: "z", n: 3}}, 3},
		{"far over the buffer", strings.Repeat("y", 3*MaxLine) + "\nz\n", MaxLine, []line{{n: 1, tooLong: true}, {text: "z", n: 2}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, last := readLines(t, []byte(tc.data), tc.limit)
			if !slices.Equal(got, tc.want) {
				t.Errorf("lines %+v, want %+v", got, tc.want)
			}
			if last != tc.last {
				t.Errorf("Line() = %d at the end, want %d", last, tc.last)
			}
		})
	}
}

// FuzzLineReader checks LineReader against the rules said plainly: split
// at \n, drop one \r before it, the byte-order mark of the first line, the
// blank lines, and the lines over the limit.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nb\r\n\n \r\n\ufeffc"), 4)
	f.Add([]byte("\ufeff{}\r\n123456789\n\r\r\n"), 3)
	f.Add([]byte(""), 1)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		if limit < 1 || limit > 64 {
			return
		}
		var want []line
		parts := strings.Split(string(data), "\n")
		if parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1] // the text after the last \n, if any, is a line
		}
		for i, p := range parts {
			p = strings.TrimSuffix(p, "\r")
			switch {
			case len(p) > limit:
				want = append(want, line{n: i + 1, tooLong: true})
				continue
			case i == 0:
				p = strings.TrimPrefix(p, "\ufeff")
			}
			if strings.TrimSpace(p) != "" {
				want = append(want, line{text: p, n: i + 1})
			}
		}
		got, last := readLines(t, data, limit)
		if !slices.Equal(got, want) {
			t.Fatalf("%q, limit %d: lines %+v, want %+v", data, limit, got, want)
		}
		if last != len(parts) {
			t.Fatalf("%q: Line() = %d at the end, want %d", data, last, len(parts))
		}
	})
}
