package caseimport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong is what LineReader.Next returns for a line longer than
// MaxLine, and what stops a CSVReader at a physical line that long.
var ErrLineTooLong = errors.New("the line is longer than 1 MiB")

// LineReader reads the lines of a JSON Lines import: lines end in \n or
// \r\n, a byte-order mark at the start is ignored, and blank lines are
// skipped (they still count for line numbers).
type LineReader struct {
	br    *bufio.Reader
	limit int // MaxLine; smaller in tests
	line  int
	buf   []byte
}

// NewLineReader reads the lines of r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, 64<<10), limit: MaxLine}
}

// Line returns the number of the last line read, blank lines included.
func (lr *LineReader) Line() int { return lr.line }

// Next returns the next line that is not blank, without its line ending,
// and its 1-based number; the bytes are valid until the next call. After
// the last line it returns io.EOF. For a line over MaxLine it returns
// ErrLineTooLong with the line's number; that stops nothing: the line was
// read to its end and dropped, and the next call reads the one after it.
// Any other error comes from r.
func (lr *LineReader) Next() (line []byte, n int, err error) {
	for {
		line, tooLong, err := lr.read()
		switch {
		case err != nil:
			return nil, 0, err
		case tooLong:
			return nil, lr.line, ErrLineTooLong
		}
		if lr.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, lr.line, nil
		}
	}
}

// read returns the next line without its line ending. A line over MaxLine
// is read to its end and dropped: tooLong is true.
func (lr *LineReader) read() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.limit+2 { // room for \r\n
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(lr.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
		case err != nil:
			return nil, false, fmt.Errorf("caseimport: read: %w", err)
		}
		lr.line++
		line = bytes.TrimSuffix(bytes.TrimSuffix(lr.buf, []byte("\n")), []byte("\r"))
		if len(line) > lr.limit {
			return nil, true, nil
		}
		return line, tooLong, nil
	}
}
