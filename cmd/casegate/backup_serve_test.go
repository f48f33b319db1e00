package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/loadtest"
	"github.com/casegate/casegate/store"
)

// backupCases is how many cases the backup tests load: one person each.
const backupCases = 24

// backupIdentities are the people of writeCases(t, backupCases).
func backupIdentities() []loadtest.Identity {
	ids := make([]loadtest.Identity, backupCases)
	for i := range ids {
		ids[i] = loadtest.Identity{Receipt: receiptN(i), Given: "Ana", Family: "Prueba", DOB: "1990-04-02", Country: "MX", Email: emailN(i)}
	}
	return ids
}

// loadEnv are the settings of a server that the load generator drives and
// the sink receives the mail of.
func loadEnv(sink *loadtest.Sink, db, secret string) []string {
	env := []string{"CASEGATE_DB=" + db, "CASEGATE_SECRET_FILE=" + secret, "CASEGATE_SMTP_URL=" + sink.URL(),
		"CASEGATE_TRUSTED_PROXIES=127.0.0.1", "CASEGATE_LOG_LEVEL=warn"}
	for _, k := range slices.Sorted(maps.Keys(relaxedLimits)) {
		env = append(env, k+"="+relaxedLimits[k])
	}
	return env
}

// loadedCluster is a cluster with env's settings, its database loaded with
// backupCases cases, and an admin token made; no instance runs yet.
func loadedCluster(t *testing.T, bin string, env []string) (c *cluster, adminToken string) {
	t.Helper()
	c = &cluster{t: t, bin: bin, env: env}
	if out, err := c.command("import", writeCases(t, backupCases)); err != nil || !strings.Contains(out, fmt.Sprintf("%d created", backupCases)) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err := c.command("admin", "token", "create", "ops")
	if err != nil {
		t.Fatal(err)
	}
	return c, strings.TrimSpace(out)
}

// signInThroughSink signs in as who on the server at base, the code coming
// through sink, and returns the session token.
func signInThroughSink(t *testing.T, sink *loadtest.Sink, base string, who loadtest.Identity) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var requestID string
	code, err := sink.Code(ctx, who.Email, func() error {
		r, err := callJSON(ctx, "POST", base+"/api/v1/access-codes", map[string]string{
			"receipt_number": who.Receipt, "given_name": who.Given, "family_name": who.Family,
			"date_of_birth": who.DOB, "country_of_birth": who.Country, "channel": "email",
		}, "X-Forwarded-For", "198.51.100.7")
		if err != nil {
			return err
		}
		if r.status != http.StatusAccepted {
			return fmt.Errorf("code request: %d %v", r.status, r.body)
		}
		requestID, _ = r.body["request_id"].(string)
		return nil
	})
	if err != nil {
		t.Fatalf("sign in as %s: %v", who.Receipt, err)
	}
	r, err := callJSON(ctx, "POST", base+"/api/v1/sessions", map[string]string{"request_id": requestID, "code": code}, "X-Forwarded-For", "198.51.100.7")
	if err != nil || r.status != http.StatusCreated {
		t.Fatalf("redeem as %s: %v %d %v", who.Receipt, err, r.status, r.body)
	}
	token, _ := r.body["token"].(string)
	return token
}

// meShows fails t unless GET /api/v1/me with token shows the case receipt.
func meShows(t *testing.T, base, token, receipt string) {
	t.Helper()
	r, err := callJSON(t.Context(), "GET", base+"/api/v1/me", nil, "Authorization", "Bearer "+token)
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/me with the session made before the backup: %v %d %v", err, r.status, r.body)
	}
	cases, _ := r.body["cases"].([]any)
	for _, c := range cases {
		if m, _ := c.(map[string]any); m["receipt_number"] == receipt {
			return
		}
	}
	t.Fatalf("GET /api/v1/me shows %v, not the case %s", r.body, receipt)
}

// auditSeqs lists the sequence numbers of every audit event through GET
// /admin/v1/audit, page by page, with an admin token.
func auditSeqs(t *testing.T, base, adminToken string) []int64 {
	t.Helper()
	var seqs []int64
	for after := int64(0); ; {
		r, err := callJSON(t.Context(), "GET", fmt.Sprintf("%s/admin/v1/audit?after=%d&limit=1000", base, after), nil, "Authorization", "Bearer "+adminToken)
		if err != nil || r.status != http.StatusOK {
			t.Fatalf("GET /admin/v1/audit with the admin token made before the backup: %v %d %v", err, r.status, r.body)
		}
		events, _ := r.body["events"].([]any)
		if len(events) == 0 {
			return seqs
		}
		for _, e := range events {
			seq, _ := e.(map[string]any)["seq"].(float64)
			seqs = append(seqs, int64(seq))
			after = int64(seq)
		}
	}
}

// TestBackupWhileServingUnderLoad backs up the SQLite database of a
// `casegate serve` process while the load generator signs people in
// against it (four virtual users, each cycle a code request, a mail, a
// redeem and a read), restores the backup elsewhere and serves from it:
//
//   - the load sees no error before, during or after the backup, and goes on
//     after it;
//   - the backup is a snapshot of a moment of the load: its sessions and
//     audit events are at least those on disk when the backup started and
//     at most those when it ended, its cases and parties all that were
//     loaded, and SQLite's integrity check passes;
//   - its checksum file is what sha256sum -c reads; the files are 0600;
//   - restore into a new folder keeps those counts exactly, and
//     `casegate audit verify` finds the chain intact, as many events;
//   - serve runs from the copy: a session made before the backup still
//     reads its case, and an admin token made before it lists the audit
//     log, the snapshot's events all there, with the same secret file.
func TestBackupWhileServingUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: runs two casegate servers and a load against one")
	}
	sink, err := loadtest.StartSink()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dir := t.TempDir()
	db, secret := filepath.Join(dir, "live", "casegate.db"), filepath.Join(dir, "live", "secret.key")
	bin := buildCasegate(t)
	live, adminToken := loadedCluster(t, bin, loadEnv(sink, db, secret))
	live.start(t, 0)
	t.Cleanup(live.stopAll)
	defer func() {
		if t.Failed() {
			t.Log(live.logs())
		}
	}()
	ids := backupIdentities()
	token := signInThroughSink(t, sink, live.url(0, ""), ids[0])

	onDisk := func() store.FileCheck {
		t.Helper()
		c, err := store.CheckSQLite(t.Context(), db)
		if err != nil {
			t.Fatalf("read the live database: %v", err)
		}
		return c
	}
	loadCtx, stopLoad := context.WithCancel(t.Context())
	defer stopLoad()
	type result struct {
		rep loadtest.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := loadtest.Run(loadCtx, loadtest.Config{Target: live.url(0, ""), Concurrency: 4, Duration: 10 * time.Minute,
			Identities: ids[1:], Sink: sink, SpreadIPs: true})
		done <- result{rep, err}
	}()
	// moreSessions waits until the load has made n sessions more than from.
	moreSessions := func(from store.FileCheck, n int64) {
		t.Helper()
		if !testenv.Eventually(60*time.Second, func() bool { return onDisk().Sessions >= from.Sessions+n }) {
			t.Fatalf("the load made fewer than %d sessions in a minute (now %d, from %d)", n, onDisk().Sessions, from.Sessions)
		}
	}
	moreSessions(onDisk(), 20)

	dest := filepath.Join(dir, "backups", "casegate-1.db")
	if err := os.Mkdir(filepath.Dir(dest), 0o700); err != nil {
		t.Fatal(err)
	}
	atStart := onDisk()
	out, err := live.command("backup", dest)
	atEnd := onDisk()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "the secret file is NOT in this backup: restore needs "+secret) {
		t.Errorf("backup does not say the secret file must go with it:\n%s", out)
	}
	moreSessions(atEnd, 20) // the load goes on after the backup
	stopLoad()
	res := <-done
	if res.err != nil || len(res.rep.Errors) > 0 || res.rep.Cycles == 0 {
		t.Fatalf("the load: %v, %d cycles, errors %v", res.err, res.rep.Cycles, res.rep.Errors)
	}
	t.Logf("load: %d cycles at %.1f/s; sessions on disk %d when the backup started, %d when it ended", res.rep.Cycles, res.rep.CyclesPerSecond, atStart.Sessions, atEnd.Sessions)
	live.stopAll()

	snap, err := store.CheckSQLite(t.Context(), dest)
	if err != nil {
		t.Fatalf("the backup: %v", err)
	}
	t.Logf("the backup holds %d sessions and %d audit events", snap.Sessions, snap.AuditEvents)
	if snap.Cases != backupCases || snap.Parties != backupCases {
		t.Errorf("the backup holds %d cases and %d parties, want %d of each", snap.Cases, snap.Parties, backupCases)
	}
	for _, c := range []struct {
		what              string
		got, first, final int64
	}{
		{"sessions", snap.Sessions, atStart.Sessions, atEnd.Sessions},
		{"audit events", snap.AuditEvents, atStart.AuditEvents, atEnd.AuditEvents},
	} {
		if c.got < c.first || c.got > c.final {
			t.Errorf("the backup holds %d %s: not a moment between the backup's start (%d) and end (%d)", c.got, c.what, c.first, c.final)
		}
	}
	sums, err := os.ReadFile(dest + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256Hex(t, dest) + "  casegate-1.db\n"; string(sums) != want {
		t.Errorf("checksum file %q, want %q", sums, want)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", "casegate-1.db.sha256")
		cmd.Dir = filepath.Dir(dest)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "casegate-1.db: OK") {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}
	for _, f := range []string{dest, dest + ".sha256"} {
		if info, err := os.Stat(f); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", f, err, info.Mode())
		}
	}

	// Restore elsewhere, with the same secret file.
	rdb := filepath.Join(dir, "elsewhere", "casegate.db")
	copied := &cluster{t: t, bin: bin, env: loadEnv(sink, rdb, secret)}
	out, err = copied.command("restore", dest)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`the audit chain is intact through event (\d+) \((\d+) events\)`).FindStringSubmatch(out)
	if m == nil || m[2] != strconv.FormatInt(snap.AuditEvents, 10) {
		t.Fatalf("restore says %q, want the chain intact with %d events", out, snap.AuditEvents)
	}
	lastSeq, _ := strconv.ParseInt(m[1], 10, 64)
	restored, err := store.CheckSQLite(t.Context(), rdb)
	if err != nil {
		t.Fatal(err)
	}
	if restored != snap {
		t.Errorf("restored %+v, the backup held %+v", restored, snap)
	}
	if info, err := os.Stat(rdb); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the restored database: %v, mode %v, want 0600", err, info.Mode())
	}
	out, err = copied.command("audit", "verify")
	if err != nil || !strings.Contains(out, fmt.Sprintf("audit chain intact: %d events", snap.AuditEvents)) {
		t.Fatalf("audit verify on the restored copy: %v\n%s", err, out)
	}

	// Serve from the copy.
	copied.start(t, 0)
	t.Cleanup(copied.stopAll)
	meShows(t, copied.url(0, ""), token, ids[0].Receipt)
	var inSnapshot int64
	for _, seq := range auditSeqs(t, copied.url(0, ""), adminToken) {
		if seq <= lastSeq {
			inSnapshot++
		}
	}
	if inSnapshot != snap.AuditEvents {
		t.Errorf("the copy serves %d audit events through event %d, the backup held %d", inSnapshot, lastSeq, snap.AuditEvents)
	}
	after, err := store.CheckSQLite(t.Context(), rdb)
	if err != nil {
		t.Fatal(err)
	}
	if after.Cases != snap.Cases || after.Parties != snap.Parties {
		t.Errorf("the served copy holds %d cases and %d parties, the backup %d and %d", after.Cases, after.Parties, snap.Cases, snap.Parties)
	}
	copied.stopAll()
	if out, err := copied.command("audit", "verify"); err != nil || !strings.Contains(out, "audit chain intact") {
		t.Fatalf("audit verify after serving from the copy: %v\n%s", err, out)
	}
}
