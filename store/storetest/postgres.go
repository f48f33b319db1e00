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
	var b [6]byte
	rand.Read(b[:])
	schema := "casegate_test_" + hex.EncodeToString(b[:])
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", testenv.PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
