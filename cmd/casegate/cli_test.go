package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHelpShowsTheCommandsOwnFlags: -h on a command prints, on standard
// output, that command's flags and no server setting it does not use;
// serve's -h lists them all.
func TestHelpShowsTheCommandsOwnFlags(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		want, never []string
	}{
		{[]string{"audit", "verify", "-h"}, []string{"usage: casegate audit verify", "-checkpoint FILE", "-db", "-secret-file"}, []string{"-smtp-url", "-code-ttl", "-listen", "-sms-daily-budget"}},
		{[]string{"audit", "list", "-h"}, []string{"-after", "-limit", "-json", "-db"}, []string{"-smtp-url", "-retain-audit"}},
		{[]string{"import", "-h"}, []string{"usage: casegate import FILE.jsonl|FILE.csv", "-db", "-phone-region", "-sms-allow-voip"}, []string{"-smtp-url", "-listen", "-session-idle"}},
		{[]string{"deliveries", "-help"}, []string{"-status", "-json"}, []string{"-smtp-url", "-trusted-proxies"}},
		{[]string{"keys", "rotate", "-h"}, []string{"-id", "-db", "-secret-file"}, []string{"-smtp-url"}},
		{[]string{"keys", "list", "-h"}, []string{"-json", "-secret-file"}, []string{"-db", "-smtp-url"}},
		{[]string{"case", "event", "-h"}, []string{"RECEIPT STATUS", "-title", "-at"}, []string{"-smtp-url"}},
		{[]string{"generate", "-h"}, []string{"-cases", "-seed", "-out"}, []string{"-db", "-smtp-url"}},
		{[]string{"keys", "-h"}, []string{"keys rotate", "keys retire ID"}, nil},
		{[]string{"dkim-record", "-h"}, []string{"usage: casegate dkim-record", "-dkim-key-file", "-dkim-selector", "-dkim-domain", "-mail-from"}, []string{"-db", "-smtp-url", "-listen", "-secret-file"}},
		{[]string{"backup", "-h"}, []string{"usage: casegate backup DEST", "-with-secret", "-db", "-secret-file"}, []string{"-smtp-url", "-listen", "-dkim-key-file"}},
		{[]string{"restore", "-h"}, []string{"usage: casegate restore SRC", "-checksum", "-db"}, []string{"-smtp-url", "-listen", "-dkim-key-file"}},
		{[]string{"serve", "-h"}, []string{"-smtp-url", "-code-ttl", "-listen", "-db", "CASEGATE_SMTP_URL"}, nil},
	} {
		name := strings.Join(tc.args, " ")
		out, stderr, err := runCmd(t, nil, tc.args...)
		if err != nil {
			t.Errorf("casegate %s: %v, want success", name, err)
			continue
		}
		if stderr != "" {
			t.Errorf("casegate %s wrote to standard error: %q", name, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("casegate %s does not show %q:\n%s", name, w, out)
			}
		}
		for _, n := range tc.never {
			if strings.Contains(out, n+" ") || strings.Contains(out, n+"\n") {
				t.Errorf("casegate %s shows %s, which it does not use:\n%s", name, n, out)
			}
		}
	}
}

// TestFlagsAfterFileNames: flags stand anywhere among the arguments:
// `import f.jsonl -db X` imports into X, not into the default database.
func TestFlagsAfterFileNames(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the default database, which must not be made, would be here
	file := filepath.Join(dir, "cases.jsonl")
	if _, _, err := runCmd(t, nil, "generate", "-cases", "3", "-out", file); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "x.db")
	secret := "-secret-file=" + filepath.Join(dir, "x.key")
	out, _, err := runCmd(t, nil, "import", file, "-db", db, secret)
	if err != nil || !strings.Contains(out, "3 created") {
		t.Fatalf("import FILE -db X: %v\n%s", err, out)
	}
	if _, err := os.Stat("casegate-data"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("import FILE -db X made the default database: %v", err)
	}
	// Between the positional arguments of case event too, with the
	// command's own flags.
	var c struct {
		ReceiptNumber string `json:"receipt_number"`
	}
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal([]byte(strings.SplitN(string(data), "\n", 2)[0]), &c); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCmd(t, nil, "case", "event", c.ReceiptNumber, "-db", db, "custom_step", secret, "-title", "Step", "-at", "2026-01-02T03:04:05Z")
	if err != nil || !strings.Contains(out, "Step at 2026-01-02T03:04:05Z added") {
		t.Errorf("case event RECEIPT -db X STATUS …: %v\n%s", err, out)
	}
	// A file named after "--" is a file, however it looks.
	_, _, err = runCmd(t, nil, "import", "-db", db, secret, "--", "-odd.jsonl")
	if err == nil || !strings.Contains(err.Error(), "-odd.jsonl") || strings.Contains(err.Error(), "no such flag") {
		t.Errorf("import -- -odd.jsonl: %v, want the file not found", err)
	}
}

// TestParseArgs: the positional arguments, in order, wherever the flags
// stand; "--" ends the flags unless it is a flag's value.
func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args, pos []string
		n         string
		b         bool
	}{
		{[]string{"a", "-n", "1", "b"}, []string{"a", "b"}, "1", false},
		{[]string{"-n=2", "a", "-b", "c"}, []string{"a", "c"}, "2", true},
		{[]string{"a", "--", "-n", "x"}, []string{"a", "-n", "x"}, "", false},
		{[]string{"-n", "--", "a"}, []string{"a"}, "--", false},
		{[]string{"-b", "--", "-b"}, []string{"-b"}, "", true},
		{[]string{"a", "-", "b"}, []string{"a", "-", "b"}, "", false},
		{nil, nil, "", false},
	} {
		fs := flag.NewFlagSet("casegate test", flag.ContinueOnError)
		n := fs.String("n", "", "")
		b := fs.Bool("b", false, "")
		pos, err := parseArgs(fs, tc.args)
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || *n != tc.n || *b != tc.b {
			t.Errorf("parseArgs(%q) = %q, n %q, b %v, %v; want %q, n %q, b %v", tc.args, pos, *n, *b, err, tc.pos, tc.n, tc.b)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"a", "-x"}, "-x: no such flag for this command; `casegate test -h` lists its flags"},
		{[]string{"-n"}, "-n: give it a value"},
		{[]string{"-b=maybe"}, "-b: want true or false"},
	} {
		fs := flag.NewFlagSet("casegate test", flag.ContinueOnError)
		fs.String("n", "", "")
		fs.Bool("b", false, "")
		if _, err := parseArgs(fs, tc.args); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("parseArgs(%q): %v, want %q", tc.args, err, tc.want)
		}
	}
}

// FuzzParseArgs: any arguments give the arguments that are not flags in
// their order, or an error; never a panic.
func FuzzParseArgs(f *testing.F) {
	f.Add("a\x00-n\x001\x00b")
	f.Add("--\x00-b")
	f.Add("-n\x00--\x00--")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		fs := flag.NewFlagSet("casegate test", flag.ContinueOnError)
		fs.String("n", "", "")
		fs.Bool("b", false, "")
		pos, err := parseArgs(fs, args)
		if err != nil {
			return
		}
		// Every positional argument is one of args, in the same order.
		i := 0
		for _, p := range pos {
			for i < len(args) && args[i] != p {
				i++
			}
			if i == len(args) {
				t.Fatalf("parseArgs(%q) = %q: %q is not among the arguments in order", args, pos, p)
			}
			i++
		}
	})
}

// TestListCommandsPrintJSON: -json prints one JSON object per line, and
// never a token, its hash, or an unmasked address.
func TestListCommandsPrintJSON(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	token, _, err := runCmd(t, vars, "admin", "token", "create", "ops")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	if _, _, err := runCmd(t, vars, "admin", "token", "revoke", "ops"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cases.jsonl")
	if _, _, err := runCmd(t, nil, "generate", "-cases", "40", "-out", file); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, vars, "import", file); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		keys []string // every line has these
		min  int      // lines at least
	}{
		{[]string{"admin", "token", "list", "-json"}, []string{"id", "name", "created_at", "revoked_at"}, 1},
		{[]string{"audit", "list", "-json"}, []string{"seq", "action", "key_id", "hash"}, 3},
		{[]string{"stats", "recompute", "-json"}, []string{"form_type", "category", "office", "whole_form", "withheld", "cases", "min_cases"}, 1},
		{[]string{"deliveries", "-status", "pending", "-json"}, nil, 0},
		{[]string{"keys", "list", "-json"}, []string{"id", "current", "added"}, 1},
	} {
		name := strings.Join(tc.args, " ")
		out, _, err := runCmd(t, vars, tc.args...)
		if err != nil {
			t.Errorf("casegate %s: %v", name, err)
			continue
		}
		lines := 0
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			lines++
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("casegate %s: line %d is not a JSON object: %v\n%s", name, lines, err, sc.Text())
				continue
			}
			for _, k := range tc.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("casegate %s: line %d has no %q: %s", name, lines, k, sc.Text())
				}
			}
		}
		if lines < tc.min {
			t.Errorf("casegate %s: %d lines, want at least %d:\n%s", name, lines, tc.min, out)
		}
		if strings.Contains(out, token) || strings.Contains(out, token[len("cgadm_"):]) || strings.Contains(out, "token_hash") {
			t.Errorf("casegate %s prints the admin token or its hash", name)
		}
	}
	out, _, _ := runCmd(t, vars, "admin", "token", "list", "-json")
	var tok map[string]any
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok["name"] != "ops" || tok["revoked_at"] == nil {
		t.Errorf("admin token list -json: %s (%v)", out, err)
	}
}

// TestErrorsSayWhatToDo: an operator's mistake is told in the terms of the
// command, without the layers it came through (store: update: …), error
// codes, or Go's notation for maps and types.
func TestErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	if _, _, err := runCmd(t, vars, "admin", "token", "create", "ops"); err != nil {
		t.Fatal(err)
	}
	badCheckpoint := filepath.Join(dir, "cp.jsonl")
	if err := os.WriteFile(badCheckpoint, []byte(`{"seq":"5","hash":"ab","at":"2026-03-02T09:00:00Z","key_id":"k1","mac":"cd"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := filepath.Join(dir, "cases.jsonl")
	if _, _, err := runCmd(t, nil, "generate", "-cases", "1", "-out", cases); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, vars, "import", cases); err != nil {
		t.Fatal(err)
	}
	var c struct {
		ReceiptNumber string `json:"receipt_number"`
	}
	if data, err := os.ReadFile(cases); err != nil || json.Unmarshal(data, &c) != nil {
		t.Fatalf("read %s: %v", cases, err)
	}
	receipt := c.ReceiptNumber
	csv := filepath.Join(dir, "cases.csv")
	if err := os.WriteFile(csv, []byte("receipt_number,role\nIOE0912345678,applicant\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"admin", "token", "revoke", "nobody"}, `No admin token is named "nobody".`},
		{[]string{"admin", "token", "create", "ops"}, "An admin token with this name already exists."},
		{[]string{"admin", "token", "create", ""}, "name: Give the token a name of 1–100 characters."},
		{[]string{"party", "unlock", "99"}, "There is no party 99."},
		{[]string{"party", "unlock", "abc"}, `"abc" is not a party id`},
		{[]string{"case", "event", "IOE0912345678", "approved"}, "There is no case with that receipt number."},
		{[]string{"case", "event", receipt, "approved", "-at", "2999-01-01T00:00:00Z"}, "-at: The time of a status cannot be in the future."},
		{[]string{"case", "event", receipt, "custom_step"}, "-title: A custom status needs a title."},
		{[]string{"deliveries", "-status", "bogus"}, `-status: want pending, sent, failed or cancelled, got "bogus"`},
		{[]string{"deliveries", "-limit", "0"}, "-limit: want 1 to 10000"},
		{[]string{"audit", "list", "-limit", "5000"}, "-limit: want 1 to 1000"},
		{[]string{"audit", "verify", "-checkpoint", badCheckpoint}, "seq must be a number, not string"},
		{[]string{"audit", "verify", "-checkpoint", filepath.Join(dir, "nope")}, "cannot read " + filepath.Join(dir, "nope") + ": no such file"},
		{[]string{"audit", "verify", "extra"}, `unexpected argument "extra"`},
		{[]string{"import", csv}, csv + ": CSV header: column form_type is missing"},
		{[]string{"import", filepath.Join(dir, "nope.jsonl")}, "cannot read " + filepath.Join(dir, "nope.jsonl")},
		{[]string{"deliveries", "-x"}, "-x: no such flag for this command"},
		{[]string{"serve", "stray"}, `unexpected argument "stray"`},
	} {
		name := strings.Join(tc.args, " ")
		_, _, err := runCmd(t, vars, tc.args...)
		if err == nil {
			t.Errorf("casegate %s: no error", name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("casegate %s: %q, want %q", name, msg, tc.want)
		}
		for _, internal := range []string{"store:", "portal:", "update:", "not_found", "conflict:", "invalid_request", "map[", "Go struct", "json:"} {
			if strings.Contains(msg, internal) {
				t.Errorf("casegate %s: %q shows %q", name, msg, internal)
			}
		}
	}
	// A retention in days is told in days.
	vars["CASEGATE_RETAIN_AUDIT"] = "1d"
	if _, _, err := runCmd(t, vars, "audit", "verify"); err == nil || !strings.Contains(err.Error(), "retention of the audit log (1d) is shorter than of deliveries (90d)") {
		t.Errorf("a retention of the audit log shorter than of deliveries: %v", err)
	}
	delete(vars, "CASEGATE_RETAIN_AUDIT")
	// A rejected line is said as such, not as "exit status 3".
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"receipt_number":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCmd(t, vars, "import", bad)
	if exitStatus(err) != exitRejected || !strings.HasPrefix(err.Error(), "1 line rejected") {
		t.Errorf("import with a rejected line: %v (status %d)", err, exitStatus(err))
	}
}

// TestImportCountsUnchangedAndLogsProgress: importing a file again counts
// its cases unchanged; off a terminal, the import logs a progress line
// once per interval (none when the interval is longer than the import),
// with the share of the file read, the rate and the time left.
func TestImportCountsUnchangedAndLogsProgress(t *testing.T) {
	saved := progressLogEvery
	t.Cleanup(func() { progressLogEvery = saved })
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	file := filepath.Join(dir, "cases.jsonl")
	const n = 5500 // two reports: after 5000 and 5500 cases
	if _, _, err := runCmd(t, nil, "generate", "-cases", strconv.Itoa(n), "-out", file); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Msg     string `json:"msg"`
		What    string `json:"what"`
		Lines   *int   `json:"lines"`
		Percent *int   `json:"percent"`
		ETA     *int   `json:"eta_seconds"`
		Rate    *int   `json:"per_second"`
	}
	progressLines := func(stderr string) []line {
		var out []line
		for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
			var pl line
			if json.Unmarshal([]byte(l), &pl) == nil && pl.Msg == "progress" {
				out = append(out, pl)
			}
		}
		return out
	}

	progressLogEvery = time.Hour
	out, stderr, err := runCmd(t, vars, "import", file)
	if err != nil || !strings.Contains(out, fmt.Sprintf("%d created, 0 updated, 0 unchanged, 0 rejected", n)) {
		t.Fatalf("first import: %v\n%s", err, out)
	}
	if got := progressLines(stderr); len(got) != 0 {
		t.Errorf("an import shorter than the interval logged %d progress lines:\n%s", len(got), stderr)
	}

	progressLogEvery = time.Nanosecond // every report is due
	out, stderr, err = runCmd(t, vars, "import", file)
	if err != nil || !strings.Contains(out, fmt.Sprintf("0 created, 0 updated, %d unchanged, 0 rejected", n)) {
		t.Fatalf("second import: %v\n%s", err, out)
	}
	got := progressLines(stderr)
	if len(got) < 2 {
		t.Fatalf("%d progress lines, want one per report:\n%s", len(got), stderr)
	}
	prev := 0
	for _, l := range got {
		if l.What != file || l.Lines == nil || *l.Lines <= prev || l.Percent == nil || *l.Percent > 100 || l.ETA == nil || l.Rate == nil {
			t.Errorf("progress line %+v (after %d lines)", l, prev)
			continue
		}
		prev = *l.Lines
	}
}

// TestProgressLine: the terminal line shows the share done of the total,
// the count, the rate and the time left; without a total, only the count
// and the rate.
func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		st   progressState
		want string
	}{
		{progressState{Count: 5000, Total: 100 << 20, Done: 25 << 20, Bytes: true, Elapsed: 10 * time.Second, Detail: "5000 created, 0 updated, 0 unchanged, 0 rejected"},
			"25% of 100.0 MiB, 5000 lines (5000 created, 0 updated, 0 unchanged, 0 rejected), 500 lines/s, 0:30 left"},
		{progressState{Count: 300, Total: 1000, Done: 300, Elapsed: 2 * time.Hour},
			"30% of 1000, 300 lines, 0 lines/s, 4:40:00 left"},
		{progressState{Count: 7, Elapsed: time.Second}, "7 lines, 7 lines/s"},
		{progressState{Count: 0, Total: 2048, Bytes: true}, "0 lines"},
		{progressState{Count: 9, Total: 2048, Done: 4096, Bytes: true, Elapsed: time.Second}, "100% of 2.0 KiB, 9 lines, 9 lines/s, 0:00 left"},
	} {
		if got := tc.st.line("lines"); got != tc.want {
			t.Errorf("line(%+v) =\n%q, want\n%q", tc.st, got, tc.want)
		}
	}
}

// TestProgressOnATerminalRewritesOneLine: on a terminal the line is
// redrawn in place (carriage return, erase to the end) and ended once.
func TestProgressOnATerminalRewritesOneLine(t *testing.T) {
	var b strings.Builder
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{w: &b, label: "f.jsonl", unit: "lines", tty: true, now: func() time.Time { return clock }, start: clock, last: clock}
	p.total, p.bytes, p.done = 1000, true, func() int64 { return 500 }
	clock = clock.Add(time.Second)
	p.show(10, "")
	p.show(11, "") // too soon after: not drawn
	clock = clock.Add(time.Second)
	p.show(20, "")
	p.end()
	want := "\rf.jsonl: 50% of 1000 bytes, 10 lines, 10 lines/s, 0:01 left\033[K" +
		"\rf.jsonl: 50% of 1000 bytes, 20 lines, 10 lines/s, 0:02 left\033[K\n"
	if b.String() != want {
		t.Errorf("terminal output\n%q, want\n%q", b.String(), want)
	}
}
