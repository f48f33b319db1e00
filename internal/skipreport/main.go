// Command skipreport reads `go test -json` and prints what plain `go test
// ./...` hides: which tests skipped and why, one line each, after a line per
// package. The output of failing tests is printed whole; the exit status is
// 1 when a test or package failed.
//
//	go test -json ./... | go run ./internal/skipreport
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

func main() {
	failed, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipreport:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// skip is one skipped test and the reason it printed.
type skip struct{ pkg, test, reason string }

// report reads the events of r and writes the summary to w. It reports
// whether anything failed.
func report(r io.Reader, w io.Writer) (failed bool, err error) {
	output := map[[2]string][]string{} // by package and test
	var skips []skip
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Fprintln(w, sc.Text()) // a build error or other text go test printed
			continue
		}
		k := [2]string{e.Package, e.Test}
		switch e.Action {
		case "output":
			output[k] = append(output[k], e.Output)
		case "skip":
			if e.Test != "" {
				skips = append(skips, skip{e.Package, e.Test, reason(output[k])})
			}
			delete(output, k)
		case "pass":
			delete(output, k)
			if e.Test == "" {
				fmt.Fprintf(w, "ok  \t%s\t%.1fs\n", e.Package, e.Elapsed)
			}
		case "fail":
			failed = true
			if e.Test == "" {
				fmt.Fprintf(w, "%sFAIL\t%s\n", strings.Join(output[k], ""), e.Package)
			} else {
				fmt.Fprint(w, strings.Join(output[k], ""))
			}
			delete(output, k)
		}
	}
	if err := sc.Err(); err != nil {
		return failed, err
	}
	if len(skips) == 0 {
		fmt.Fprintln(w, "no test skipped")
		return failed, nil
	}
	slices.SortFunc(skips, func(a, b skip) int { return strings.Compare(a.pkg+" "+a.test, b.pkg+" "+b.test) })
	fmt.Fprintf(w, "%d skipped:\n", len(skips))
	for _, s := range skips {
		fmt.Fprintf(w, "  %s %s: %s\n", s.pkg, s.test, s.reason)
	}
	return failed, nil
}

// reason is the last line a skipped test printed, without its file:line
// prefix, or "no reason given".
func reason(lines []string) string {
	for _, l := range slices.Backward(lines) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		if _, after, ok := strings.Cut(l, ": "); ok && strings.Contains(l[:len(l)-len(after)], ".go:") {
			l = after
		}
		return l
	}
	return "no reason given"
}
