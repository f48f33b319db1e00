//go:build unix

package store_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/store"
)

// TestSQLiteFilesArePrivate opens SQLite databases the ways casegate can meet
// them — a new file in a folder that already exists, in a new folder, through
// a file: URI, and a file an earlier version left readable by everyone — under
// the usual umask and under none, writes to each, and checks that the
// database, its -wal and its -shm are mode 0600 while the store has them open.
// It sets the process's umask, so it must not run in parallel.
func TestSQLiteFilesArePrivate(t *testing.T) {
	cases := []struct {
		name  string
		umask int
		// prepare makes the folder (and any file) and returns the DSN and the
		// database file's path.
		prepare func(t *testing.T, dir string) (dsn, path string)
	}{
		{"new file, folder exists 0755, umask 022", 0o022, func(t *testing.T, dir string) (string, string) {
			mkdir(t, dir, 0o755)
			p := filepath.Join(dir, "casegate.db")
			return p, p
		}},
		{"new file, folder exists 0777, no umask", 0, func(t *testing.T, dir string) (string, string) {
			mkdir(t, dir, 0o777)
			p := filepath.Join(dir, "casegate.db")
			return p, p
		}},
		{"new file, new folder, no umask", 0, func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "new", "casegate.db")
			return p, p
		}},
		{"file URI, folder exists 0755", 0o022, func(t *testing.T, dir string) (string, string) {
			mkdir(t, dir, 0o755)
			p := filepath.Join(dir, "casegate.db")
			return "file:" + p + "?cache=private", p
		}},
		{"file left 0644 with its -wal and -shm", 0o022, func(t *testing.T, dir string) (string, string) {
			mkdir(t, dir, 0o755)
			p := filepath.Join(dir, "casegate.db")
			for _, f := range []string{p, p + "-wal", p + "-shm"} {
				if err := os.WriteFile(f, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(f, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return p, p
		}},
		{"file left 0640", 0o022, func(t *testing.T, dir string) (string, string) {
			mkdir(t, dir, 0o755)
			p := filepath.Join(dir, "casegate.db")
			if err := os.WriteFile(p, nil, 0o640); err != nil {
				t.Fatal(err)
			}
			return p, p
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := syscall.Umask(c.umask)
			defer syscall.Umask(old)
			dsn, path := c.prepare(t, filepath.Join(t.TempDir(), "data"))
			st, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			err = st.Update(t.Context(), func(tx casegate.Tx) error {
				return tx.AppendAudit(t.Context(), &casegate.AuditEvent{At: time.Now(), Actor: "test", Action: "write", Target: "file", Outcome: "ok"}, faultKeys)
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				info, err := os.Stat(f)
				if err != nil {
					t.Errorf("%s: %v", filepath.Base(f), err)
					continue
				}
				if perm := info.Mode().Perm(); perm != 0o600 {
					t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), perm)
				}
			}
		})
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}
