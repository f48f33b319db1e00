package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/loadtest"
	"github.com/casegate/casegate/store/storetest"
	"github.com/jackc/pgx/v5"
)

// pgCounts counts the rows people ask about in the database at dsn.
func pgCounts(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	out := map[string]int64{}
	for _, table := range []string{"cases", "parties", "sessions", "audit_events", "admin_tokens", "goose_db_version"} {
		var n int64
		if err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// TestPostgresDumpRestores is the PostgreSQL way of docs/operations.md,
// tested: casegate serves from a fresh database and signs people in;
// pg_dump dumps it in its custom format; pg_restore restores the dump into
// another fresh database; casegate serves from that one with the same
// secret file, every count the same, `casegate audit verify` intact, a
// session made before the dump still reading its case and an admin token
// made before it listing every audit event.
func TestPostgresDumpRestores(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: runs two casegate servers")
	}
	src, dst := storetest.PostgresDatabase(t), storetest.PostgresDatabase(t)
	pgDump, pgRestore := testenv.PgClient(t, "pg_dump"), testenv.PgClient(t, "pg_restore")
	sink, err := loadtest.StartSink()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.key")
	bin := buildCasegate(t)

	live, adminToken := loadedCluster(t, bin, loadEnv(sink, src, secret))
	if _, err := live.command("backup", filepath.Join(dir, "b.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("casegate backup on PostgreSQL: %v, want it to point at pg_dump", err)
	}
	live.start(t, 0)
	t.Cleanup(live.stopAll)
	ids := backupIdentities()
	token := signInThroughSink(t, sink, live.url(0, ""), ids[0])
	for _, who := range ids[1:6] {
		signInThroughSink(t, sink, live.url(0, ""), who)
	}
	live.stopAll() // a quiet database, so that the counts compare exactly
	want := pgCounts(t, src)

	dump := filepath.Join(dir, "casegate.pgdump")
	if out, err := exec.CommandContext(t.Context(), pgDump, "--format=custom", "--no-owner", "--file="+dump, "--dbname="+src).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(t.Context(), pgRestore, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname="+dst, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	if got := pgCounts(t, dst); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("restored counts %v, the dumped database %v", got, want)
	}
	if want["sessions"] < 6 || want["audit_events"] < 2 {
		t.Fatalf("too little in the dumped database to compare: %v", want)
	}

	copied := &cluster{t: t, bin: bin, env: loadEnv(sink, dst, secret)}
	out, err := copied.command("audit", "verify")
	if err != nil || !strings.Contains(out, fmt.Sprintf("audit chain intact: %d events", want["audit_events"])) {
		t.Fatalf("audit verify on the restored database: %v\n%s", err, out)
	}
	copied.start(t, 0)
	t.Cleanup(copied.stopAll)
	meShows(t, copied.url(0, ""), token, ids[0].Receipt)
	if seqs := auditSeqs(t, copied.url(0, ""), adminToken); int64(len(seqs)) < want["audit_events"] {
		t.Errorf("the restored database serves %d audit events, the dump held %d", len(seqs), want["audit_events"])
	}
	copied.stopAll()
	if out, err := copied.command("audit", "verify"); err != nil || !strings.Contains(out, "audit chain intact") {
		t.Fatalf("audit verify after serving from the restored database: %v\n%s", err, out)
	}
}
