//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestBackupAndRestoreFilesArePrivate writes a backup with its secret and
// restores it under no umask at all, where anything made with SQLite's or
// Go's usual modes would be readable by everyone: every file backup and
// restore leave is 0600. It sets the process's umask, so it must not run
// in parallel.
func TestBackupAndRestoreFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	live := map[string]string{"CASEGATE_DB": filepath.Join(dir, "live", "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "live", "secret.key")}
	if out, _, err := runCmd(t, live, "import", writeCases(t, 3)); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	backup := filepath.Join(dir, "casegate-1.db")
	if out, _, err := runCmd(t, live, "backup", "-with-secret", backup); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	restored := map[string]string{"CASEGATE_DB": filepath.Join(dir, "restored", "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "restored", "secret.key")}
	if out, _, err := runCmd(t, restored, "restore", backup); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	for _, f := range []string{backup, backup + ".sha256", backup + ".secret", restored["CASEGATE_DB"], restored["CASEGATE_SECRET_FILE"]} {
		info, err := os.Stat(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", f, info.Mode().Perm())
		}
	}
	if info, err := os.Stat(filepath.Dir(restored["CASEGATE_DB"])); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("the folder restore made: %v, mode %v, want 0700", err, info.Mode())
	}
}
