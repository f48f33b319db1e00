package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
)

// openPgBouncer opens a store on a fresh schema through a PgBouncer in
// transaction pooling mode, migrated; the suite tampers with the audit log
// straight on PostgreSQL.
func openPgBouncer(t *testing.T) casegate.Store {
	p := storetest.PgBouncerSchema(t)
	s, err := store.OpenPostgres(t.Context(), p.URL)
	if err != nil {
		t.Fatal(err)
	}
	return pgTamperable{Postgres: s, dsn: p.Direct}
}

// TestPgBouncer runs the conformance suite, concurrency included, through
// PgBouncer in transaction mode: each transaction may run on another server
// connection than the last, so nothing may rely on state kept by a session.
func TestPgBouncer(t *testing.T) {
	testenv.PgBouncer(t) // one skip, not one per subtest
	testenv.Postgres(t)
	storetest.Run(t, openPgBouncer)
}

// TestPgBouncerMigrateTogether starts four instances' migrations on one
// empty schema at once through PgBouncer in transaction mode. A lock held by
// a session does not keep them apart there: it stays on the server
// connection that took it, which the next instance's lock request may be
// given (and a session lock is granted again to its holder), and the unlock
// may run on another server connection and release nothing. Each must
// migrate in turn, each migration be recorded once, and no lock be left.
func TestPgBouncerMigrateTogether(t *testing.T) {
	p := storetest.PgBouncerSchema(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	migrateTogether(t, ctx, p.URL, p.Direct, 4)
	conn := connect(t, p.Direct)
	// The lock is keyed on the schema; a bigint advisory lock shows in
	// pg_locks as its high half (classid) and low half (objid).
	var held int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks l,
		(SELECT hashtextextended('casegate.migrate.' || $1, 0) AS k) key
		WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
		AND l.classid::bigint = (key.k >> 32) & 4294967295 AND l.objid::bigint = key.k & 4294967295`, p.Schema).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("after every instance migrated, %d server connections still hold the migration lock", held)
	}
}

// TestPostgresSearchPathNotHonoured opens a store whose URL asks for a
// search_path that the connection does not get, as behind a PgBouncer told
// to ignore the parameter: the tables would be made and read in whatever
// schema the server connection has. Open must refuse and say why.
func TestPostgresSearchPathNotHonoured(t *testing.T) {
	p := storetest.PgBouncerSchema(t, "ignore_startup_parameters = search_path")
	s, err := store.OpenPostgres(t.Context(), p.URL+"&search_path=elsewhere")
	if err == nil {
		s.Close()
		t.Fatal("OpenPostgres with a search_path the pooler drops: no error")
	}
	for _, want := range []string{`search_path "elsewhere"`, p.Schema, "connect_query"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The schema the pooler sets, asked for again in the URL, is accepted.
	s, err = store.OpenPostgres(t.Context(), p.URL+"&search_path="+p.Schema)
	if err != nil {
		t.Fatalf("OpenPostgres with the search_path the connection has: %v", err)
	}
	s.Close()
}

// TestPgBouncerNamedStatementsSayWhat opens two stores through PgBouncer in
// transaction mode with one server connection and pgx's default cached
// statements (CASEGATE_DB without default_query_exec_mode=exec). The second
// store's first read prepares a statement the first already prepared on the
// shared server connection and fails: the error must say how to fix it.
func TestPgBouncerNamedStatementsSayWhat(t *testing.T) {
	p := storetest.PgBouncerSchema(t, "default_pool_size = 1")
	direct, err := store.OpenPostgres(t.Context(), p.Direct)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if err := direct.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	cached := strings.Replace(p.URL, "&default_query_exec_mode=exec", "", 1)
	read := func() error {
		s, err := store.OpenPostgres(t.Context(), cached)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return s.View(t.Context(), func(tx casegate.Tx) error {
			_, err := tx.CaseByReceipt(t.Context(), "IOE0000000001")
			if casegate.IsNotFound(err) {
				return nil
			}
			return err
		})
	}
	if err := read(); err != nil {
		t.Fatalf("first store's read: %v", err)
	}
	err = read()
	if err == nil {
		t.Fatal("second store's read on the same server connection: no error; PgBouncer kept no statement between them?")
	}
	if !strings.Contains(err.Error(), "default_query_exec_mode=exec") {
		t.Errorf("error %q does not say to add default_query_exec_mode=exec", err)
	}
}
