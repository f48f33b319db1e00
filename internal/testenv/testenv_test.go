package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	tests := []struct {
		env  string
		what string
		want bool
	}{
		{"", NameChromium, false},
		{"all", NameChromium, true},
		{"all", NamePostgres, true},
		{"all", NameAxe, true},
		{"ALL", NameAxe, true},
		{" all ", NameAxe, true},
		{"chromium", NameChromium, true},
		{"chromium", NamePostgres, false},
		{"chromium", NameAxe, false},
		{"chromium,postgres", NamePostgres, true},
		{"chromium,postgres", NameAxe, false},
		{"chromium, axe", NameAxe, true},
		{"Chromium", NameChromium, true},
		{"postgres,", NamePostgres, true},
		{",", NamePostgres, false},
		{"chrome", NameChromium, false},
		{"chromiumx", NameChromium, false},
		{"allx", NameChromium, false},
		{"none", NameChromium, false},
		{"0", NameChromium, false},
	}
	for _, tt := range tests {
		if got := Required(tt.env, tt.what); got != tt.want {
			t.Errorf("Required(%q, %q) = %v, want %v", tt.env, tt.what, got, tt.want)
		}
	}
}

// endingTB records how a test was ended; like testing.T, Fatalf and Skipf
// stop the goroutine that calls them.
type endingTB struct {
	testing.TB
	how, msg string
}

func (e *endingTB) Helper() {}
func (e *endingTB) Fatalf(format string, args ...any) {
	e.how, e.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (e *endingTB) Skipf(format string, args ...any) {
	e.how, e.msg = "skip", fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// ending runs f on a fresh endingTB in its own goroutine and reports how it ended.
func ending(t *testing.T, f func(tb testing.TB)) *endingTB {
	e := &endingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(e)
	}()
	<-done
	return e
}

func TestRequireSkipsOrFails(t *testing.T) {
	tests := []struct {
		env  string
		what string
		want string
	}{
		{"", NameChromium, "skip"},
		{"postgres", NameChromium, "skip"},
		{"all", NameChromium, "fatal"},
		{"chromium,axe", NameAxe, "fatal"},
		{"chromium,axe", NamePostgres, "skip"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.what, func(t *testing.T) {
			t.Setenv(RequireEnv, tt.env)
			e := ending(t, func(tb testing.TB) { Require(tb, tt.what, "the reason given") })
			if e.how != tt.want {
				t.Fatalf("ended by %q, want %q", e.how, tt.want)
			}
			if !strings.Contains(e.msg, "the reason given") {
				t.Errorf("message %q does not carry the reason", e.msg)
			}
		})
	}
}

func TestPostgresUnreachable(t *testing.T) {
	// Port 1 on loopback refuses at once: nothing listens there.
	t.Setenv(PostgresEnv, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	t.Setenv(RequireEnv, "")
	e := ending(t, func(tb testing.TB) { Postgres(tb) })
	if e.how != "skip" || !strings.Contains(e.msg, "PostgreSQL not reachable") {
		t.Fatalf("ended by %q with %q, want a skip naming PostgreSQL", e.how, e.msg)
	}
	t.Setenv(RequireEnv, "postgres")
	if e := ending(t, func(tb testing.TB) { Postgres(tb) }); e.how != "fatal" {
		t.Fatalf("ended by %q, want fatal when postgres is required", e.how)
	}
}

func TestFindAxe(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "web", "sub")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := findAxe(deep); err == nil {
		t.Fatal("found axe with no go.mod above")
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := findAxe(deep)
	if err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Fatalf("without node_modules: %v, want an error telling to run npm ci", err)
	}
	script := filepath.Join(root, filepath.FromSlash(AxePath))
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("/* axe */"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, deep} {
		got, err := findAxe(dir)
		if err != nil || got != script {
			t.Errorf("findAxe(%s) = %q, %v; want %q", dir, got, err, script)
		}
	}
}

func TestChromiumFoundOrSkipped(t *testing.T) {
	t.Setenv(RequireEnv, "")
	e := ending(t, func(tb testing.TB) {
		path := Chromium(tb)
		if !isExecutable(path) {
			t.Errorf("Chromium returned %q, not an executable", path)
		}
	})
	if e.how == "skip" && !strings.Contains(e.msg, "install the chromium package") {
		t.Errorf("skip reason %q does not say how to get Chromium", e.msg)
	}
}

func TestToolFoundOrRequired(t *testing.T) {
	t.Setenv(RequireEnv, "")
	t.Setenv("PATH", t.TempDir())
	e := ending(t, func(tb testing.TB) { Tool(tb, "casegate-no-such-tool", "casegate-pkg") })
	if e.how != "skip" || !strings.Contains(e.msg, "casegate-pkg package") {
		t.Fatalf("ended by %q with %q, want a skip naming the package", e.how, e.msg)
	}
	t.Setenv(RequireEnv, "casegate-no-such-tool")
	if e := ending(t, func(tb testing.TB) { Tool(tb, "casegate-no-such-tool", "casegate-pkg") }); e.how != "fatal" {
		t.Fatalf("ended by %q, want fatal when the tool is required", e.how)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "casegate-some-tool")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if got := Tool(t, "casegate-some-tool", "x"); got != bin {
		t.Errorf("Tool found %q, want %q", got, bin)
	}
}
