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
	a, files, err := openFor(ctx, e, newFlagSet("import", e.stderr), args, false, importFlags)
	if err != nil {
		return err
	}
	defer a.Close()
	if len(files) == 0 {
		return errors.New("usage: casegate import FILE.jsonl|FILE.csv … [flags]")
	}
	// An import allocates much and keeps little: the default GOGC of 100
	// collects about 20 times a second and cost a tenth of the CPU in
	// profiles. Collect less often, within a limit on the heap.
	defer collectLessOften(e, importGCPercent, importMemoryLimit)()
	im := a.portal.Importer()
	rejected := 0
	for _, name := range files {
		n, err := importFile(ctx, e, a, im, name)
		if err != nil {
			return err
		}
		rejected += n
	}
	if rejected > 0 {
		return failure{status: exitRejected, msg: fmt.Sprintf(
			"%d %s rejected, listed above with the reason; correct them and import them again (what loaded stays loaded, and a line loaded twice is counted unchanged)",
			rejected, plural(rejected, "line", "lines"))}
	}
	return nil
}

// importFile imports one file and prints what came of it; it returns how
// many lines were rejected.
func importFile(ctx context.Context, e env, a *app, im *portal.Importer, name string) (int, error) {
	format, err := importFormat(name)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(name)
	if err != nil {
		return 0, pathError(name, err)
	}
	defer f.Close()
	in := &countingReader{r: f}
	prog := newProgress(e.stderr, a.log, name, "lines")
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		prog.total, prog.bytes = st.Size(), true
		prog.done = in.n.Load
	}
	res, err := im.Import(ctx, in, format, "cli", func(p portal.ImportProgress) {
		prog.show(p.Lines, fmt.Sprintf("%d created, %d updated, %d unchanged, %d rejected", p.Created, p.Updated, p.Unchanged, p.Rejected))
	})
	prog.end()
	if err != nil {
		return 0, inFile{name: name, err: err}
	}
	fmt.Fprintf(e.stdout, "%s: %d created, %d updated, %d unchanged, %d rejected\n", name, res.Created, res.Updated, res.Unchanged, len(res.Rejected))
	for _, r := range res.Rejected {
		fmt.Fprintf(e.stdout, "%s:%d: %s\n", name, r.Line, r.Error)
	}
	for _, w := range res.Warnings { // loaded, but without the value named
		fmt.Fprintf(e.stdout, "%s:%d: warning: %s\n", name, w.Line, w.Warning)
	}
	return len(res.Rejected), nil
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
			return pathError(name, err)
		}
		offices, bad, err := caseimport.ReadOffices(f)
		f.Close()
		if err != nil {
			return inFile{name: name, err: err}
		}
		created, updated, err := a.portal.ImportOffices(ctx, offices, "cli")
		if err != nil {
			return inFile{name: name, err: err}
		}
		fmt.Fprintf(e.stdout, "%s: %d offices created, %d updated, %d rejected\n", name, created, updated, len(bad))
		for _, r := range bad {
			fmt.Fprintf(e.stdout, "%s:%d: %s\n", name, r.Line, r.Error)
		}
		rejected += len(bad)
	}
	if rejected > 0 {
		return failure{status: exitRejected, msg: fmt.Sprintf("%d %s rejected, listed above with the reason", rejected, plural(rejected, "line", "lines"))}
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
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("usage: casegate generate [-cases N] [-seed N] [-out FILE]", rest); err != nil {
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
	prog := newProgress(e.stderr, newLogger(e, "info"), "generate", "cases")
	prog.total = int64(*n)
	made := 0
	prog.done = func() int64 { return int64(made) }
	err = synth.Write(bw, *n, synth.Options{Seed: *seed}, func(done int) {
		made = done
		prog.show(done, "")
	})
	prog.end()
	if err != nil {
		return err
	}
	return bw.Flush()
}
