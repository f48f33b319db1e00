package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPgServer(t *testing.T) {
	root := t.TempDir()
	mk := func(version string, programs ...string) string {
		dir := filepath.Join(root, version, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range programs {
			if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	mk("9", pgServerPrograms...)
	want := mk("13", pgServerPrograms...)
	mk("15", "initdb", "pg_ctl", "pg_basebackup") // no postgres: incomplete
	if err := os.WriteFile(filepath.Join(mk("16"), "postgres"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	got, err := findPgServer(filepath.Join(root, "*", "bin"))
	if err != nil || got != want {
		t.Errorf("findPgServer = %q, %v; want %q, the newest with every program", got, err, want)
	}
	_, err = findPgServer(filepath.Join(root, "none", "*", "bin"))
	if err == nil || !strings.Contains(err.Error(), "postgresql package") {
		t.Errorf("with none: %v, want an error that says what to install", err)
	}
}

func TestAsUser(t *testing.T) {
	argv := AsUser("postgres", "/usr/bin/pg_ctl", "start")
	if os.Geteuid() == 0 {
		if strings.Join(argv, " ") != "runuser -u postgres -- /usr/bin/pg_ctl start" {
			t.Errorf("as root: %q", argv)
		}
	} else if strings.Join(argv, " ") != "/usr/bin/pg_ctl start" {
		t.Errorf("as a user: %q", argv)
	}
}
