package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// PostgresSchema returns the URL of a fresh, empty schema on the test
// PostgreSQL (testenv.Postgres), with search_path set to it, so that every
// test starts from nothing and tests can run side by side in one database.
// The schema is dropped when the test ends, after the cleanups registered
// later (such as closing the store) have run. Without PostgreSQL it skips t,
// or fails it when CASEGATE_TEST_REQUIRE demands PostgreSQL.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := testenv.Postgres(t)
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		t.Fatalf("%s must be a postgres:// URL for the store tests", testenv.PostgresEnv)
	}
	schema := fresh(t, base, "casegate_test_", "SCHEMA", " CASCADE")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", testenv.PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresDatabase returns the URL of a fresh, empty database on the test
// PostgreSQL, dropped when the test ends (connections to it closed), for
// tests of what works on whole databases: pg_dump and pg_restore. Without
// PostgreSQL it skips t, or fails it when CASEGATE_TEST_REQUIRE demands it.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	base := testenv.Postgres(t)
	name := fresh(t, base, "casegate_db_", "DATABASE", " WITH (FORCE)")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", testenv.PostgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// fresh creates a schema or database (kind) with a new name that starts
// with prefix on the PostgreSQL at base, and drops it, with dropOptions,
// when the test ends, after the cleanups registered later have run.
func fresh(t testing.TB, base, prefix, kind, dropOptions string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(t.Context(), "CREATE "+kind+" "+name); err != nil {
		t.Fatalf("create %s: %v", strings.ToLower(kind), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP "+kind+" "+name+dropOptions); err != nil {
			t.Errorf("drop %s %s: %v", strings.ToLower(kind), name, err)
		}
	})
	return name
}
