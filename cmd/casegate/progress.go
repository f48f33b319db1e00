package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progressLogEvery is how often a long command logs how far it is when its
// standard error is not a terminal: a log collector or a file gets one line
// every so often, a terminal a line that rewrites itself.
var progressLogEvery = 5 * time.Second

// progressRedrawEvery is how often the line on a terminal is redrawn at most.
const progressRedrawEvery = 200 * time.Millisecond

// progress reports how far a long command is: on a terminal a line that
// rewrites itself, with the share done, the rate and the time left;
// otherwise a log line every progressLogEvery with the same figures.
type progress struct {
	w     io.Writer
	log   *slog.Logger // for the periodic lines when w is not a terminal
	label string       // the file, or what is being done
	unit  string       // what is counted: "lines", "cases"
	tty   bool
	every time.Duration
	now   func() time.Time
	start time.Time
	last  time.Time
	shown bool // a terminal line is on screen and needs a line break
	// total is the size of the whole (bytes of the file, or cases to
	// make) and done how much of it is through; total 0 is unknown.
	total int64
	done  func() int64
	bytes bool // total is a size in bytes
}

// newProgress reports on w, a terminal or not; log takes the periodic
// lines when it is not.
func newProgress(w io.Writer, log *slog.Logger, label, unit string) *progress {
	p := &progress{w: w, log: log, label: label, unit: unit, every: progressLogEvery, now: time.Now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	p.start = p.now()
	p.last = p.start
	return p
}

// progressState is what one report shows.
type progressState struct {
	Count   int           // lines read or cases made so far
	Total   int64         // the size of the whole; 0 unknown
	Done    int64         // how much of Total is through
	Bytes   bool          // Total and Done are bytes
	Elapsed time.Duration // since the start
	Detail  string        // e.g. "12 created, 3 updated, 0 unchanged, 1 rejected"
}

// show reports count and detail when it is time to: on a terminal at most
// every progressRedrawEvery, else every p.every.
func (p *progress) show(count int, detail string) {
	now := p.now()
	every := p.every
	if p.tty {
		every = progressRedrawEvery
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	st := progressState{Count: count, Total: p.total, Bytes: p.bytes, Elapsed: now.Sub(p.start), Detail: detail}
	if p.done != nil {
		st.Done = p.done()
	}
	if p.tty {
		p.shown = true
		fmt.Fprintf(p.w, "\r%s: %s\033[K", p.label, st.line(p.unit))
		return
	}
	attrs := []any{"what", p.label, p.unit, count, "elapsed_seconds", st.Elapsed.Seconds(), "detail", detail}
	if rate, ok := st.rate(); ok {
		attrs = append(attrs, "per_second", int(rate))
	}
	if pct, eta, ok := st.remaining(); ok {
		attrs = append(attrs, "percent", int(pct), "eta_seconds", int(eta.Seconds()))
	}
	p.log.Info("progress", attrs...)
}

// end ends the terminal line, if one is shown.
func (p *progress) end() {
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

// line is the terminal line of st: "45% of 120.0 MiB, 123456 lines (…),
// 25000 lines/s, 0:12 left".
func (st progressState) line(unit string) string {
	var b strings.Builder
	pct, eta, known := st.remaining()
	if known {
		total := fmt.Sprintf("%d", st.Total)
		if st.Bytes {
			total = sizeText(st.Total)
		}
		fmt.Fprintf(&b, "%d%% of %s, ", int(pct), total)
	}
	fmt.Fprintf(&b, "%d %s", st.Count, unit)
	if st.Detail != "" {
		fmt.Fprintf(&b, " (%s)", st.Detail)
	}
	if rate, ok := st.rate(); ok {
		fmt.Fprintf(&b, ", %d %s/s", int(rate), unit)
	}
	if known {
		fmt.Fprintf(&b, ", %s left", clock(eta))
	}
	return b.String()
}

// rate is the count per second, once any time has passed.
func (st progressState) rate() (float64, bool) {
	if st.Elapsed <= 0 {
		return 0, false
	}
	return float64(st.Count) / st.Elapsed.Seconds(), true
}

// remaining is the share done, in percent, and the time left at the
// pace so far; ok is false while the total or the pace is unknown.
func (st progressState) remaining() (pct float64, eta time.Duration, ok bool) {
	if st.Total <= 0 || st.Done <= 0 || st.Elapsed <= 0 {
		return 0, 0, false
	}
	f := min(float64(st.Done)/float64(st.Total), 1)
	left := time.Duration(float64(st.Elapsed) * (1 - f) / f)
	return f * 100, left.Round(time.Second), true
}

// sizeText shows a size in bytes, KiB, MiB or GiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// clock shows a duration as h:mm:ss, or m:ss under an hour.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// countingReader counts the bytes read through it, for the share of a
// file an import has read.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
