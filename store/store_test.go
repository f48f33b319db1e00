package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
)

// tamperable is a SQLite store that lets the suite edit the audit log behind
// its back, through a connection of its own.
type tamperable struct {
	*store.SQLite
	path string
}

func (s tamperable) TamperAudit(ctx context.Context, seq int64) error {
	db, err := sql.Open("sqlite", s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `UPDATE audit_events SET actor = 'admin:mallory' WHERE seq = ?`, seq)
	return err
}

func openFresh(t *testing.T) casegate.Store {
	path := filepath.Join(t.TempDir(), "casegate.db")
	s, err := store.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return tamperable{SQLite: s, path: path}
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, openFresh)
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "casegate.db")
	for i := range 2 {
		s, err := store.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d again: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied int
	if err := db.QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/sqlite/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files: %v", err)
	}
	if applied != len(files) {
		t.Errorf("goose recorded %d applied migrations, want %d (one per file)", applied, len(files))
	}
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	notADir := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dsn string
		file      string // the file that must exist afterwards
		wantErr   string
		wantCode  casegate.ErrorCode // when set, the error's code
	}{
		{"path in a new directory", filepath.Join(dir, "a", "b", "casegate.db"), filepath.Join(dir, "a", "b", "casegate.db"), "", ""},
		{"path with URI characters", filepath.Join(dir, "we ird?#%20", "c.db"), filepath.Join(dir, "we ird?#%20", "c.db"), "", ""},
		{"file URI", "file:" + filepath.Join(dir, "c", "x.db") + "?cache=private", filepath.Join(dir, "c", "x.db"), "", ""},
		{"postgres, nothing listening", "postgres://casegate:secret@127.0.0.1:1/casegate?connect_timeout=2", "", "store: open postgres", casegate.EUnavailable},
		{"postgresql, nothing listening", "postgresql://127.0.0.1:1/casegate", "", "store: open postgres", casegate.EUnavailable},
		{"postgres, bad pool size", "postgres://casegate:secret@127.0.0.1:1/casegate?pool_max_conns=0", "", "pool_max_conns", ""},
		{"postgres, URL does not parse", "postgres://casegate:secret@[::1/casegate", "", "parse", ""},
		{"postgres, bad sslmode", "postgres://casegate:secret@127.0.0.1:1/casegate?sslmode=sometimes", "", "sslmode", ""},
		{"empty", "", "", "no database", ""},
		{"parent is a file", filepath.Join(notADir, "x.db"), "", "store: open sqlite", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(ctx, tt.dsn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open(%q) = %v, want an error containing %q", tt.dsn, err, tt.wantErr)
				}
				if s != nil {
					t.Errorf("Open returned a store %#v with its error", s)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error shows the password: %v", err)
				}
				if tt.wantCode != "" && casegate.ErrorCodeOf(err) != tt.wantCode {
					t.Errorf("Open(%q) error has code %s, want %s", tt.dsn, casegate.ErrorCodeOf(err), tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(tt.file); err != nil {
				t.Errorf("database file: %v", err)
			}
			info, err := os.Stat(filepath.Dir(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm != 0o700 {
				t.Errorf("new directory has mode %v, want 0700", perm)
			}
		})
	}
}

// TestSettings checks the pragmas that durability and integrity rely on, on
// the connections Update and View actually use.
func TestSettings(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "casegate.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, r := s.Settings(ctx)
	want := map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "10000", "query_only": "0"}
	for k, v := range want {
		if w[k] != v {
			t.Errorf("writer %s = %q, want %q", k, w[k], v)
		}
	}
	want["query_only"] = "1"
	for k, v := range want {
		if r[k] != v {
			t.Errorf("reader %s = %q, want %q", k, r[k], v)
		}
	}
}

// TestUpdateBeginsImmediate checks that Update takes the write lock when it
// begins, before fn writes anything, so a transaction never fails on a lock
// upgrade half-way.
func TestUpdateBeginsImmediate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "casegate.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Update(ctx, func(casegate.Tx) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
	close(release)
	if err == nil {
		other.ExecContext(ctx, "ROLLBACK")
		t.Error("another connection took the write lock while Update was open")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestUpdateCancelledMidwaySaysCancelled: when the caller's context ends
// inside a transaction, database/sql rolls it back and the commit fails with
// sql.ErrTxDone; the error must still say "cancelled", or the web layer logs
// a client that went away as an internal error.
func TestUpdateCancelledMidwaySaysCancelled(t *testing.T) {
	s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "casegate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	err = s.Update(ctx, func(tx casegate.Tx) error {
		if err := tx.InsertAdminToken(ctx, &casegate.AdminToken{Name: "gone", TokenHash: []byte{1}, CreatedAt: time.Now()}); err != nil {
			return err
		}
		cancel()
		// A real pause: database/sql's own goroutine rolls the transaction
		// back when it sees ctx end, with no signal to wait for, and the
		// commit must meet a transaction already rolled back.
		time.Sleep(50 * time.Millisecond)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want one wrapping context.Canceled", err)
	}
	var n int
	s.View(t.Context(), func(tx casegate.Tx) error {
		toks, err := tx.AdminTokens(t.Context())
		n = len(toks)
		return err
	})
	if n != 0 {
		t.Errorf("%d tokens stored by a cancelled transaction", n)
	}
}
