package main

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		wantFailed bool
		want       []string // lines the report holds, in order
	}{
		{
			name: "skips with their reasons",
			in: `{"Action":"run","Package":"p/web","Test":"TestBrowser"}
{"Action":"output","Package":"p/web","Test":"TestBrowser","Output":"=== RUN   TestBrowser\n"}
{"Action":"output","Package":"p/web","Test":"TestBrowser","Output":"    browser_test.go:28: skipping: axe-core not found; run npm ci\n"}
{"Action":"output","Package":"p/web","Test":"TestBrowser","Output":"--- SKIP: TestBrowser (0.02s)\n"}
{"Action":"skip","Package":"p/web","Test":"TestBrowser","Elapsed":0.02}
{"Action":"output","Package":"p/store","Test":"TestQuiet","Output":"--- SKIP: TestQuiet (0.00s)\n"}
{"Action":"skip","Package":"p/store","Test":"TestQuiet"}
{"Action":"pass","Package":"p/store","Test":"TestOK"}
{"Action":"pass","Package":"p/store","Elapsed":1.25}
{"Action":"pass","Package":"p/web","Elapsed":3}`,
			want: []string{"ok  \tp/store\t1.2s", "ok  \tp/web\t3.0s", "2 skipped:",
				"  p/store TestQuiet: no reason given", "  p/web TestBrowser: skipping: axe-core not found; run npm ci"},
		},
		{
			name: "a failure keeps its output",
			in: `{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    a_test.go:9: got 1, want 2\n"}
{"Action":"fail","Package":"p/a","Test":"TestBad"}
{"Action":"fail","Package":"p/a","Elapsed":0.1}
# p/b
b.go:3: undefined: x`,
			wantFailed: true,
			want:       []string{"a_test.go:9: got 1, want 2", "FAIL\tp/a", "# p/b", "b.go:3: undefined: x", "no test skipped"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			failed, err := report(strings.NewReader(tc.in), &out)
			if err != nil || failed != tc.wantFailed {
				t.Fatalf("failed %v, err %v; want failed %v", failed, err, tc.wantFailed)
			}
			rest := out.String()
			for _, line := range tc.want {
				i := strings.Index(rest, line)
				if i < 0 {
					t.Fatalf("report lacks %q (in order) in:\n%s", line, out.String())
				}
				rest = rest[i+len(line):]
			}
		})
	}
}
