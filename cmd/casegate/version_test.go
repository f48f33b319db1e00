package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: a binary built from a checkout names its source revision,
// and `version` and `--version` say the same.
func TestVersion(t *testing.T) {
	rev, err := exec.CommandContext(t.Context(), "git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("skipping: not a git checkout, so the build stamps no revision: %v", err)
	}
	// -buildvcs=true: a GOFLAGS of -buildvcs=false, as some machines set,
	// would otherwise leave the revision out.
	bin := filepath.Join(t.TempDir(), "casegate")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var lines []string
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.CommandContext(t.Context(), bin, arg).Output()
		if err != nil {
			t.Fatalf("casegate %s: %v", arg, err)
		}
		lines = append(lines, strings.TrimSpace(string(out)))
	}
	if want := strings.TrimSpace(string(rev)); !strings.Contains(lines[0], want) || !strings.Contains(lines[0], runtime.Version()) {
		t.Errorf("casegate version = %q, want the revision %s and %s", lines[0], want, runtime.Version())
	}
	if lines[1] != lines[0] {
		t.Errorf("casegate --version = %q, casegate version = %q", lines[1], lines[0])
	}
}

// TestHelpIsNotAFailure: -h on a command prints its flags and exits 0.
func TestHelpIsNotAFailure(t *testing.T) {
	for _, args := range [][]string{{"import", "-h"}, {"audit", "verify", "-h"}, {"serve", "-help"}} {
		out, _, err := runCmd(t, nil, args...)
		if err != nil {
			t.Errorf("casegate %s: %v, want success", strings.Join(args, " "), err)
		}
		if !strings.Contains(out, "usage: casegate "+args[0]) || !strings.Contains(out, "-db") {
			t.Errorf("casegate %s printed no flags: %q", strings.Join(args, " "), out)
		}
	}
	if _, _, err := runCmd(t, nil, "version", "extra"); err == nil {
		t.Error("casegate version extra: no error")
	}
}

// TestReadCommandsRefuseAMissingDatabase: a mistyped CASEGATE_DB is an
// error naming the path, with exit status 2, and creates nothing; a
// missing secret file likewise.
func TestReadCommandsRefuseAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo", "casegate.db")
	vars := map[string]string{"CASEGATE_DB": missing, "CASEGATE_SECRET_FILE": filepath.Join(dir, "typo", "secret.key")}
	for _, args := range [][]string{
		{"audit", "verify"}, {"audit", "list"}, {"audit", "checkpoint"}, {"deliveries"},
		{"admin", "token", "list"}, {"stats", "recompute"}, {"party", "unlock", "1"},
	} {
		_, _, err := runCmd(t, vars, args...)
		var f failure
		if !errors.As(err, &f) || f.status != 2 || !strings.Contains(err.Error(), missing) {
			t.Errorf("casegate %s on a missing database: %v, want exit status 2 naming %s", strings.Join(args, " "), err, missing)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused commands made %s: %v", filepath.Join(dir, "typo"), err)
	}

	// A database on file without its secret is refused too.
	ok := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	if _, _, err := runCmd(t, ok, "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, ok, "audit", "verify"); err != nil {
		t.Fatalf("audit verify on a database on file: %v", err)
	}
	ok["CASEGATE_SECRET_FILE"] = filepath.Join(dir, "other.key")
	_, _, err := runCmd(t, ok, "audit", "verify")
	var f failure
	if !errors.As(err, &f) || f.status != 2 || !strings.Contains(err.Error(), "other.key") {
		t.Errorf("audit verify without the secret file: %v, want exit status 2 naming it", err)
	}
}

// TestVersionStampedByTheBuild: a build without VCS information (the
// container recipe's, whose context has no .git) names the revision given
// with -X main.buildRevision.
func TestVersionStampedByTheBuild(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	bin := filepath.Join(t.TempDir(), "casegate")
	build := exec.CommandContext(t.Context(), "go", "build", "-buildvcs=false", "-ldflags=-X=main.buildRevision="+rev, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(t.Context(), bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "("+rev+", ") {
		t.Errorf("casegate version = %q %v, want the revision %s", out, err, rev)
	}
}
