package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
)

func TestLocate(t *testing.T) {
	for _, c := range []struct {
		dsn, shown, file string
		postgres         bool
	}{
		{"/var/lib/casegate/casegate.db", "/var/lib/casegate/casegate.db", "/var/lib/casegate/casegate.db", false},
		{"file:/srv/cg.db?_pragma=busy_timeout(5000)", "/srv/cg.db", "/srv/cg.db", false},
		{"file::memory:?cache=shared", "SQLite in memory", "", false},
		{"postgres://casegate:s3cret-pw@db.internal:6432/portal?sslmode=require&pool_max_conns=8", "postgres://casegate@db.internal:6432/portal", "", true},
		{"postgresql://casegate@10.0.0.5/portal?password=s3cret-pw", "postgres://casegate@10.0.0.5:5432/portal", "", true},
	} {
		loc, err := store.Locate(c.dsn)
		if err != nil {
			t.Errorf("Locate(%q): %v", c.dsn, err)
			continue
		}
		if loc.Shown != c.shown || loc.File != c.file || loc.Postgres != c.postgres {
			t.Errorf("Locate(%q) = %+v, want shown %q, file %q, postgres %v", c.dsn, loc, c.shown, c.file, c.postgres)
		}
		if strings.Contains(loc.Shown, "s3cret") {
			t.Errorf("Locate(%q) shows the password: %q", c.dsn, loc.Shown)
		}
	}
	if _, err := store.Locate("postgres://casegate:s3cret-pw@db:notaport/x"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Locate of a bad URL: %v; want an error without the password", err)
	}
}

// TestSchemaOf reads how far a database is migrated without changing it:
// never migrated (the version table is not created), current, and one
// migration behind; on SQLite through a read-only open.
func TestSchemaOf(t *testing.T) {
	ctx := context.Background()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			var dsn string
			if db == "postgres" {
				dsn = storetest.PostgresSchema(t)
			} else {
				dsn = filepath.Join(t.TempDir(), "casegate.db")
				if _, err := store.OpenToInspect(ctx, dsn); !casegate.IsNotFound(err) {
					t.Fatalf("inspecting a missing SQLite file: %v, want not found", err)
				}
				if _, err := os.Stat(dsn); !os.IsNotExist(err) {
					t.Fatalf("inspecting a missing SQLite file created it: %v", err)
				}
				st, err := store.Open(ctx, dsn) // creates the empty file
				if err != nil {
					t.Fatal(err)
				}
				st.Close()
			}
			schema := func() store.Schema {
				t.Helper()
				st, err := store.OpenToInspect(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				s, err := store.SchemaOf(ctx, st)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			empty := schema()
			if empty.Version != 0 || empty.Latest < 3 || len(empty.Pending) != int(empty.Latest) || empty.Pending[len(empty.Pending)-1] != empty.Latest {
				t.Fatalf("never migrated: %+v, want version 0 and every migration pending", empty)
			}
			if again := schema(); again.Version != 0 || !slices.Equal(again.Pending, empty.Pending) {
				t.Errorf("read again: %+v; the first read changed the database", again)
			}

			st, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if s := schema(); s.Version != empty.Latest || s.Latest != empty.Latest || len(s.Pending) != 0 {
				t.Errorf("migrated: %+v, want version %d with nothing pending", s, empty.Latest)
			}
			raw := dsn
			driver := "sqlite"
			if db == "postgres" {
				driver = "pgx"
			}
			conn, err := sql.Open(driver, raw)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
				t.Fatal(err)
			}
			if s := schema(); s.Version != empty.Latest-1 || !slices.Equal(s.Pending, []int64{empty.Latest}) {
				t.Errorf("one behind: %+v, want version %d with %d pending", s, empty.Latest-1, empty.Latest)
			}
		})
	}
}
