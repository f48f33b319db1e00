package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotSQLite is what CheckSQLite and BackupSQLite return (wrapped) for a
// file that is not a SQLite database.
var ErrNotSQLite = errors.New("not a SQLite database")

// BackupSQLite copies the SQLite database in the file src into dst, a file
// it creates with mode 0600 (whatever the umask) and that must not exist:
// one consistent snapshot, taken while other connections and processes
// read and write src, as a serving casegate does (WAL lets them). It uses
// SQLite's online backup API and copies every page in one step, so that
// the copy is of one moment: copied a few pages at a time, the backup
// would start over whenever another process committed between two steps,
// which on a busy server is always. Writers are not held up meanwhile;
// checkpoints wait for the copy. The copy is made a single self-contained
// file (rollback journal, no -wal beside it) and synced to disk. On any
// error dst is removed. It returns the number of pages copied.
func BackupSQLite(ctx context.Context, src, dst string) (pages int, err error) {
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(dst)
			os.Remove(dst + "-journal")
		}
	}()
	err = f.Chmod(0o600) // the umask may have taken more away
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	db, err := sql.Open("sqlite", readOnlyURI(src))
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", notSQLite(src, err))
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver offers no online backup")
		}
		bk, err := b.NewBackup(fileURI(dst))
		if err != nil {
			return err
		}
		_, stepErr := bk.Step(-1)
		pages = bk.PageCount()
		if err := bk.Finish(); stepErr == nil {
			stepErr = err
		}
		return stepErr
	})
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", notSQLite(src, err))
	}
	if err := selfContained(ctx, dst); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	if err := syncFile(dst); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	return pages, nil
}

// selfContained switches the database file at path from WAL, which the
// backup copied from its source, to a rollback journal, so that the file
// is the whole database and opening it leaves no -wal or -shm behind.
// casegate switches it back to WAL when it opens it to serve.
func selfContained(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", fileURI(path))
	if err != nil {
		return err
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode); err != nil {
		return err
	}
	if mode != "delete" {
		return fmt.Errorf("%s: journal mode is %s, not delete", path, mode)
	}
	return db.Close()
}

// syncFile flushes the file at path to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// FileCheck is what CheckSQLite found in a SQLite file.
type FileCheck struct {
	Pages, PageSize int
	// Cases, Parties, AuditEvents and Sessions count the rows of those
	// tables; -1 when the file has no such table.
	Cases, Parties, AuditEvents, Sessions int64
}

// CheckSQLite opens the SQLite database in file read-only, changing
// nothing, runs SQLite's integrity check over all of it, and counts the
// rows people ask about. A file that is not a SQLite database is an error
// wrapping ErrNotSQLite; a damaged one an error that quotes the first of
// SQLite's findings.
func CheckSQLite(ctx context.Context, file string) (FileCheck, error) {
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return FileCheck{}, fmt.Errorf("store: check: %w", err)
	}
	db, err := sql.Open("sqlite", readOnlyURI(file))
	if err != nil {
		return FileCheck{}, fmt.Errorf("store: check: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var c FileCheck
	if err := db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&c.Pages); err != nil {
		return FileCheck{}, fmt.Errorf("store: check: %w", notSQLite(file, err))
	}
	if err := db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&c.PageSize); err != nil {
		return FileCheck{}, fmt.Errorf("store: check: %w", notSQLite(file, err))
	}
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check(20)`)
	if err != nil {
		return FileCheck{}, fmt.Errorf("store: check: %w", notSQLite(file, err))
	}
	var findings []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return FileCheck{}, fmt.Errorf("store: check: %w", err)
		}
		findings = append(findings, s)
	}
	if err := rows.Err(); err != nil {
		return FileCheck{}, fmt.Errorf("store: check: %w", notSQLite(file, err))
	}
	rows.Close()
	if len(findings) != 1 || findings[0] != "ok" {
		return FileCheck{}, fmt.Errorf("store: check: %s fails SQLite's integrity check: %s", file, strings.Join(findings, "; "))
	}
	for _, n := range []struct {
		table string
		dst   *int64
	}{{"cases", &c.Cases}, {"parties", &c.Parties}, {"audit_events", &c.AuditEvents}, {"sessions", &c.Sessions}} {
		*n.dst = -1
		var has int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, n.table).Scan(&has)
		if err != nil {
			return FileCheck{}, fmt.Errorf("store: check: %w", err)
		}
		if has == 1 {
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+n.table).Scan(n.dst); err != nil {
				return FileCheck{}, fmt.Errorf("store: check: %w", err)
			}
		}
	}
	return c, nil
}

// readOnlyURI is the URI that opens the SQLite file at path read-only,
// waiting for a writer's lock as the store does.
func readOnlyURI(path string) string {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	return fileURI(path) + "?" + q.Encode()
}

// fileURI is the "file:" URI of path, without parameters.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}).String()
}

// notSQLite turns SQLite's "file is not a database" about file into an
// error wrapping ErrNotSQLite, naming the file; other errors pass.
func notSQLite(file string, err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_NOTADB {
		return fmt.Errorf("%s: %w", file, ErrNotSQLite)
	}
	return err
}
