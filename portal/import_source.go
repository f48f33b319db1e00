package portal

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/caseimport"
)

// An import reads its file in chunks of consecutive lines. The goroutine of
// Import reads them and writes to the store; parsing a chunk, which costs
// about as much CPU as writing it, runs on parse workers meanwhile, so that
// the single writer of the database never waits for it. Chunks are consumed
// in the order read.

// Chunk sizes: a chunk ends after chunkLines lines or chunkBytes bytes. At
// most maxAhead chunks are read ahead of the writer.
const (
	chunkLines = 256
	chunkBytes = 256 << 10
	maxAhead   = 64
)

// importUnit is one parsed case and the line it came from.
type importUnit struct {
	line int
	pc   caseimport.Case
}

// importChunk is a run of consecutive lines of the file.
type importChunk struct {
	units    []importUnit
	rejected []Rejection
	warnings []Warning
	last     int   // the number of the last line of the chunk
	err      error // what ended the reading after this chunk: io.EOF at the end
	// raw holds JSON lines still to parse (by a worker), ready is closed once they are.
	raw   []rawLine
	data  []byte
	ready chan struct{}
}

type rawLine struct {
	line       int
	start, end int // in data
}

// parse parses the raw lines of c into units and rejections.
func (c *importChunk) parse() {
	defer func() {
		if p := recover(); p != nil {
			c.err = fmt.Errorf("portal: import: parse line %d…%d: panic: %v", c.raw[0].line, c.last, p)
		}
	}()
	c.units = make([]importUnit, 0, len(c.raw))
	for _, r := range c.raw {
		pc, err := caseimport.ParseJSONLine(c.data[r.start:r.end])
		if err != nil {
			c.rejected = append(c.rejected, Rejection{Line: r.line, Error: importReason(err)})
			continue
		}
		c.units = append(c.units, importUnit{line: r.line, pc: pc})
	}
	c.raw, c.data = nil, nil
}

// importSource yields the chunks of one file.
type importSource interface {
	// read returns the next chunk; its err is set on the last one.
	read() *importChunk
}

// chunkPipeline reads chunks from src ahead of the writer and has them parsed
// by workers. It never reads from src on another goroutine, so that nothing
// reads the file after Import returns.
type chunkPipeline struct {
	src     importSource
	voip    bool // VoIP numbers are kept (screenPhones)
	jobs    chan *importChunk
	workers sync.WaitGroup
	queue   []*importChunk // read, in order, parsed or being parsed
	ahead   int            // how many chunks to keep queued
	done    bool           // the last chunk has been read
}

// The pipeline reads ahead a batch of cases and a few chunks more, so that
// the workers parse the next batch while the last is written.
func newChunkPipeline(src importSource, batch int, voip bool) *chunkPipeline {
	n := max(runtime.GOMAXPROCS(0), 1)
	ahead := min(batch/chunkLines+2*n, maxAhead)
	p := &chunkPipeline{src: src, voip: voip, ahead: ahead, jobs: make(chan *importChunk, ahead)}
	for range n {
		p.workers.Go(func() {
			for c := range p.jobs {
				c.parse()
				c.screenPhones(voip)
				close(c.ready)
			}
		})
	}
	return p
}

// next returns the next chunk once it is parsed, or nil after the last.
func (p *chunkPipeline) next() *importChunk {
	for !p.done && len(p.queue) < p.ahead {
		c := p.src.read()
		p.done = c.err != nil
		c.ready = make(chan struct{})
		if len(c.raw) > 0 {
			p.jobs <- c // never blocks: at most ahead chunks are out
		} else {
			c.screenPhones(p.voip) // CSV: parsed as it was read
			close(c.ready)
		}
		p.queue = append(p.queue, c)
	}
	if len(p.queue) == 0 {
		return nil
	}
	c := p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	<-c.ready
	return c
}

// close stops the workers and waits for them.
func (p *chunkPipeline) close() {
	close(p.jobs)
	p.workers.Wait()
}

// jsonlSource reads JSON Lines: one case per line, blank lines skipped.
type jsonlSource struct{ lr *caseimport.LineReader }

func (s *jsonlSource) read() *importChunk {
	c := &importChunk{}
	for len(c.raw) < chunkLines && len(c.data) < chunkBytes {
		line, n, err := s.lr.Next()
		if errors.Is(err, caseimport.ErrLineTooLong) {
			c.rejected = append(c.rejected, Rejection{Line: n, Error: err.Error()})
			continue
		}
		if err != nil {
			c.err = err
			break
		}
		if c.data == nil {
			c.data = make([]byte, 0, chunkBytes+len(line))
		}
		c.raw = append(c.raw, rawLine{line: n, start: len(c.data), end: len(c.data) + len(line)})
		c.data = append(c.data, line...)
	}
	c.last = s.lr.Line()
	return c
}

func importReason(err error) string {
	if e, ok := casegate.AsError(err); ok {
		return e.Text()
	}
	return err.Error()
}

// csvSource adapts caseimport.CSVReader to importSource. CSV rows are
// gathered into cases as they are read, on the goroutine of Import.
type csvSource struct{ cr *caseimport.CSVReader }

func (s *csvSource) read() *importChunk {
	c := &importChunk{}
	for len(c.units) < chunkLines {
		cc, err := s.cr.Next()
		if err != nil {
			c.err = err
			break
		}
		c.rejected = append(c.rejected, cc.Rejected...)
		if cc.Case != nil {
			c.units = append(c.units, importUnit{line: cc.Line, pc: *cc.Case})
		}
	}
	c.last = s.cr.Line()
	return c
}
