package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

// auditFixture makes a database whose audit log holds a few events, through
// the commands an operator runs, and returns its settings.
func auditFixture(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "c.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if _, _, err := runCmd(t, vars, "admin", "token", "create", name); err != nil {
			t.Fatalf("admin token create: %v", err)
		}
	}
	return vars
}

// rewriteUnkeyed edits event seq of the database and recomputes every later
// hash with plain SHA-256, as someone with the database but not the secret
// file could: the chain then holds together as an unkeyed chain would.
func rewriteUnkeyed(t *testing.T, dbPath string, seq int64) {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_events SET actor = 'forged' WHERE seq = ?`, seq); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT seq, at, actor, action, target, outcome, ip_hash, details, prev_hash FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		e       casegate.AuditEvent
		details sql.NullString
	}
	var all []row
	for rows.Next() {
		var r row
		var at int64
		if err := rows.Scan(&r.e.Seq, &at, &r.e.Actor, &r.e.Action, &r.e.Target, &r.e.Outcome, &r.e.IPHash, &r.details, &r.e.PrevHash); err != nil {
			t.Fatal(err)
		}
		r.e.At = timeFromMicros(at)
		all = append(all, r)
	}
	rows.Close()
	prev := all[0].e.PrevHash
	for _, r := range all {
		if r.e.Seq < seq {
			prev = hashOf(t, db, r.e.Seq)
			continue
		}
		r.e.PrevHash = prev
		if r.details.Valid && r.details.String != "" {
			if err := json.Unmarshal([]byte(r.details.String), &r.e.Details); err != nil {
				t.Fatal(err)
			}
		}
		h := sha256.New()
		h.Write([]byte(prev))
		h.Write(r.e.Canonical())
		prev = hex.EncodeToString(h.Sum(nil))
		if _, err := db.Exec(`UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?`, r.e.PrevHash, prev, r.e.Seq); err != nil {
			t.Fatal(err)
		}
	}
}

func hashOf(t *testing.T, db *sql.DB, seq int64) string {
	t.Helper()
	var h string
	if err := db.QueryRow(`SELECT hash FROM audit_events WHERE seq = ?`, seq).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAuditRewriteWithoutTheKeyIsDetected(t *testing.T) {
	vars := auditFixture(t)
	if out, _, err := runCmd(t, vars, "audit", "verify"); err != nil || !strings.Contains(out, "intact: 5 events") {
		t.Fatalf("audit verify of an untouched log: %v\n%s", err, out)
	}
	rewriteUnkeyed(t, vars["CASEGATE_DB"], 3)
	_, _, err := runCmd(t, vars, "audit", "verify")
	if err == nil || !strings.Contains(err.Error(), "broken at event 3") {
		t.Fatalf("audit verify after an edit with recomputed SHA-256 hashes: %v, want the chain broken at event 3", err)
	}
	if !strings.Contains(err.Error(), "the 2 events before it verify") {
		t.Errorf("audit verify names the wrong count of events before the break: %v", err)
	}
}

func TestAuditCheckpointDetectsTruncation(t *testing.T) {
	vars := auditFixture(t)
	cp, _, err := runCmd(t, vars, "audit", "checkpoint")
	if err != nil {
		t.Fatalf("audit checkpoint: %v", err)
	}
	file := filepath.Join(t.TempDir(), "checkpoints")
	if err := os.WriteFile(file, []byte(cp), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCmd(t, vars, "audit", "verify", "-checkpoint", file); err != nil {
		t.Fatalf("audit verify against its own checkpoint: %v\n%s", err, out)
	}
	// More events after the checkpoint are fine.
	if _, _, err := runCmd(t, vars, "admin", "token", "create", "f"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCmd(t, vars, "audit", "verify", "-checkpoint", file); err != nil {
		t.Fatalf("audit verify after more events: %v\n%s", err, out)
	}
	// Cutting the last three events leaves a chain that holds on its own;
	// the checkpoint says it once went further.
	db, err := sql.Open("sqlite", vars["CASEGATE_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM audit_events WHERE seq >= 4`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out, _, err := runCmd(t, vars, "audit", "verify"); err != nil {
		t.Fatalf("a cut chain still verifies on its own (the reason for checkpoints): %v\n%s", err, out)
	}
	_, _, err = runCmd(t, vars, "audit", "verify", "-checkpoint", file)
	if err == nil || !strings.Contains(err.Error(), "event 5") {
		t.Fatalf("audit verify of a truncated log against a checkpoint at event 5: %v, want a failure naming event 5", err)
	}
}

func TestAuditCheckpointDetectsARewriteBeforeIt(t *testing.T) {
	vars := auditFixture(t)
	cp, _, err := runCmd(t, vars, "audit", "checkpoint")
	if err != nil {
		t.Fatalf("audit checkpoint: %v", err)
	}
	file := filepath.Join(t.TempDir(), "cp")
	if err := os.WriteFile(file, []byte(cp), 0o600); err != nil {
		t.Fatal(err)
	}
	// A forged checkpoint is refused: the signature is over seq, hash and time.
	forged := strings.Replace(cp, `"seq":5`, `"seq":4`, 1)
	if forged == cp {
		t.Fatalf("checkpoint %q has no seq 5", cp)
	}
	forgedFile := filepath.Join(t.TempDir(), "forged")
	if err := os.WriteFile(forgedFile, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, vars, "audit", "verify", "-checkpoint", forgedFile); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("audit verify with an altered checkpoint: %v, want its signature refused", err)
	}
	rewriteUnkeyed(t, vars["CASEGATE_DB"], 2)
	if _, _, err := runCmd(t, vars, "audit", "verify", "-checkpoint", file); err == nil {
		t.Fatal("audit verify -checkpoint after a rewrite of event 2: no error")
	}
}

// timeFromMicros reads a time as the store keeps it: unix microseconds, UTC.
func timeFromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func TestAuditVerifyCountsTheEventsBeforeABreak(t *testing.T) {
	vars := auditFixture(t)
	db, err := sql.Open("sqlite", vars["CASEGATE_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_events SET outcome = 'forged' WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, _, err = runCmd(t, vars, "audit", "verify")
	if err == nil || !strings.Contains(err.Error(), "broken at event 4 (the 3 events before it verify)") {
		t.Fatalf("audit verify after an edit of event 4: %v, want it broken at 4 with 3 verified before", err)
	}
}
