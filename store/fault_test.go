package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/store"
)

// Faults of the disk and file under a SQLite store: another process holding
// the write lock past the busy timeout, and a disk that fills up.

// busyTimeout is the store's SQLite busy_timeout (store/sqlite.go).
const busyTimeout = 10 * time.Second

// TestSQLiteWriteLockHeldPastTheBusyTimeout holds the write lock of the
// database file from another connection, as another process would, for
// longer than the busy timeout. Reads go on; a write waits the busy timeout
// and then fails with an error that says "try again"; once the lock is
// released, writes succeed and the file is intact.
func TestSQLiteWriteLockHeldPastTheBusyTimeout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "casegate.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, `INSERT INTO admin_tokens (name, token_hash, created_at) VALUES ('holder', x'00', 0)`); err != nil {
		t.Fatal(err)
	}

	if err := s.View(ctx, func(tx casegate.Tx) error { _, err := tx.AdminTokens(ctx); return err }); err != nil {
		t.Errorf("a read while another connection writes: %v", err)
	}
	start := time.Now()
	err = s.Update(ctx, func(tx casegate.Tx) error {
		return tx.InsertAdminToken(ctx, &casegate.AdminToken{Name: "blocked", TokenHash: []byte{1}, CreatedAt: time.Now()})
	})
	waited := time.Since(start)
	t.Logf("write with the lock held elsewhere: %v after %v", err, waited.Round(time.Millisecond))
	if err == nil {
		t.Fatal("a write succeeded while another connection held the write lock")
	}
	if waited < busyTimeout-time.Second {
		t.Errorf("the write gave up after %v, before the %v busy timeout", waited, busyTimeout)
	}
	if casegate.ErrorCodeOf(err) != casegate.EUnavailable {
		t.Errorf("the error %v is not EUnavailable: callers cannot tell it is worth retrying", err)
	}

	if _, err := holder.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx casegate.Tx) error {
		return tx.InsertAdminToken(ctx, &casegate.AdminToken{Name: "after", TokenHash: []byte{2}, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatalf("a write after the lock was released: %v", err)
	}
	checkIntegrity(t, path)
}

// TestSQLiteDiskFull puts the database on a 1 MiB tmpfs, fills the disk
// beside it, and writes until a write fails: the error says the disk is
// full, no write half-happens (the audit log holds exactly the committed
// events), writes succeed again once space is freed, and after reopening the
// file passes PRAGMA integrity_check and its audit chain verifies. It needs
// to mount a tmpfs (root, or CAP_SYS_ADMIN) and skips otherwise.
func TestSQLiteDiskFull(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := mountTmpfs(t, "size=1m")
	path := filepath.Join(dir, "casegate.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if s != nil {
			s.Close()
		}
	}()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler, 96<<10)

	details := map[string]string{"note": strings.Repeat("x", 2000)}
	committed := 0
	var writeErr error
	for i := 0; i < 5000 && writeErr == nil; i++ {
		writeErr = s.Update(ctx, func(tx casegate.Tx) error {
			return tx.AppendAudit(ctx, &casegate.AuditEvent{At: time.Now(), Actor: "test", Action: "fill", Target: "disk", Outcome: "ok", Details: details}, faultKeys)
		})
		if writeErr == nil {
			committed++
		}
	}
	t.Logf("%d writes committed, then: %v", committed, writeErr)
	if writeErr == nil {
		t.Fatal("5000 writes fit on a full 1 MiB disk")
	}
	var se *sqlite.Error
	if !errors.As(writeErr, &se) || se.Code()&0xff != sqlite3.SQLITE_FULL {
		t.Errorf("the error %v does not say the disk is full (SQLITE_FULL)", writeErr)
	}
	if casegate.ErrorCodeOf(writeErr) != casegate.EUnavailable {
		t.Errorf("the error %v is not EUnavailable: a full disk answers 503, not 500", writeErr)
	}
	for range 3 { // failing again is as clean as failing once
		if err := s.Update(ctx, func(tx casegate.Tx) error {
			return tx.AppendAudit(ctx, &casegate.AuditEvent{At: time.Now(), Actor: "test", Action: "fill", Target: "disk", Outcome: "ok", Details: details}, faultKeys)
		}); err == nil {
			committed++
		}
	}
	if n := auditCount(t, s); n != committed {
		t.Errorf("%d audit events readable, %d committed", n, committed)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx casegate.Tx) error {
		return tx.AppendAudit(ctx, &casegate.AuditEvent{At: time.Now(), Actor: "test", Action: "after", Target: "disk", Outcome: "ok"}, faultKeys)
	}); err != nil {
		t.Fatalf("a write once space was freed: %v", err)
	}
	committed++
	s.Close()
	s = nil
	checkIntegrity(t, path)
	s2, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := auditCount(t, s2); n != committed {
		t.Errorf("after reopening: %d audit events, %d committed", n, committed)
	}
	if broken := verifyChain(t, s2); broken != 0 {
		t.Errorf("the audit chain breaks at event %d", broken)
	}
}

// mountTmpfs mounts a tmpfs with opts on a new temporary directory and
// unmounts it when the test ends; it skips the test when mounting is not
// permitted.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("skipping: cannot mount a tmpfs to fill (%v); needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file at path that leaves about free bytes on its file system.
func fillDisk(t *testing.T, path string, free int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		t.Fatal(err)
	}
	size := int64(st.Bavail)*st.Bsize - free
	if size <= 0 {
		return
	}
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatalf("fill the disk: %v", err)
	}
}

// checkIntegrity runs PRAGMA integrity_check on the file at path.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Errorf("PRAGMA integrity_check: %q %v", res, err)
	}
}

func auditEvents(t *testing.T, s casegate.Store) []casegate.AuditEvent {
	t.Helper()
	var all []casegate.AuditEvent
	err := s.View(context.Background(), func(tx casegate.Tx) error {
		for after := int64(0); ; {
			es, err := tx.AuditEvents(context.Background(), after, 1000)
			if err != nil || len(es) == 0 {
				return err
			}
			all = append(all, es...)
			after = es[len(es)-1].Seq
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func auditCount(t *testing.T, s casegate.Store) int { return len(auditEvents(t, s)) }

// faultKeys chain the fault tests' audit events.
var faultKeys = func() *accesscode.Keyring {
	k, err := accesscode.NewKeyring([]accesscode.Secret{{ID: "k1", Bytes: []byte("fault tests' secret of 32 bytes or more")}})
	if err != nil {
		panic(err)
	}
	return k
}()

func verifyChain(t *testing.T, s casegate.Store) int64 {
	return casegate.VerifyChain(faultKeys, casegate.GenesisHash, 0, auditEvents(t, s))
}
