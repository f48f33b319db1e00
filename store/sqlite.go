package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/casegate/casegate"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// readers is the size of the read-only pool that View uses.
const readers = 4

// SQLite is a casegate.Store on one SQLite file. Writes go through a single
// connection whose transactions begin IMMEDIATE, so they run one at a time and
// never fail half-way on a lock upgrade; reads go through a small pool of
// read-only connections that WAL lets run beside the writer. Because the
// writer is one connection, fn must not call Update again.
type SQLite struct {
	// turn admits writers to the writer connection one at a time, in the
	// order they came: database/sql hands a freed connection to a random
	// waiter, which under load left some writes waiting for dozens of others.
	// A channel's blocked senders are woken first come, first served.
	turn        chan struct{}
	writer      *sql.DB
	reader      *sql.DB
	writerStmts *stmtCache
	readerStmts *stmtCache
	sessionStmt atomic.Pointer[sql.Stmt] // sessionQuery prepared on the reader pool, once it could be
}

var _ casegate.Store = (*SQLite)(nil)

// OpenSQLite opens (creating when absent) the SQLite database at path; the
// parent directory is created with mode 0700 when missing, and the file, its
// -wal and its -shm are made private (see makePrivate). It runs no migrations.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, fmt.Errorf("store: open sqlite: no file name")
	}
	if err := makePrivate(path); err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}
	return openSQLite(ctx, u.String(), url.Values{})
}

// openSQLiteURI opens a "file:" URI, keeping its query parameters.
func openSQLiteURI(ctx context.Context, uri string) (*SQLite, error) {
	base, rawQuery, _ := strings.Cut(uri, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: parameters: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	path := u.Path
	if path == "" {
		path = u.Opaque
	}
	if path != "" && !strings.HasPrefix(path, ":memory:") && query.Get("mode") != "memory" {
		prepare := makePrivate
		if query.Get("mode") == "ro" { // a read-only open changes nothing
			prepare = func(path string) error { return os.MkdirAll(filepath.Dir(path), 0o700) }
		}
		if err := prepare(path); err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
	}
	return openSQLite(ctx, base, query)
}

// makePrivate readies the database file at path for opening so that no
// other local user can read it, whatever the umask and whether or not its
// folder existed: the folder is created 0700 when missing, a missing file is
// created 0600 before SQLite sees it (SQLite would create it 0644), and an
// existing file, -wal or -shm loses any group and other permissions an
// earlier version or an operator left on it. SQLite creates a -wal or -shm
// with the mode of the database file, so they are 0600 from then on.
func makePrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		err = f.Chmod(0o600) // the umask may have taken more away
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(name, perm&^0o077); err != nil {
				return fmt.Errorf("make %s private: %w", name, err)
			}
		}
	}
	return nil
}

// openSQLite opens the writer and the reader pools on base, a file: URI
// without parameters, adding the store's settings to query.
func openSQLite(ctx context.Context, base string, query url.Values) (*SQLite, error) {
	pragmas := func(extra ...string) string {
		q := url.Values{}
		for k, v := range query {
			q[k] = append([]string(nil), v...)
		}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return base + "?" + q.Encode()
	}

	// temp_store(MEMORY) keeps the writer's statement journals (the undo of
	// a statement of many rows that fails half-way) in memory: in a temporary
	// file they cost a write call per page. It has nothing to do with the
	// database's durability.
	writer, err := sql.Open("sqlite", pragmas("_pragma", "journal_mode(WAL)", "_pragma", "temp_store(MEMORY)", "_txlock", "immediate"))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	// The writer's first connection creates the file and switches it to WAL
	// before any reader opens it.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}

	reader, err := sql.Open("sqlite", pragmas("_query_only", "1"))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	if err := reader.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	return &SQLite{turn: make(chan struct{}, 1), writer: writer, reader: reader, writerStmts: newStmtCache(writer), readerStmts: newStmtCache(reader)}, nil
}

// Update runs fn in one write transaction (BEGIN IMMEDIATE) and commits when
// fn returns nil. It retries nothing.
func (s *SQLite) Update(ctx context.Context, fn func(casegate.Tx) error) error {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("store: update: %w", ctx.Err())
	}
	defer func() { <-s.turn }()
	if err := runTx(ctx, s.writer, sqliteDialect, nil, s.writerStmts, fn); err != nil {
		return sqliteDialect.fail("update", err)
	}
	return nil
}

// View runs fn in a read-only transaction on the reader pool.
func (s *SQLite) View(ctx context.Context, fn func(casegate.Tx) error) error {
	if err := runTx(ctx, s.reader, sqliteDialect, &sql.TxOptions{ReadOnly: true}, s.readerStmts, fn); err != nil {
		return sqliteDialect.fail("view", err)
	}
	return nil
}

// Ping reports whether the writer answers.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Migrate brings the schema up to date.
func (s *SQLite) Migrate(ctx context.Context) error {
	return migrate(ctx, s.writer, sqliteDialect)
}

// Close closes both pools.
func (s *SQLite) Close() error {
	if st := s.sessionStmt.Load(); st != nil {
		st.Close()
	}
	s.writerStmts.close()
	s.readerStmts.close()
	rerr := s.reader.Close()
	if err := s.writer.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("store: close: %w", rerr)
	}
	return nil
}

// Settings of the writer while a bulk load runs, and the usual ones.
const (
	bulkCacheKiB       = 32 << 10 // page cache
	bulkCheckpointPage = 64 << 10 // WAL pages between checkpoints: 256 MiB
	usualCheckpoint    = 1000     // SQLite's default
)

// BulkLoad readies the writer for a large import until done is called: a
// page cache of 32 MiB, so that most of the indexes written at random
// (receipt numbers, A-Numbers) stay in memory, and a checkpoint every 256 MiB of WAL
// instead of every 4 MiB, so that a page written by many transactions is
// copied into the database once, not after each. Durability is unchanged:
// each transaction still commits to the WAL as it always does. done restores
// the settings and checkpoints the WAL back to its usual size.
func (s *SQLite) BulkLoad(ctx context.Context) (done func(), err error) {
	var cache int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		return nil, fmt.Errorf("store: bulk load: %w", err)
	}
	set := func(ctx context.Context, cacheSize, checkpoint int) error {
		if _, err := s.writer.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, cacheSize)); err != nil {
			return err
		}
		_, err := s.writer.ExecContext(ctx, fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, checkpoint))
		return err
	}
	if err := set(ctx, -bulkCacheKiB, bulkCheckpointPage); err != nil {
		return nil, fmt.Errorf("store: bulk load: %w", err)
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		// Failures leave a larger cache or WAL behind, nothing worse; the
		// next connection starts with the usual settings anyway.
		_ = set(ctx, cache, usualCheckpoint)
		_, _ = s.writer.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}, nil
}
