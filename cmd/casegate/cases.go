package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/synth"
)

// exitRejected is the exit status of an import that loaded some lines but rejected others.
const exitRejected = 3

// The garbage collector's settings during an import: the heap may grow to
// five times what is live (a few tens of MiB), up to 128 MiB.
const (
	importGCPercent   = 400
	importMemoryLimit = 128 << 20
)

func cmdImport(ctx context.Context, e env, args []string) error {
	a, files, err := openForCommand(ctx, e, "import", args)
	if err != nil {
		return err
	}
	defer a.Close()
	if len(files) == 0 {
		return errors.New("usage: casegate import FILE.jsonl|FILE.csv …")
	}
	// An import allocates much and keeps little: the default GOGC of 100
	// collects about 20 times a second and cost a tenth of the CPU in
	// profiles. Collect less often, within a limit on the heap.
	defer collectLessOften(e, importGCPercent, importMemoryLimit)()
	im := a.portal.Importer()
	rejected := 0
	for _, name := range files {
		format, err := importFormat(name)
		if err != nil {
			return err
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		prog := newProgress(e.stderr, name)
		res, err := im.Import(ctx, f, format, "cli", func(p portal.ImportProgress) {
			prog.show("%d lines, %d created, %d updated, %d rejected", p.Lines, p.Created, p.Updated, p.Rejected)
		})
		f.Close()
		prog.done()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(e.stdout, "%s: %d created, %d updated, %d rejected\n", name, res.Created, res.Updated, len(res.Rejected))
		for _, r := range res.Rejected {
			fmt.Fprintf(e.stdout, "%s:%d: %s\n", name, r.Line, r.Error)
		}
		for _, w := range res.Warnings { // loaded, but without the value named
			fmt.Fprintf(e.stdout, "%s:%d: warning: %s\n", name, w.Line, w.Warning)
		}
		rejected += len(res.Rejected)
	}
	if rejected > 0 {
		return exitError(exitRejected)
	}
	return nil
}

// cmdImportOffices loads office catalogs (JSON Lines, one office per line;
// docs/import.md): each office upserted by its code.
func cmdImportOffices(ctx context.Context, e env, args []string) error {
	a, files, err := openForCommand(ctx, e, "import-offices", args)
	if err != nil {
		return err
	}
	defer a.Close()
	if len(files) == 0 {
		return errors.New("usage: casegate import-offices FILE.jsonl …")
	}
	rejected := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		offices, bad, err := caseimport.ReadOffices(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		created, updated, err := a.portal.ImportOffices(ctx, offices, "cli")
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(e.stdout, "%s: %d offices created, %d updated, %d rejected\n", name, created, updated, len(bad))
		for _, r := range bad {
			fmt.Fprintf(e.stdout, "%s:%d: %s\n", name, r.Line, r.Error)
		}
		rejected += len(bad)
	}
	if rejected > 0 {
		return exitError(exitRejected)
	}
	return nil
}

func importFormat(name string) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson", ".json":
		return "jsonl", nil
	case ".csv":
		return "csv", nil
	}
	return "", fmt.Errorf("%s: name the file .jsonl or .csv so its format is known", name)
}

func cmdGenerate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("generate", e.stderr)
	n := fs.Int("cases", 1000, "how many cases")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same cases")
	out := fs.String("out", "-", "output file, - for standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 100_000_000 {
		return fmt.Errorf("--cases: want 1 to 100000000, got %d", *n)
	}
	var w io.Writer = e.stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	prog := newProgress(e.stderr, "generate")
	err := synth.Write(bw, *n, synth.Options{Seed: *seed}, func(done int) {
		prog.show("%d of %d cases", done, *n)
	})
	prog.done()
	if err != nil {
		return err
	}
	return bw.Flush()
}

// progress shows a line that rewrites itself on a terminal, at most a few times a second.
type progress struct {
	w     io.Writer
	label string
	tty   bool
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) show(format string, args ...any) {
	if !p.tty || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last, p.shown = time.Now(), true
	fmt.Fprintf(p.w, "\r%s: %s\033[K", p.label, fmt.Sprintf(format, args...))
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
