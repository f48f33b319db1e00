package store_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store"
)

// TestBackupSQLiteIsOneMoment backs up a WAL database five times while
// another connection commits, without pause, transactions that each add one
// row to two tables: in every backup the two tables hold as many rows (no
// transaction is half in it), the writer went on between backups, and each
// backup is one file, 0600, in a rollback journal, that passes SQLite's
// integrity check.
func TestBackupSQLiteIsOneMoment(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	w, err := sql.Open("sqlite", "file:"+src+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE a (n INTEGER); CREATE TABLE b (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	var commits atomic.Int64
	writerDone := make(chan error, 1)
	go func() {
		for n := 0; ctx.Err() == nil; n++ {
			tx, err := w.Begin()
			if err != nil {
				writerDone <- err
				return
			}
			_, err1 := tx.Exec(`INSERT INTO a VALUES (?)`, n)
			_, err2 := tx.Exec(`INSERT INTO b VALUES (?)`, n)
			if err := errors.Join(err1, err2, tx.Commit()); err != nil {
				writerDone <- err
				return
			}
			commits.Add(1)
		}
		writerDone <- nil
	}()
	defer func() {
		stop()
		if err := <-writerDone; err != nil {
			t.Errorf("writer: %v", err)
		}
	}()

	var last int64 = -1
	for i := range 5 {
		before := commits.Load()
		if !testenv.Eventually(30*time.Second, func() bool { return commits.Load() >= before+50 }) {
			t.Fatalf("the writer made fewer than 50 commits in 30 s")
		}
		dst := filepath.Join(dir, "backup-"+string(rune('1'+i))+".db")
		pages, err := store.BackupSQLite(t.Context(), src, dst)
		if err != nil {
			t.Fatalf("backup %d: %v", i+1, err)
		}
		c, err := store.CheckSQLite(t.Context(), dst)
		if err != nil {
			t.Fatalf("backup %d: %v", i+1, err)
		}
		if c.Pages != pages {
			t.Errorf("backup %d: %d pages copied, %d in the file", i+1, pages, c.Pages)
		}
		b, err := sql.Open("sqlite", "file:"+dst+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var na, nb int64
		var mode string
		err = errors.Join(b.QueryRow(`SELECT COUNT(*) FROM a`).Scan(&na), b.QueryRow(`SELECT COUNT(*) FROM b`).Scan(&nb),
			b.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		if na != nb {
			t.Errorf("backup %d holds %d rows in a and %d in b: not one moment", i+1, na, nb)
		}
		if na <= last {
			t.Errorf("backup %d holds %d rows, the one before %d: the writer did not go on", i+1, na, last)
		}
		last = na
		if mode != "delete" {
			t.Errorf("backup %d is in journal mode %s, want delete", i+1, mode)
		}
		if info, err := os.Stat(dst); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("backup %d: %v, mode %v, want 0600", i+1, err, info.Mode())
		}
		for _, side := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(dst + side); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("backup %d left %s beside it: %v", i+1, side, err)
			}
		}
	}
}

// TestBackupSQLiteRefuses: an existing destination is neither overwritten
// nor removed; a source that is not SQLite says so and leaves no
// destination; CheckSQLite tells a missing file, one that is not SQLite
// and a damaged one apart.
func TestBackupSQLiteRefuses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	s, err := store.OpenSQLite(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()

	existing := filepath.Join(dir, "existing.db")
	os.WriteFile(existing, []byte("keep me"), 0o600)
	if _, err := store.BackupSQLite(ctx, src, existing); !errors.Is(err, fs.ErrExist) {
		t.Errorf("backup over an existing file: %v, want fs.ErrExist", err)
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep me" {
		t.Errorf("the existing file now holds %q", data)
	}

	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("plain text, no database\n", 100)), 0o600)
	dst := filepath.Join(dir, "from-text.db")
	if _, err := store.BackupSQLite(ctx, text, dst); !errors.Is(err, store.ErrNotSQLite) {
		t.Errorf("backup of a text file: %v, want ErrNotSQLite", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed backup left %s: %v", dst, err)
	}
	if _, err := store.BackupSQLite(ctx, filepath.Join(dir, "missing.db"), dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backup of a missing file: %v, want fs.ErrNotExist", err)
	}

	if _, err := store.CheckSQLite(ctx, filepath.Join(dir, "missing.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("check of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := store.CheckSQLite(ctx, text); !errors.Is(err, store.ErrNotSQLite) {
		t.Errorf("check of a text file: %v, want ErrNotSQLite", err)
	}
	good := filepath.Join(dir, "good.db")
	if _, err := store.BackupSQLite(ctx, src, good); err != nil {
		t.Fatal(err)
	}
	c, err := store.CheckSQLite(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cases != 0 || c.Parties != 0 || c.AuditEvents != 0 || c.Sessions != 0 {
		t.Errorf("a migrated, empty database counts %+v", c)
	}
	// Overwrite the cases table's root page: the file opens, the table does not read.
	db, err := sql.Open("sqlite", "file:"+good)
	if err != nil {
		t.Fatal(err)
	}
	var root int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'cases'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(good, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte(strings.Repeat("\x0d\xff", c.PageSize/4)), (root-1)*int64(c.PageSize))
	f.Close()
	if _, err := store.CheckSQLite(ctx, good); err == nil || errors.Is(err, store.ErrNotSQLite) {
		t.Errorf("check of a damaged database: %v, want its integrity check's finding", err)
	}
}
