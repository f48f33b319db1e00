package store_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
	"github.com/jackc/pgx/v5"
)

// pgTamperable is a PostgreSQL store that lets the suite edit the audit log
// behind its back, through a connection of its own.
type pgTamperable struct {
	*store.Postgres
	dsn string
}

func (s pgTamperable) TamperAudit(ctx context.Context, seq int64) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE audit_events SET actor = 'admin:mallory' WHERE seq = $1`, seq)
	return err
}

// openPostgres opens a store on a fresh schema.
func openPostgres(t *testing.T) casegate.Store {
	dsn := storetest.PostgresSchema(t)
	s, err := store.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return pgTamperable{Postgres: s, dsn: dsn}
}

// TestPostgres runs the conformance suite, concurrency included, on PostgreSQL.
func TestPostgres(t *testing.T) {
	testenv.Postgres(t) // one skip, not one per subtest
	storetest.Run(t, openPostgres)
}

// TestPostgresMigrateTogether starts three instances' migrations on one empty
// schema at once, as instances that start together do, then migrates again.
func TestPostgresMigrateTogether(t *testing.T) {
	dsn := storetest.PostgresSchema(t)
	migrateTogether(t, t.Context(), dsn, dsn, 3)
}

// migrateTogether opens n stores on dsn, migrates them all at once and then
// one again, and checks through check, a URL of the same schema, that goose
// recorded every migration once.
func migrateTogether(t *testing.T, ctx context.Context, dsn, check string, n int) {
	t.Helper()
	stores := make([]*store.Postgres, n)
	for i := range stores {
		s, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: Migrate: %v", i, err)
		}
	}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	conn := connect(t, check)
	var applied, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/postgres/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files: %v", err)
	}
	if applied != len(files) || distinct != len(files) {
		t.Errorf("goose recorded %d applied migrations (%d distinct), want %d (one per file, each once)", applied, distinct, len(files))
	}
}

// TestPostgresSchemaMirrorsSQLite checks that both migration folders make the
// same tables, columns and named indexes, since the queries are shared.
func TestPostgresSchemaMirrorsSQLite(t *testing.T) {
	ctx := t.Context()
	dsn := storetest.PostgresSchema(t)
	pg, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "casegate.db")
	lite, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if err := lite.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	conn := connect(t, dsn)
	pgNames := func(query string) []string {
		rows, err := conn.Query(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		return names
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	liteNames := func(query string) []string {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		slices.Sort(names)
		return names
	}

	pgColumns := pgNames(`SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`)
	liteColumns := liteNames(`SELECT m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT IN ('goose_db_version', 'sqlite_sequence')`)
	if !slices.Equal(pgColumns, liteColumns) {
		t.Errorf("columns differ:\npostgres %v\nsqlite   %v", pgColumns, liteColumns)
	}
	pgIndexes := pgNames(`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()
		AND indexname NOT LIKE '%\_pkey' AND indexname NOT LIKE '%\_key'`)
	liteIndexes := liteNames(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite\_autoindex%' ESCAPE '\'`)
	if !slices.Equal(pgIndexes, liteIndexes) {
		t.Errorf("indexes differ:\npostgres %v\nsqlite   %v", pgIndexes, liteIndexes)
	}
	if len(pgColumns) < 50 || len(pgIndexes) < 5 {
		t.Errorf("only %d columns and %d indexes found: the comparison looked at nothing", len(pgColumns), len(pgIndexes))
	}
}

// TestPostgresRetriesDeadlock makes two transactions lock two rows in
// opposite orders. PostgreSQL breaks the deadlock by aborting one with
// SQLSTATE 40P01; Update runs that one again, so both succeed.
func TestPostgresRetriesDeadlock(t *testing.T) {
	ctx := t.Context()
	s := openPostgres(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		runs int
	)
	var bothHoldOne sync.WaitGroup
	bothHoldOne.Add(2)
	lockBoth := func(first, second string) error {
		firstRun := true
		return s.Update(ctx, func(tx casegate.Tx) error {
			mu.Lock()
			runs++
			mu.Unlock()
			if _, err := tx.RateTAT(ctx, first); err != nil {
				return err
			}
			if firstRun {
				firstRun = false
				bothHoldOne.Done()
				bothHoldOne.Wait()
			}
			if _, err := tx.RateTAT(ctx, second); err != nil {
				return err
			}
			return tx.SetRateTAT(ctx, first, time.Now())
		})
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = lockBoth("a", "b") })
	wg.Go(func() { errs[1] = lockBoth("b", "a") })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	if runs != 3 {
		t.Errorf("fn ran %d times, want 3: two first runs, one of them aborted by the deadlock and run again", runs)
	}
}

// TestPostgresUnavailable checks that losing the database gives errors with
// code EUnavailable (so the web layer answers 503), and that the store
// recovers when the database is back, without being reopened.
func TestPostgresUnavailable(t *testing.T) {
	ctx := t.Context()
	dsn := storetest.PostgresSchema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	s, err := store.OpenPostgres(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	write := func() error {
		return s.Update(ctx, func(tx casegate.Tx) error { return tx.SetRateTAT(ctx, "k", time.Now()) })
	}
	if err := write(); err != nil {
		t.Fatal(err)
	}

	proxy.Cut()
	checks := map[string]func() error{
		"Update": write,
		"View": func() error {
			return s.View(ctx, func(tx casegate.Tx) error { _, err := tx.RateTAT(ctx, "k"); return err })
		},
		"Ping": func() error { return s.Ping(ctx) },
	}
	for name, call := range checks {
		err := call()
		if code := casegate.ErrorCodeOf(err); code != casegate.EUnavailable {
			t.Errorf("%s with the database gone = %v (code %s), want code %s", name, err, code, casegate.EUnavailable)
		}
	}

	proxy.Reopen()
	if !testenv.Eventually(10*time.Second, func() bool { err = write(); return err == nil }) {
		t.Fatalf("Update after the database came back: %v", err)
	}
}

// connect opens a plain pgx connection to dsn for the test's own queries.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
