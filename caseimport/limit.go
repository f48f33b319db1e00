package caseimport

import "io"

// lineLimiter passes r through and fails with ErrLineTooLong once a line
// exceeds MaxLine: a CSV reader would otherwise hold a whole broken file
// (an unterminated quote) in memory.
type lineLimiter struct {
	r     io.Reader
	limit int // MaxLine; smaller in tests
	run   int // bytes since the last newline
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
		} else if l.run++; l.run > l.limit {
			return 0, ErrLineTooLong
		}
	}
	return n, err
}
